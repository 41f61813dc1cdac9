"""``idx``: MNIST-format IDX files in a local folder (``data_dir``).

For ``split='train'`` reads ``train-images-idx3-ubyte`` (+ ``train-labels-idx1-ubyte``),
for ``split='test'`` the ``t10k-*`` files; each may be ``.gz`` and may use the
dotted spelling ``train-images.idx3-ubyte``.  E.g. Debian's
``dataset-fashion-mnist`` installs Fashion-MNIST in /usr/share/datasets/fashion-mnist/.
Headers are validated (magic 0x00000803 images, 0x00000801 labels, big-endian
uint32 dims).  Labels are optional; images are served as float32 in [-1, 1].
"""

from __future__ import annotations

import functools
import gzip
import os

import numpy as np

from gan_jax.data.source import ArraySource

_PREFIX = {"train": "train", "test": "t10k"}
IMAGES_MAGIC, LABELS_MAGIC = 0x00000803, 0x00000801


def find_file(folder: str, prefix: str, kind: str, ndim: int) -> str | None:
  """First existing spelling of e.g. train-images-idx3-ubyte[.gz] in ``folder``."""
  for sep in ("-", "."):
    for ext in ("", ".gz"):
      path = os.path.join(folder, f"{prefix}-{kind}{sep}idx{ndim}-ubyte{ext}")
      if os.path.isfile(path):
        return path
  return None


def read_idx(path: str, magic: int) -> np.ndarray:
  """Parse one uint8 IDX file, checking its magic number and size."""
  opener = gzip.open if path.endswith(".gz") else open
  with opener(path, "rb") as f:
    buf = f.read()
  if len(buf) < 4:
    raise ValueError(f"{path}: too short to be an IDX file")
  found = int.from_bytes(buf[:4], "big")
  if found != magic:
    raise ValueError(f"{path}: bad IDX magic 0x{found:08x}, expected 0x{magic:08x}")
  ndim = magic & 0xFF
  dims = tuple(int(d) for d in np.frombuffer(buf, dtype=">u4", count=ndim, offset=4))
  offset = 4 + 4 * ndim
  if len(buf) - offset != int(np.prod(dims)):
    raise ValueError(
        f"{path}: header dims {dims} need {int(np.prod(dims))} bytes, "
        f"file has {len(buf) - offset}"
    )
  return np.frombuffer(buf, dtype=np.uint8, offset=offset).reshape(dims)


@functools.lru_cache(maxsize=4)
def _load(images_path: str, labels_path: str | None, _mtimes: tuple) -> tuple:
  images = read_idx(images_path, IMAGES_MAGIC)[..., None]
  labels = None if labels_path is None else read_idx(labels_path, LABELS_MAGIC)
  if labels is not None and len(labels) != len(images):
    raise ValueError(f"{labels_path}: {len(labels)} labels for {len(images)} images")
  return images, labels


def idx(data_dir: str | None = None, split: str = "train") -> ArraySource:
  """Images (and labels when present) of ``split`` from IDX files in ``data_dir``."""
  if not data_dir or not os.path.isdir(data_dir) or not os.access(data_dir, os.R_OK):
    raise ValueError(
        f"dataset 'idx' needs data.data_dir set to a readable folder of "
        f"MNIST-format IDX files, got data.data_dir={data_dir!r}"
    )
  if split not in _PREFIX:
    raise ValueError(f"dataset 'idx' has splits {sorted(_PREFIX)}, got data.split={split!r}")
  prefix = _PREFIX[split]
  images_path = find_file(data_dir, prefix, "images", 3)
  if images_path is None:
    raise ValueError(f"no {prefix}-images-idx3-ubyte[.gz] in data.data_dir={data_dir!r}")
  labels_path = find_file(data_dir, prefix, "labels", 1)
  paths = (images_path, labels_path)
  mtimes = tuple(os.stat(p).st_mtime_ns for p in paths if p is not None)
  return ArraySource(*_load(images_path, labels_path, mtimes))
