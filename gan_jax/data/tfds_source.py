"""TFDS image datasets by name via ``tfds.data_source`` (random access, array_record).

Builders ``mnist``, ``fashion_mnist``, ``cifar10``, ``celeb_a`` take
``split='train'``, ``data_dir=None`` (TFDS data_dir), ``download=True`` and
``image_size=None`` (resize to a square of this size, PIL bilinear, only when it
differs).  ``celeb_a`` center-crops 140x140 (from 218x178) and resizes to 64 by
default.  Examples are fetched with ``__getitems__`` (one by one if that is
unavailable), scaled to [-1, 1].  When the data cannot be opened (offline, not
prepared, wrong format) a ``DatasetUnavailableError`` with a one-line message
says how to prepare it.  ``labels`` (from the 'label' feature) is computed
lazily on first access, which reads the whole split.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from gan_jax.checks import check_number
from gan_jax.data.source import Source, to_unit_range


class DatasetUnavailableError(RuntimeError):
  """The TFDS data could not be opened (single-line message with the fix)."""


def _open(name: str, split: str, data_dir, download: bool):
  try:
    import tensorflow_datasets as tfds

    return tfds.data_source(name, split=split, data_dir=data_dir, download=download)
  except Exception as e:  # noqa: BLE001 - tfds raises many types offline; re-raise one clear error
    detail = " ".join(line.strip() for line in str(e).splitlines() if line.strip())[:300]
    raise DatasetUnavailableError(
        f"cannot open TFDS dataset {name!r} split {split!r} (data.data_dir={data_dir!r}, "
        f"data.download={download}): {type(e).__name__}: {detail} -- to prepare it, run once with "
        f"network access and data.download=true, or point data.data_dir at TFDS data prepared "
        f"in array_record format (e.g. `tfds build {name} --file_format=array_record "
        f"--data_dir DIR`)"
    ) from None


def _resize(img: np.ndarray, size: int) -> np.ndarray:
  """Bilinear resize of one uint8 (H, W, C) image to (size, size, C)."""
  gray = img.shape[-1] == 1
  pil = Image.fromarray(img[..., 0] if gray else img)
  out = np.asarray(pil.resize((size, size), Image.BILINEAR))
  return out[..., None] if gray else out


class TFDSSource(Source):
  """Random-access TFDS image split, optionally center-cropped and resized."""

  is_image = True

  def __init__(
      self,
      name: str,
      split: str = "train",
      data_dir=None,
      download: bool = True,
      image_size: int | None = None,
      crop_size: int | None = None,
  ):
    self.name, self.split = name, split
    if image_size is not None:
      check_number("image_size", image_size, integer=True, low=1)
    if crop_size is not None:
      check_number("crop_size", crop_size, integer=True, low=1)
    self._ds = _open(name, split, data_dir, download)
    features = self._ds.dataset_info.features
    h, w, c = features["image"].shape
    self.crop_size = crop_size
    if crop_size is not None:
      if crop_size > min(h, w):
        raise ValueError(f"crop_size={crop_size} larger than {name} images {h}x{w}")
      h = w = crop_size
    self.image_size = (
        image_size if image_size is not None and (image_size, image_size) != (h, w) else None
    )
    if self.image_size is not None:
      h = w = self.image_size
    self.shape = (int(h), int(w), int(c))
    self.num_examples = len(self._ds)
    self._has_label = "label" in features
    self._batched = hasattr(self._ds, "__getitems__")
    self._labels = None

  def _fetch(self, keys: list[int]) -> list[dict]:
    if self._batched:
      try:
        return list(self._ds.__getitems__(keys))
      except (TypeError, NotImplementedError, AttributeError):
        self._batched = False  # e.g. tfds mock data sources: fall back for good
    return [self._ds[k] for k in keys]

  def _image(self, img: np.ndarray) -> np.ndarray:
    img = np.asarray(img, dtype=np.uint8)
    if self.crop_size is not None:
      top = (img.shape[0] - self.crop_size) // 2
      left = (img.shape[1] - self.crop_size) // 2
      img = img[top : top + self.crop_size, left : left + self.crop_size]
    if self.image_size is not None:
      img = _resize(img, self.image_size)
    return img

  def get(self, indices: np.ndarray) -> np.ndarray:
    return self.get_batch(indices)["x"]

  def get_batch(self, indices: np.ndarray) -> dict:
    """Images and (when the dataset has them) labels from one read of the records."""
    examples = self._fetch([int(i) for i in indices])
    batch = {"x": to_unit_range(np.stack([self._image(ex["image"]) for ex in examples]))}
    if self._has_label:
      batch["y"] = np.asarray([int(ex["label"]) for ex in examples], dtype=np.int32)
    return batch

  @property
  def num_classes(self) -> int:
    """From the dataset's label feature (no read of the split)."""
    return int(self._ds.dataset_info.features["label"].num_classes) if self._has_label else 0

  @property
  def labels(self) -> np.ndarray | None:
    """int64 labels aligned with examples (reads the whole split once), or None."""
    if not self._has_label:
      return None
    if self._labels is None:
      chunks = []
      for start in range(0, self.num_examples, 1024):
        keys = list(range(start, min(start + 1024, self.num_examples)))
        chunks.append([int(ex["label"]) for ex in self._fetch(keys)])
      self._labels = np.asarray(sum(chunks, []), dtype=np.int64)
    return self._labels


def mnist(
    split: str = "train",
    data_dir: str | None = None,
    download: bool = True,
    image_size: int | None = None,
):
  """TFDS 'mnist' (28x28x1)."""
  return TFDSSource("mnist", split, data_dir, download, image_size)


def fashion_mnist(
    split: str = "train",
    data_dir: str | None = None,
    download: bool = True,
    image_size: int | None = None,
):
  """TFDS 'fashion_mnist' (28x28x1)."""
  return TFDSSource("fashion_mnist", split, data_dir, download, image_size)


def cifar10(
    split: str = "train",
    data_dir: str | None = None,
    download: bool = True,
    image_size: int | None = None,
):
  """TFDS 'cifar10' (32x32x3)."""
  return TFDSSource("cifar10", split, data_dir, download, image_size)


def celeb_a(
    split: str = "train",
    data_dir: str | None = None,
    download: bool = True,
    image_size: int | None = 64,
    crop_size: int = 140,
):
  """TFDS 'celeb_a' (218x178x3) center-cropped to ``crop_size`` then resized to ``image_size``."""
  return TFDSSource("celeb_a", split, data_dir, download, image_size, crop_size)
