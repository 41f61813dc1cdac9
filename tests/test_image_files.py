"""gan_jax/data/image_files.py: listing order, decoding, channels, crop and resize."""

import os

import numpy as np
import pytest
from PIL import Image

from gan_jax.data import image_files


def _save(path, pixels, mode=None):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  Image.fromarray(pixels, mode).save(path)


def test_list_images_is_recursive_sorted_and_skips_other_files(tmp_path):
  grey = np.zeros((4, 4), np.uint8)
  for rel in ('b/2.png', 'a/10.jpg', 'a/9.PNG', 'top.png', '.hidden.png', 'notes.txt'):
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if rel.endswith('.txt'):
      path.write_text('x')
    else:
      Image.fromarray(grey).save(path, format='PNG' if 'jp' not in rel else 'JPEG')
  assert image_files.list_images(str(tmp_path)) == ['a/10.jpg', 'a/9.PNG', 'b/2.png', 'top.png']


def test_read_image_keeps_or_converts_channels(tmp_path):
  rgb = np.random.default_rng(0).integers(0, 256, (5, 6, 3), dtype=np.uint8)
  _save(str(tmp_path / 'rgb.png'), rgb)
  _save(str(tmp_path / 'grey.png'), rgb[..., 0])
  assert np.array_equal(image_files.read_image(str(tmp_path / 'rgb.png')), rgb)
  grey = image_files.read_image(str(tmp_path / 'grey.png'))
  assert grey.shape == (5, 6, 1) and np.array_equal(grey[..., 0], rgb[..., 0])
  assert image_files.file_channels(str(tmp_path / 'grey.png')) == 1
  as_grey = image_files.read_image(str(tmp_path / 'rgb.png'), channels=1)
  luma = rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
  assert as_grey.shape == (5, 6, 1) and np.abs(as_grey[..., 0] - luma).max() <= 1
  assert np.array_equal(image_files.read_image(str(tmp_path / 'grey.png'), 3)[..., 2], rgb[..., 0])


def test_truncated_and_garbage_files_are_unreadable(tmp_path):
  rgb = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
  _save(str(tmp_path / 'whole.png'), rgb)
  data = (tmp_path / 'whole.png').read_bytes()
  (tmp_path / 'cut.png').write_bytes(data[: len(data) // 2])
  (tmp_path / 'junk.jpg').write_bytes(b'not an image')
  for name in ('cut.png', 'junk.jpg'):
    with pytest.raises(image_files.UnreadableImage, match=name):
      image_files.read_image(str(tmp_path / name))


def test_center_crop_resize_takes_the_centred_square_then_shrinks_antialiased():
  wide = np.zeros((4, 8, 1), np.uint8)
  wide[:, 2:6] = 200  # the centred 4x4 square is all 200; the sides are 0
  assert np.array_equal(image_files.center_crop_resize(wide, 4), np.full((4, 4, 1), 200))
  stripes = np.zeros((64, 64, 3), np.uint8)
  stripes[:, ::2] = 255  # one-pixel stripes: an antialiased 4x shrink averages them to grey
  small = image_files.center_crop_resize(stripes, 16)
  inner = small[2:-2, 2:-2].astype(int)  # the border rows/columns see the edge clamp
  assert small.shape == (16, 16, 3) and np.abs(inner - 128).max() <= 1
