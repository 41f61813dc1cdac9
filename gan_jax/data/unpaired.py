"""Unpaired translation tasks (CycleGAN): two image domains A and B, no pairs seen in training
(offline, deterministic).

  mnist2negative  A = MNIST digits, B = negatives (255 - x) of *other* MNIST digits
  mnist2digits    A = MNIST digits, B = scikit-learn's 1,797 8x8 UCI handwritten digits
                  (`sklearn.datasets.load_digits`), upscaled to the MNIST frame (`uci_digits`)

The MNIST digits are the 5,000 of ``mnist5k``, stored sorted by class, 500 each; ``test`` is every
10th one (indices 9, 19, ...: 500, as edges2mnist's), ``train`` the other 4,500. mnist2negative
splits the training digits in two halves by position (even -> A, odd -> B: 2,250 each, 225 per
class), so no digit is ever in both domains; its test split is aligned: B[i] = 255 - A[i], the
true counterpart of every test image is known (pixel scores, metrics/cycle.py). mnist2digits's
B: the UCI digits in their stored order, every 10th (index % 10 == 9: 179) the test split, the
other 1,618 training; its test split is not aligned (500 A, 179 B).

Batches (training) are ``{'a': float32 (b, H, W, 1), 'b': float32 (b, H, W, 1), 'ya', 'yb':
int32 (b,)}``, pixels in [-1, 1] (x / 127.5 - 1). A's examples follow ``order.example_indices``
with seed 2 * seed, B's with 2 * seed + 1: two independent orders, each a pure function of
(seed, step). ``pad`` pixels of background (0; 255 for the negatives) surround every image.
``classifier_view(domain, x)``: domain images as the MNIST classifier reads them (the negatives
negated back: in [-1, 1], 255 - x is -x up to float32 rounding).
"""

from __future__ import annotations

import functools

import numpy as np

from gan_jax.data.edges2mnist import split_indices
from gan_jax.data.mnist5k import load_arrays
from gan_jax.data.order import example_indices, local_slice
from gan_jax.data.source import Source, to_unit_range

SPLITS = ('train', 'test')
UCI_BOX = 20  # the UCI digits are resized to 20x20, MNIST's digit box, then padded to 28x28
MNIST_SIZE = 28


def uci_digits() -> tuple[np.ndarray, np.ndarray]:
  """uint8 (1797, 28, 28, 1) digits and int64 labels: sklearn's 8x8 digits (values 0..16) as
  round(v * 255 / 16), resized by PIL's bicubic filter to 20x20 (clipped to [0, 255]), then
  padded with 4 pixels of 0 on every side to 28x28 (MNIST's 20x20 box in its 28x28 frame)."""
  from PIL import Image  # pylint: disable=g-import-not-at-top
  from sklearn.datasets import load_digits  # pylint: disable=g-import-not-at-top

  digits = load_digits()
  small = np.round(np.asarray(digits.images, np.float64) * 255.0 / 16.0).astype(np.uint8)
  size = (UCI_BOX, UCI_BOX)
  big = np.stack([np.asarray(Image.fromarray(x).resize(size, Image.BICUBIC)) for x in small])
  pad = (MNIST_SIZE - UCI_BOX) // 2
  frame = np.pad(big, ((0, 0), (pad, pad), (pad, pad)))
  return frame[..., None].astype(np.uint8), np.asarray(digits.target, np.int64)


def _padded(images, pad, value=0):
  return np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)), constant_values=value)


def _frozen(*arrays):
  for a in arrays:
    a.flags.writeable = False
  return arrays


@functools.lru_cache(maxsize=4)
def negative_domains(split: str, pad: int):
  """(a, b, ya, yb) of mnist2negative's `split` (module docstring); read-only, cached."""
  images, labels = load_arrays()
  idx = split_indices(split, len(images))
  ia, ib = (idx, idx) if split == 'test' else (idx[0::2], idx[1::2])
  a = _padded(images[ia], pad)
  b = _padded(255 - images[ib], pad, 255)
  return _frozen(a, b, labels[ia].copy(), labels[ib].copy())


