"""Tests for gan_jax.images: grid shapes and PNG/scatter writers."""

import numpy as np
import pytest
from PIL import Image

from gan_jax.images import image_grid, save_image_grid, save_samples, save_scatter


def test_grid_shape_and_values():
  imgs = np.full((10, 8, 6, 3), -1.0, np.float32)
  grid = image_grid(imgs)  # 4 cols x 3 rows, pad 2
  assert grid.shape == (3 * (8 + 2) + 2, 4 * (6 + 2) + 2, 3) and grid.dtype == np.uint8
  assert grid[2, 2, 0] == 0 and grid[0, 0, 0] == 255
  assert image_grid(np.ones((4, 5, 5, 1)), ncols=4).shape == (5 + 4, 4 * 7 + 2, 1)
  with pytest.raises(ValueError):
    image_grid(np.zeros((2, 5, 5, 2)))


@pytest.mark.parametrize("channels", [1, 3])
def test_save_image_grid(tmp_path, channels):
  path = tmp_path / "sub" / "grid.png"
  imgs = np.random.default_rng(0).uniform(-1, 1, (16, 28, 28, channels))
  save_image_grid(imgs, path)
  with Image.open(path) as im:
    assert im.size == (4 * 30 + 2, 4 * 30 + 2)
    assert im.mode == ("L" if channels == 1 else "RGB")


def test_scatter_and_save_samples(tmp_path):
  pts = np.random.default_rng(0).normal(size=(200, 2))
  modes = np.array([[0.0, 0.0], [1.0, 1.0]])
  save_scatter(pts, tmp_path / "a" / "s.png", modes=modes, title="step 0")
  with Image.open(tmp_path / "a" / "s.png") as im:
    assert im.format == "PNG" and min(im.size) > 100
  save_samples(pts, tmp_path / "b.png", modes=modes)
  save_samples(np.zeros((3, 4, 4, 1)), tmp_path / "c.png")
  assert (tmp_path / "b.png").stat().st_size > 0 and (tmp_path / "c.png").stat().st_size > 0
  with pytest.raises(ValueError):
    save_samples(np.zeros((3, 3)), tmp_path / "d.png")
