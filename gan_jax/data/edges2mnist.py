"""``edges2mnist``: pix2pix's edges -> image task on the 5,000 MNIST digits of ``mnist5k``
(offline, deterministic).

Each example is an aligned pair: input ``a`` = the digit's edge map, target ``b`` = the digit,
label ``y`` = its class. The edge operator is fixed (``sobel_edges``): with I = pixel / 255 in
[0, 1] and zero padding outside the image,

  Gx = I * [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],  Gy = I * Gx's kernel transposed (correlation)
  edge = 255 where sqrt(Gx^2 + Gy^2) >= EDGE_THRESHOLD (1.0), else 0

(a step from 0 to 1 gives a magnitude up to 4: the threshold keeps both sides of every stroke's
border, so the map is the outline of each stroke).

Splits: the digits are stored sorted by class, 500 each; ``test`` is every 10th one (indices
9, 19, ...: 50 per class, 500), ``train`` the other 4,500. ``pad`` pixels of background (0) are
added on every side of both images: the default 2 makes the 28x28 digits 32x32, the size the
U-Net's halvings need (gan_jax/models/translation/unet.py: 2^num_downs must divide it).

Batches are ``{'a': float32 (b, H, W, 1), 'b': float32 (b, H, W, 1), 'y': int32 (b,)}``, pixels
in [-1, 1] (x / 127.5 - 1), in the order of ``order.example_indices`` (a pure function of seed
and step). ``get(indices)`` is the targets (what FID and the sample grids' real rows compare to).
"""

from __future__ import annotations

import functools

import numpy as np

from gan_jax.data.mnist5k import load_arrays
from gan_jax.data.source import Source, to_unit_range

EDGE_THRESHOLD = 1.0  # Sobel magnitude on [0, 1] pixels
TEST_EVERY = 10  # the test split: every 10th digit (index % 10 == 9)
SPLITS = ('train', 'test')


def sobel_edges(images: np.ndarray) -> np.ndarray:
  """uint8 (N, H, W, 1) digits -> uint8 (N, H, W, 1) edge maps (0 or 255), the operator of the
  module docstring."""
  x = np.pad(np.asarray(images, np.float32)[..., 0] / 255.0, ((0, 0), (1, 1), (1, 1)))
  h, w = images.shape[1:3]
  at = lambda dy, dx: x[:, 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]
  gx = (at(-1, 1) + 2 * at(0, 1) + at(1, 1)) - (at(-1, -1) + 2 * at(0, -1) + at(1, -1))
  gy = (at(1, -1) + 2 * at(1, 0) + at(1, 1)) - (at(-1, -1) + 2 * at(-1, 0) + at(-1, 1))
  edges = np.hypot(gx, gy) >= EDGE_THRESHOLD
  return (edges.astype(np.uint8) * 255)[..., None]


def split_indices(split: str, n: int) -> np.ndarray:
  """Indices of `split`'s examples among the `n` digits (module docstring)."""
  test = np.arange(n) % TEST_EVERY == TEST_EVERY - 1
  return np.flatnonzero(test if split == 'test' else ~test)


@functools.lru_cache(maxsize=4)
def pairs(split: str, pad: int):
  """(edges, digits, labels) of `split`, padded: uint8, uint8, int64; read-only, cached."""
  images, labels = load_arrays()
  idx = split_indices(split, len(images))
  digits = np.pad(images[idx], ((0, 0), (pad, pad), (pad, pad), (0, 0)))
  out = (sobel_edges(digits), digits, labels[idx].copy())
  for a in out:
    a.flags.writeable = False
  return out


class PairedSource(Source):
  """Aligned uint8 image pairs (a, b) with labels: batches {'a', 'b', 'y'} (module docstring)."""

  is_image = True

  def __init__(self, a: np.ndarray, b: np.ndarray, labels: np.ndarray | None = None):
    if a.shape[0] != b.shape[0] or a.dtype != np.uint8 or b.dtype != np.uint8:
      raise ValueError(f'need aligned uint8 pairs, got {a.dtype} {a.shape}, {b.dtype} {b.shape}')
    self.a, self.b, self.labels = a, b, labels
    self.shape, self.input_shape = tuple(b.shape[1:]), tuple(a.shape[1:])
    self.num_examples = int(b.shape[0])

  def get(self, indices: np.ndarray) -> np.ndarray:
    return to_unit_range(self.b[indices])

  def get_batch(self, indices: np.ndarray) -> dict:
    batch = {'a': to_unit_range(self.a[indices]), 'b': to_unit_range(self.b[indices])}
    if self.labels is not None:
      batch['y'] = np.asarray(self.labels[indices], dtype=np.int32)
    return batch


def edges2mnist(split: str = 'train', pad: int = 2) -> PairedSource:
  """The edges -> digit pairs of `split` ('train': 4,500, 'test': 500), `pad` pixels of
  background around each image (2: 32x32)."""
  if split not in SPLITS:
    raise ValueError(f"edges2mnist has splits 'train' and 'test', got data.split={split!r}")
  if not isinstance(pad, int) or isinstance(pad, bool) or pad < 0:
    raise ValueError(f'pad={pad!r}: must be an integer >= 0')
  return PairedSource(*pairs(split, pad))