@functools.lru_cache(maxsize=4)
def digits_domains(split: str, pad: int):
  """(a, b, ya, yb) of mnist2digits's `split` (module docstring); read-only, cached."""
  images, labels = load_arrays()
  ia = split_indices(split, len(images))
  uci, uci_labels = uci_digits()
  ib = split_indices(split, len(uci))
  a, b = _padded(images[ia], pad), _padded(uci[ib], pad)
  return _frozen(a, b, labels[ia].copy(), uci_labels[ib].copy())


class UnpairedSource(Source):
  """Two uint8 image domains (a, b) with labels: batches {'a', 'b', 'ya', 'yb'} in two
  independent orders (module docstring). `aligned`: b[i] is a[i]'s true counterpart (a test
  split whose translations can be scored pixel by pixel)."""

  is_image = True

  def __init__(self, a, b, ya=None, yb=None, aligned=False, negative_b=False):
    if a.dtype != np.uint8 or b.dtype != np.uint8 or a.shape[1:] != b.shape[1:]:
      shapes = f'{a.dtype} {a.shape}, {b.dtype} {b.shape}'
      raise ValueError(f'need uint8 images of one shape, got {shapes}')
    if aligned and len(a) != len(b):
      raise ValueError(f'aligned domains need as many images: {len(a)} and {len(b)}')
    self.a, self.b, self.ya, self.yb = a, b, ya, yb
    self.aligned, self.negative_b = aligned, negative_b
    self.shape = self.input_shape = tuple(b.shape[1:])
    self.num_examples = int(min(len(a), len(b)))
    self.sizes = {'a': int(len(a)), 'b': int(len(b))}

  def get(self, indices: np.ndarray) -> np.ndarray:
    return to_unit_range(self.b[indices])

  def domain(self, name: str, n: int | None = None):
    """(float32 images in [-1, 1], labels or None): `n` of domain `name` ('a' or 'b'), evenly
    spaced (indices i * N // n, i < n, of its N: every class of a class-sorted split; all for
    None or n >= N). Aligned domains give the same indices for both."""
    images, labels = (self.a, self.ya) if name == 'a' else (self.b, self.yb)
    total = len(images)
    idx = np.arange(total) if n is None or n >= total else np.arange(n) * total // n
    return to_unit_range(images[idx]), None if labels is None else np.asarray(labels[idx])

  def classifier_view(self, name: str, x: np.ndarray) -> np.ndarray:
    """Domain `name`'s images `x` (in [-1, 1]) as the MNIST classifier reads them."""
    return -x if name == 'b' and self.negative_b else x

  def batch(self, seed, step, batch_size, process_index=0, process_count=1) -> dict:
    rows = local_slice(batch_size, process_index, process_count)
    ia = example_indices(2 * seed, step, batch_size, self.sizes['a'])[rows]
    ib = example_indices(2 * seed + 1, step, batch_size, self.sizes['b'])[rows]
    out = {'a': to_unit_range(self.a[ia]), 'b': to_unit_range(self.b[ib])}
    for key, labels, idx in (('ya', self.ya, ia), ('yb', self.yb, ib)):
      if labels is not None:
        out[key] = np.asarray(labels[idx], dtype=np.int32)
    return out


def _checked(task, split, pad):
  if split not in SPLITS:
    raise ValueError(f"{task} has splits 'train' and 'test', got data.split={split!r}")
  if not isinstance(pad, int) or isinstance(pad, bool) or pad < 0:
    raise ValueError(f'pad={pad!r}: must be an integer >= 0')


def mnist2negative(split: str = 'train', pad: int = 0) -> UnpairedSource:
  """MNIST digits (A) and negatives of other digits (B) of `split` ('train': 2,250 each; 'test':
  500 aligned pairs), `pad` pixels of background around each image (0: 28x28)."""
  _checked('mnist2negative', split, pad)
  return UnpairedSource(*negative_domains(split, pad), aligned=split == 'test', negative_b=True)


def mnist2digits(split: str = 'train', pad: int = 0) -> UnpairedSource:
  """MNIST digits (A: 4,500 train, 500 test) and the UCI digits upscaled to 28x28 (B: 1,618
  train, 179 test) of `split`, `pad` pixels of background around each image (0: 28x28)."""
  _checked('mnist2digits', split, pad)
  return UnpairedSource(*digits_domains(split, pad))


# the datasets CycleGAN trains on (train.py); unaligned_folder: translation_folders.py
UNPAIRED = ('mnist2negative', 'mnist2digits', 'unaligned_folder')
