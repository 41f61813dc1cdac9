"""Samples made elsewhere, read for the metrics (`experiments.evaluate --samples=`).

`read_samples(path, size=None, channels=None, progress=None) -> Samples`: the images as float32
(N, H, W, C) in [-1, 1], the generator's range, held in memory (N*H*W*C*4 bytes), from

- FILE.npy: the array; FILE.npz: its key 'x', else 'arr_0', else its only key;
- DIR: the image files under DIR, recursively, in gan_jax/data/image_files.py's order and
  decoding (`list_images`, `read_image`: the reader of the folder dataset too); their channels
  are the run's `channels`, else those of the first file.

Arrays are read by dtype: uint8 is pixels 0..255 (one whose maximum is <= 1 is refused: [0, 1]
pixels stored as uint8); floats are the generator's [-1, 1] (values outside it by more than 1e-3
are refused; an array all in [0, 1] is read as [-1, 1] with a warning); any other dtype is
refused. Layout: (N, H, W, C) with C 1 or 3; (N, C, H, W) with C 1 or 3 and a last axis that is
neither (torch's layout) is transposed to NHWC; (N, H, W) is greyscale. An array's channels must
be the run's `channels` where given.

With `size` (the run's image size), an image of another size is cropped to its centred square
and resized to `size` x `size` by `image_files.center_crop_resize` (Pillow bicubic, antialiased),
on its uint8 pixels (floats are quantised first as the PNG writer does); `Samples.resized`
counts them. Without `size`, all images must have one size. uint8 pixels u become u / 127.5 - 1,
which the metrics quantise back to exactly u: an array and the folder of its PNGs score the same.
Problems are ValueError, one line.
"""

import os
import sys
import zipfile
from typing import NamedTuple

import numpy as np

from gan_jax.data import image_files
from gan_jax.data.source import to_unit_range

FLOAT_SLACK = 1e-3  # how far outside [-1, 1] float samples may stray (rounding)


class Samples(NamedTuple):
  images: np.ndarray  # float32 (N, H, W, C) in [-1, 1]
  source: str  # the absolute path read
  resized: int  # how many images were fitted to `size`


def _npz_array(path, f):
  keys = list(f.files)
  key = next((k for k in ('x', 'arr_0') if k in keys), keys[0] if len(keys) == 1 else None)
  if key is None:
    raise ValueError(f"{path}: no key 'x' or 'arr_0' and {len(keys)} keys: {', '.join(keys)}")
  return f[key]


def _load_array(path):
  try:
    f = np.load(path, allow_pickle=False)
  except (OSError, zipfile.BadZipFile, EOFError, ValueError) as e:
    raise ValueError(f'{path}: cannot be read as .npy or .npz: {e}') from None
  if not hasattr(f, 'files'):
    return f
  with f:
    return _npz_array(path, f)


def _nhwc(path, x):
  if x.ndim == 3:
    x = x[..., None]
  if x.ndim == 4 and x.shape[-1] not in (1, 3) and x.shape[1] in (1, 3):
    x = x.transpose(0, 2, 3, 1)  # NCHW
  if x.ndim != 4 or x.shape[-1] not in (1, 3):
    raise ValueError(f'{path}: shape {x.shape}: expected images (N, H, W, C) with C 1 or 3')
  return x


def _pixels_or_floats(path, x):
  """uint8 pixels, or float32 in [-1, 1]; ValueError for anything else."""
  if x.dtype == np.uint8:
    if x.size and x.max() <= 1:
      raise ValueError(f'{path}: uint8 values all in [0, 1]: expected pixels 0..255')
    return x
  if not np.issubdtype(x.dtype, np.floating):
    raise ValueError(f'{path}: dtype {x.dtype}: expected uint8 pixels or floats in [-1, 1]')
  lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
  if not (np.isfinite(lo) and np.isfinite(hi)) or lo < -1 - FLOAT_SLACK or hi > 1 + FLOAT_SLACK:
    raise ValueError(
        f'{path}: float values in [{lo:.4g}, {hi:.4g}]: expected [-1, 1] '
        '(pixels 0..255 must be uint8)'
    )
  if lo >= 0:
    print(f'warning: {path}: float values all in [0, 1], read as [-1, 1]', file=sys.stderr)
  return x.astype(np.float32)


def _read_folder(path, channels, progress):
  names = image_files.list_images(path)
  if not names:
    raise ValueError(f'{path}: no image files in it')
  channels = channels or image_files.file_channels(os.path.join(path, names[0]))
  report = progress and progress(f'Reading {path}', len(names))
  images = []
  for name in names:
    images.append(image_files.read_image(os.path.join(path, name), channels))
    if report:
      report(len(images))
  return images


def _fitted(path, images, size):
  """(images as one array, how many were resized): each to `size` where it differs."""
  if size is None:
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
      raise ValueError(f'{path}: images of several sizes {sorted(shapes)[:3]}: give a --workdir')
    return np.stack(images), 0
  fit = lambda u: image_files.center_crop_resize(u, size)
  out = [im if im.shape[:2] == (size, size) else fit(im) for im in images]
  return np.stack(out), sum(im.shape[:2] != (size, size) for im in images)


def _to_unit(x):
  return x if x.dtype != np.uint8 else to_unit_range(x)


def read_samples(path, size=None, channels=None, progress=None) -> Samples:
  """The samples at `path` (see the module docstring); `progress(label, total)` -> report(done)
  hears how reading a folder advances."""
  source = os.path.abspath(path)
  if os.path.isdir(path):
    images, resized = _fitted(path, _read_folder(path, channels, progress), size)
  elif not os.path.isfile(path):
    raise ValueError(f'{path}: no such file or folder')
  else:
    x = _pixels_or_floats(path, _nhwc(path, _load_array(path)))
    if channels is not None and x.shape[-1] != channels:
      raise ValueError(f'{path}: {x.shape[-1]} channels, the run has {channels}')
    if size is None or x.shape[1:3] == (size, size):
      images, resized = x, 0
    else:
      from gan_jax.metrics.inception import to_uint8  # pylint: disable=g-import-not-at-top

      images, resized = _fitted(path, list(x if x.dtype == np.uint8 else to_uint8(x)), size)
  if len(images) < 2:
    raise ValueError(f'{path}: {len(images)} image(s): the metrics need >= 2')
  return Samples(_to_unit(images), source, resized)
