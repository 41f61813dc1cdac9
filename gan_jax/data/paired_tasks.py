"""The paired translation tasks beside ``edges2mnist`` (offline, deterministic; pix2pix's data):

- ``sr_mnist``: 4x super-resolution of the ``mnist5k`` digits. Target ``b`` = the 28x28 digit;
  its 7x7 low-resolution version is the mean of each 4x4 block (area downsampling), and the
  input ``a`` is that 7x7 image upsampled back to 28x28 by PIL's bicubic filter (Keys' cubic,
  a = -0.5), rounded to uint8: the **bicubic baseline** is ``a`` itself, scored against ``b``
  (pix2pix's generators map an image to an image of the same size, as SRGAN-style methods that
  refine a bicubic upsampling do).
- ``inpaint_mnist``: the centre ``hole`` x ``hole`` (default 14x14) of each 28x28 digit set to
  mid-grey 128 (neither background 0 nor ink 255, so the hole is visible to G, as Context
  Encoders fill it with a constant); target ``b`` = the whole digit.
- ``edges2fashion``: ``edges2mnist``'s task on Fashion-MNIST garments: the first ``num``
  (default 5,000) images of the IDX training file in ``data_dir`` (Debian's
  ``dataset-fashion-mnist``: /usr/share/datasets/fashion-mnist), edge maps by the same fixed
  Sobel operator (``edges2mnist.sobel_edges``). Its pairs carry no labels ``y``: the class
  accuracy of outputs is the shipped MNIST classifier's, which knows digits, not garments.

Splits as ``edges2mnist``'s: ``test`` is every 10th example (indices 9, 19, ...), ``train`` the
rest; ``pad`` pixels of background (0) on every side of both images (default 2: 32x32, what the
U-Net's halvings need). Batches ``{'a', 'b', 'y'}`` (``{'a', 'b'}`` for garments) in [-1, 1]
(``edges2mnist.PairedSource``).
"""

from __future__ import annotations

import functools

import numpy as np
from PIL import Image

from gan_jax.data.edges2mnist import SPLITS, PairedSource, sobel_edges, split_indices
from gan_jax.data.idx import IMAGES_MAGIC, find_file, read_idx
from gan_jax.data.mnist5k import load_arrays

SR_FACTOR = 4  # 28 -> 7
INPAINT_GREY = 128
FASHION_DIR = '/usr/share/datasets/fashion-mnist'


def area_downsample(images: np.ndarray, factor: int) -> np.ndarray:
  """uint8 (N, H, W, 1) -> float32 (N, H/f, W/f, 1): the mean of each f x f block."""
  n, h, w, c = images.shape
  x = np.asarray(images, np.float32).reshape(n, h // factor, factor, w // factor, factor, c)
  return x.mean(axis=(2, 4))


def bicubic_upsample(images: np.ndarray, size: int) -> np.ndarray:
  """float32 (N, h, w, 1) -> uint8 (N, size, size, 1): PIL's bicubic resize of each image
  (mode 'F', no clipping inside), then rounded and clipped to [0, 255]."""
  out = [
      np.asarray(Image.fromarray(im[..., 0], mode='F').resize((size, size), Image.BICUBIC))
      for im in np.asarray(images, np.float32)
  ]
  return np.clip(np.rint(np.stack(out)), 0, 255).astype(np.uint8)[..., None]


def mask_centre(images: np.ndarray, hole: int) -> np.ndarray:
  """uint8 (N, H, W, 1) with the centre hole x hole set to INPAINT_GREY."""
  out = np.array(images, copy=True)
  h, w = out.shape[1:3]
  top, left = (h - hole) // 2, (w - hole) // 2
  out[:, top : top + hole, left : left + hole] = INPAINT_GREY
  return out


def _padded(arrays, pad):
  return [np.pad(a, ((0, 0), (pad, pad), (pad, pad), (0, 0))) for a in arrays]


def _frozen(*arrays):
  for a in arrays:
    a.flags.writeable = False
  return arrays


def _check(name, split, pad):
  if split not in SPLITS:
    raise ValueError(f"{name} has splits 'train' and 'test', got data.split={split!r}")
  if not isinstance(pad, int) or isinstance(pad, bool) or pad < 0:
    raise ValueError(f'pad={pad!r}: must be an integer >= 0')


@functools.lru_cache(maxsize=4)
def _sr_pairs(split, pad):
  images, labels = load_arrays()
  idx = split_indices(split, len(images))
  digits = images[idx]
  low = bicubic_upsample(area_downsample(digits, SR_FACTOR), digits.shape[1])
  return _frozen(*_padded((low, digits), pad), labels[idx].copy())


@functools.lru_cache(maxsize=4)
def _inpaint_pairs(split, pad, hole):
  images, labels = load_arrays()
  idx = split_indices(split, len(images))
  digits = images[idx]
  return _frozen(*_padded((mask_centre(digits, hole), digits), pad), labels[idx].copy())


@functools.lru_cache(maxsize=4)
def _fashion_pairs(split, pad, data_dir, num):
  path = find_file(data_dir, 'train', 'images', 3)
  if path is None:
    raise FileNotFoundError(
        f'no train-images-idx3-ubyte in {data_dir!r} (Debian: apt install dataset-fashion-mnist)'
    )
  images = read_idx(path, IMAGES_MAGIC)[:num, :, :, None]
  garments = _padded((images[split_indices(split, len(images))],), pad)[0]
  return (*_frozen(sobel_edges(garments), garments), None)


def sr_mnist(split: str = 'train', pad: int = 2) -> PairedSource:
  """Bicubic-upsampled 7x7 -> 28x28 digit pairs of `split` (module docstring)."""
  _check('sr_mnist', split, pad)
  return PairedSource(*_sr_pairs(split, pad))


def inpaint_mnist(split: str = 'train', pad: int = 2, hole: int = 14) -> PairedSource:
  """Digits with their centre hole x hole grey -> the digits (module docstring)."""
  _check('inpaint_mnist', split, pad)
  if not isinstance(hole, int) or isinstance(hole, bool) or not 0 < hole <= 28:
    raise ValueError(f'hole={hole!r}: must be an integer in 1..28')
  return PairedSource(*_inpaint_pairs(split, pad, hole))


def edges2fashion(
    split: str = 'train', pad: int = 2, data_dir: str = FASHION_DIR, num: int = 5000
) -> PairedSource:
  """Edge maps -> Fashion-MNIST garments (module docstring)."""
  _check('edges2fashion', split, pad)
  if not isinstance(num, int) or isinstance(num, bool) or num < 10:
    raise ValueError(f'num={num!r}: must be an integer >= 10')
  return PairedSource(*_fashion_pairs(split, pad, data_dir, num))
