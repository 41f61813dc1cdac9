"""Metrics of class-conditional runs (class_agreement, intra_fid), the feature-network
registry, per-metric settings, and drawing labelled samples."""

import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import sampling
from gan_jax.data import get_dataset
from gan_jax.metrics import METRICS
from gan_jax.metrics.eval_data import EvalData
from gan_jax.metrics.evaluation import (
    applicable,
    check,
    due,
    evaluate,
    metric_settings,
    networks,
    sample_counts,
)
from gan_jax.metrics.features import FEATURES
from gan_jax.models import build_models


@pytest.fixture(scope='module')
def digits():
  return get_dataset('mnist5k')


def pixels(x):
  return np.asarray(x, np.float32).reshape(len(x), -1)[:, ::8]


def _data(source, tmp_path, num_classes=10, **kw):
  return EvalData(
      source,
      'mnist5k',
      {},
      stats_dir=str(tmp_path),
      features=pixels,
      feature_name='pixels',
      num_classes=num_classes,
      **kw,
  )


def test_registry_names_the_feature_networks(digits, tmp_path):
  assert set(FEATURES) == {'inception', 'mnist_classifier'}
  assert {METRICS[n].features for n in ('fid', 'kid', 'pr', 'intra_fid')} == {'inception'}
  assert METRICS['class_agreement'].features == 'mnist_classifier'
  assert networks(['fid', 'class_agreement', 'kid']) == ['inception', 'mnist_classifier']
  unconditional = _data(digits, tmp_path, num_classes=0)
  assert applicable(unconditional) == ['fid', 'kid', 'pr']
  with pytest.raises(ValueError, match='class_agreement: needs a class-conditional run'):
    check(['class_agreement'], unconditional)
  assert {'class_agreement', 'intra_fid'} <= set(applicable(_data(digits, tmp_path)))
  cifar_like = types.SimpleNamespace(
      source=types.SimpleNamespace(shape=(32, 32, 3), is_image=True, num_examples=10, labels=None),
      name='cifar10',
      num_classes=10,
  )
  assert 'reads 28x28x1' in METRICS['class_agreement'].unavailable(cifar_like)


def test_class_agreement_of_real_digits(digits, tmp_path):
  """The shipped classifier agrees with the true labels of real digits (99.3 % on mnist5k),
  and with shuffled labels about 1 time in 10."""
  data = _data(digits, tmp_path)
  idx = np.random.default_rng(1).permutation(5000)[:600]  # mnist5k is sorted by class
  true = lambda n: (digits.get(idx[:n]), digits.labels[idx[:n]])
  permuted = np.random.default_rng(0).permutation(digits.labels[idx])
  shuffled = lambda n: (digits.get(idx[:n]), permuted[:n])
  good = evaluate(['class_agreement'], true, data, num_samples=600)['class_agreement']
  bad = evaluate(['class_agreement'], shuffled, data, num_samples=600)['class_agreement']
  assert good['num_samples'] == 600 and good['agreement'] > 0.97
  assert bad['agreement'] < 0.2 and good['per_class'].shape == (10,)
  with pytest.raises(ValueError, match='needs the labels of the samples'):
    evaluate(['class_agreement'], lambda n: digits.get(idx[:n]), data, num_samples=10)


def test_intra_fid_compares_each_class_with_its_references(digits, tmp_path):
  data = _data(digits, tmp_path, num_reference=2000)
  ref_labels = data.reference_labels()
  assert len(ref_labels) == 2000 and set(ref_labels) == set(range(10))
  outside = np.random.default_rng(1).permutation(5000)[:1500]  # real digits, of every class
  real = lambda n: (digits.get(outside[:n]), digits.labels[outside[:n]])
  wrong = lambda n: (digits.get(outside[:n]), (digits.labels[outside[:n]] + 1) % 10)
  good = evaluate(['intra_fid', 'fid'], real, data, num_samples=1500)
  bad = evaluate(['intra_fid'], wrong, data, num_samples=1500)
  assert good['intra_fid']['per_class'].shape == (10,)
  assert good['intra_fid']['intra_fid'] * 2 < bad['intra_fid']['intra_fid']
  np.testing.assert_allclose(good['intra_fid']['intra_fid'], good['intra_fid']['per_class'].mean())


def test_per_metric_sample_counts_and_intervals():
  assert sample_counts(['fid', 'modes'], {'fid': 500}) == {'fid': 500, 'modes': 2500}
  assert sample_counts(['fid', 'modes'], 300) == {'fid': 300, 'modes': 300}
  settings = metric_settings(
      ['fid', 'class_agreement'],
      num_samples=0,
      every_steps=5000,
      per_metric={'class_agreement': {'num_samples': 1000, 'every_steps': 1000}},
  )
  assert settings == {'fid': (None, 5000), 'class_agreement': (1000, 1000)}
  assert due(settings, 3000, 20_000) == ['class_agreement']
  assert due(settings, 10_000, 20_000) == ['fid', 'class_agreement']
  assert due(settings, 2500, 2500) == ['class_agreement']  # the end: only metrics it reached
  assert due(settings, 800, 800) == []


def _state(G, z_dim):
  v = G.init(jax.random.key(0), jnp.zeros((2, z_dim)), train=False)
  params, rest = v['params'], {k: x for k, x in v.items() if k != 'params'}
  return types.SimpleNamespace(ema_params=params, g_params=params, g_state=rest, ema_state=rest)


def test_draw_returns_labels_for_conditional_generators():
  G, _ = build_models('mlp', (4,), z_dim=3, g_hidden=(8,), num_classes=5, conditioning='concat')
  state = _state(G, 3)
  samples, labels = sampling.draw(G, state, 15, seed=0)  # one size: one compilation
  assert samples.shape == (15, 4) and list(labels) == [i % 5 for i in range(15)]
  rows = sampling.class_rows(5, 3)
  s2, l2 = sampling.draw(G, state, 15, seed=0, labels=rows)
  assert list(l2) == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
  # the label reaches G: the same noise with another label gives another sample
  same_noise = sampling.draw(G, state, 15, seed=0, labels=np.zeros(15, np.int32))[0]
  np.testing.assert_array_equal(same_noise[:3], s2[:3])
  assert not np.allclose(same_noise[3:], s2[3:])
  with pytest.raises(ValueError, match=r'in \[0, 5\)'):
    sampling.draw(G, state, 2, seed=0, labels=np.array([0, 5]))
  G0, _ = build_models('mlp', (4,), z_dim=3, g_hidden=(8,))
  plain = sampling.draw(G0, _state(G0, 3), 15, seed=0)
  assert isinstance(plain, np.ndarray) and plain.shape == (15, 4)
  with pytest.raises(ValueError, match='unconditional'):
    sampling.draw(G0, _state(G0, 3), 2, seed=0, labels=np.array([0, 1]))
