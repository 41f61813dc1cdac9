"""Running metrics together: one draw, features computed once, the reference cache."""

import json

import numpy as np
import pytest

from gan_jax.data import get_dataset
from gan_jax.metrics import METRICS
from gan_jax.metrics.eval_data import EvalData
from gan_jax.metrics.evaluation import applicable, check, evaluate, scalars
from gan_jax.metrics import parzen_data


class CountingFeatures:
  """Flattened pixels as features, counting the images it sees."""

  def __init__(self):
    self.images = 0

  def __call__(self, x):
    self.images += len(x)
    return np.asarray(x, np.float32).reshape(len(x), -1)[:, ::8]


@pytest.fixture(scope='module')
def digits():
  return get_dataset('mnist5k')


def _data(source, tmp_path, features, name='mnist5k', **kw):
  return EvalData(
      source, name, {}, stats_dir=str(tmp_path), features=features, feature_name='pixels', **kw
  )


def test_real_images_score_like_real_images_and_features_are_computed_once(digits, tmp_path):
  feats = CountingFeatures()
  data = _data(digits, tmp_path, feats, num_reference=400)
  draw = lambda n: digits.get(np.arange(4000, 4000 + n))  # digits outside the reference subset
  results = evaluate(['fid', 'kid', 'pr'], draw, data, num_samples=300)
  assert feats.images == 400 + 300  # reference once, samples once for the three metrics
  noise = lambda n: np.random.default_rng(0).uniform(-1, 1, size=(n, 28, 28, 1))
  bad = evaluate(['fid', 'kid', 'pr'], noise, data, num_samples=300)
  assert results['fid']['fid'] * 5 < bad['fid']['fid']
  assert abs(results['kid']['kid']) < 0.1 * bad['kid']['kid']
  assert results['pr']['precision'] > 0.3 and bad['pr']['precision'] < 0.05
  assert results['pr']['recall'] > 0.3 and bad['pr']['recall'] < 0.05
  assert set(scalars(results)) >= {'fid/fid', 'kid/kid', 'kid/kid_std', 'pr/precision'}


def test_reference_features_are_cached_by_dataset_split_count_and_network(digits, tmp_path):
  data = _data(digits, tmp_path, CountingFeatures(), num_reference=300)
  ref = data.reference_features()
  cached = list(tmp_path.iterdir())
  assert [p.name for p in cached] == [data.reference_key() + '.npz']
  assert 'mnist5k-train' in cached[0].name and 'pixels' in cached[0].name

  def fail(x):
    raise AssertionError('should have been read from the cache')

  again = _data(digits, tmp_path, fail, num_reference=300)
  np.testing.assert_array_equal(again.reference_features(), ref)
  mu, sigma = again.reference_stats()
  np.testing.assert_allclose(mu, ref.mean(0), rtol=1e-5)
  assert sigma.shape == (ref.shape[1],) * 2 and sigma.dtype == np.float64
  other = _data(digits, tmp_path, CountingFeatures(), num_reference=200)
  assert other.reference_key() != data.reference_key()


def test_each_metric_says_why_it_does_not_apply(digits, tmp_path):
  images, points = _data(digits, tmp_path, None), _data(
      get_dataset('grid25'), tmp_path, None, 'grid25'
  )
  assert applicable(images) == ['fid', 'kid', 'pr']
  assert applicable(points) == ['modes']
  with pytest.raises(ValueError, match='modes: needs a 2D mixture'):
    check(['modes'], images)
  with pytest.raises(ValueError, match='parzen: needs a dataset with validation and test splits'):
    check(['parzen'], images)
  with pytest.raises(ValueError, match='is: the FID Inception weights .* no logits'):
    check(['is'], images)
  with pytest.raises(ValueError, match="unknown metric 'nope'"):
    check(['nope'], images)


def test_parzen_uses_the_validation_and_test_splits(digits, monkeypatch):
  class Data:
    name = 'mnist'

    def held_out(self, split):
      assert split in ('train[50000:]', 'test')
      return digits

  valid, test = parzen_data.held_out_sets(Data())
  assert valid.shape == (5000, 784) and 0 <= valid.min() and valid.max() <= 1
  assert parzen_data.unavailable(Data()) is None
  samples = digits.get(np.arange(1000))
  result = METRICS['parzen'].compute(samples, Data())
  assert result['parzen_sigma'] in [float(s) for s in np.logspace(-1, 0, 10)]
  assert np.isfinite(result['parzen_ll'])
