"""The ``Source`` interface every dataset builder returns.

- ``shape``: one example's shape ((H, W, C) for images, (2,) for points).
- ``num_examples``: int, or None for infinite sources.
- ``is_image``: bool.  ``labels``: int array aligned with examples, or None;
  ``num_classes``: how many classes the labels take (0 for unlabeled data).
- ``batch(seed, step, batch_size, process_index=0, process_count=1)``: a dict
  pytree ``{'x': float32 (b, *shape), 'y': int32 (b,)}`` (``'y'`` only for
  labeled data), b = batch_size // process_count: this process's rows of global
  batch ``step``; a pure function of (seed, step, batch_size).  Images are in
  [-1, 1] (x / 127.5 - 1).  Finite sources follow ``order.example_indices``.
- ``pixel_means()``: float64 array of ``shape``, each pixel's mean over every example in [0, 1]
  units ((x + 1) / 2 of images; the 2014 GAN code's ``init_sigmoid_bias_from_marginals`` reads
  it).
"""

from __future__ import annotations

import numpy as np

from gan_jax.data.order import example_indices, local_slice


def to_unit_range(images: np.ndarray) -> np.ndarray:
  """uint8 [0, 255] -> float32 [-1, 1]."""
  return np.asarray(images, dtype=np.float32) / np.float32(127.5) - np.float32(1.0)


class Source:
  """Base class: finite sources implement ``get(indices)``; infinite ones override ``batch``."""

  shape: tuple[int, ...] = ()
  num_examples: int | None = None
  is_image: bool = False
  labels: np.ndarray | None = None

  def get(self, indices: np.ndarray) -> np.ndarray:
    """float32 examples at ``indices`` (already scaled)."""
    raise NotImplementedError

  @property
  def num_classes(self) -> int:
    labels = self.labels
    return 0 if labels is None or not len(labels) else int(np.max(labels)) + 1

  def contents(self) -> dict:
    """What was read, for the run's data.json (the folder dataset: count, classes, content
    hash); {} for data that are the same wherever they are read."""
    return {}

  def pixel_means(self, chunk: int = 10_000) -> np.ndarray:
    """Each pixel's mean over all examples, in [0, 1] units: mean((x + 1) / 2), read ``chunk``
    examples at a time. ValueError for points or an infinite source."""
    if not self.is_image or self.num_examples is None:
      raise ValueError(f"pixel means need a finite image dataset, not {self!r}")
    total = np.zeros(self.shape, np.float64)
    for start in range(0, self.num_examples, chunk):
      x = self.get(np.arange(start, min(start + chunk, self.num_examples)))
      total += np.sum(x, axis=0, dtype=np.float64)
    return (total / self.num_examples + 1) / 2

  def get_batch(self, indices: np.ndarray) -> dict:
    """``{'x': examples, 'y': int32 labels}`` at ``indices`` (``'y'`` only for labeled data)."""
    batch = {"x": self.get(indices)}
    if self.labels is not None:
      batch["y"] = np.asarray(self.labels[indices], dtype=np.int32)
    return batch

  def batch(
      self, seed: int, step: int, batch_size: int, process_index: int = 0, process_count: int = 1
  ) -> dict:
    rows = local_slice(batch_size, process_index, process_count)
    idx = example_indices(seed, step, batch_size, self.num_examples)[rows]
    return self.get_batch(idx)

  def __repr__(self) -> str:
    return (
        f"{type(self).__name__}(shape={self.shape}, "
        f"num_examples={self.num_examples}, is_image={self.is_image})"
    )


class ArraySource(Source):
  """In-memory uint8 images (N, H, W, C) with optional labels."""

  is_image = True

  def __init__(self, images: np.ndarray, labels: np.ndarray | None = None):
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4:
      raise ValueError(f"expected uint8 (N, H, W, C) images, got {images.dtype} {images.shape}")
    if labels is not None and len(labels) != len(images):
      raise ValueError(f"{len(labels)} labels for {len(images)} images")
    self.images = images
    self.labels = None if labels is None else np.asarray(labels, dtype=np.int64)
    self.shape = tuple(images.shape[1:])
    self.num_examples = int(images.shape[0])

  def get(self, indices: np.ndarray) -> np.ndarray:
    return to_unit_range(self.images[indices])

  def pixel_means(self, chunk: int = 10_000) -> np.ndarray:
    """Exact: the uint8 sums over all images / (255 N)."""
    return np.sum(self.images, axis=0, dtype=np.int64) / (255.0 * self.num_examples)


class ShapeOnlySource(Source):
  """Stands in for a dataset that is not available, where only its shape is needed
  (rebuilding a trained generator to draw samples)."""

  def __init__(self, shape, is_image, num_classes=0):
    self.shape, self.is_image = tuple(shape), bool(is_image)
    self._num_classes = int(num_classes)

  @property
  def num_classes(self) -> int:
    return self._num_classes

  def get(self, indices):
    raise RuntimeError("the dataset is not available here; only its shape is known")

  def pixel_means(self, chunk: int = 10_000) -> np.ndarray:
    """0.5 everywhere (an output bias of 0): a restored run's parameters replace its init."""
    return np.full(self.shape, 0.5)
