"""Metrics during training (config.eval): results files, TensorBoard, refusals up front."""

import os

import pytest

from gan_jax.evaluator import read_results
from gan_jax.experiment import UserError
from gan_jax.train import train_and_evaluate
from tests.conftest import tiny_config


def test_metrics_run_every_n_steps_and_at_the_end(tmp_path):
  config = tiny_config(num_steps=10)
  config.eval.every_steps, config.eval.num_samples = 4, 300
  train_and_evaluate(config, str(tmp_path))
  assert sorted(os.listdir(tmp_path / 'eval')) == ['10.json', '4.json', '8.json']
  entries = read_results(tmp_path)
  assert [e['step'] for e in entries] == [4, 8, 10]
  record = entries[1]
  assert (record['metric'], record['seed'], record['by']) == ('modes', 2024, 'training')
  assert record['num_samples'] == 300 and record['weights'] == 'ema'
  assert 0 <= record['values']['modes'] <= 25 and len(record['values']['counts']) == 25
  assert record['protocol'] == {
      'dataset': 'grid25',
      'num_modes': 25,
      'std': 0.05,
      'high_quality': 'within 3 std of the nearest mode',
      'min_count': 20,
  }
  events = [p for p in os.listdir(tmp_path) if p.startswith('events.out.tfevents')]
  assert events and b'eval/modes/high_quality' in (tmp_path / events[0]).read_bytes()


def test_a_metric_that_cannot_run_is_refused_before_anything_is_written(tmp_path):
  config = tiny_config()
  config.eval.every_steps, config.eval.metrics = 5, 'fid'
  with pytest.raises(UserError, match='config.eval.metrics=fid: fid: needs image data'):
    train_and_evaluate(config, str(tmp_path / 'run'))
  assert not (tmp_path / 'run').exists()


@pytest.mark.parametrize(
    'field, value, message',
    [
        ('metrics', 'fid,nope', "config.eval.metrics='fid,nope': allowed: comma-separated names"),
        ('num_samples', 1, 'config.eval.num_samples=1'),
        ('every_steps', -5, 'config.eval.every_steps=-5'),
    ],
)
def test_eval_fields_are_validated(field, value, message):
  from gan_jax.config import ConfigError, validate

  config = tiny_config()
  config.eval[field] = value
  with pytest.raises(ConfigError, match=message.replace('(', r'\(')):
    validate(config, 1)


def test_per_metric_settings_run_a_metric_at_its_own_interval_and_sample_count(tmp_path):
  """eval.per_metric (documented in gan_jax/metrics/evaluation.py): with the global interval
  off, `modes` runs every 3 steps on 200 samples, set from a config argument."""
  from configs import common  # pylint: disable=g-import-not-at-top

  config = tiny_config(num_steps=7)
  common.apply_overrides(
      config, {'eval.per_metric.modes.every_steps': '3', 'eval.per_metric.modes.num_samples': 200}
  )
  assert config.eval.every_steps == 0 and dict(config.eval.per_metric.modes) == {
      'num_samples': 200,
      'every_steps': 3,
  }
  train_and_evaluate(config, str(tmp_path))
  entries = read_results(tmp_path)
  assert [(e['step'], e['metric'], e['num_samples']) for e in entries] == [
      (3, 'modes', 200),
      (6, 'modes', 200),
      (7, 'modes', 200),
  ]


@pytest.mark.parametrize(
    'per_metric, message',
    [
        ({'nope': {'every_steps': 5}}, r"config.eval.per_metric.nope=.*unknown metric; allowed: "),
        ({'modes': {'every': 5}}, r'config.eval.per_metric.modes.every=5: unknown field'),
        ({'modes': {'num_samples': -1}}, r'config.eval.per_metric.modes.num_samples=-1: must be'),
        ({'modes': {'every_steps': 2.5}}, r'config.eval.per_metric.modes.every_steps=2.5: must'),
    ],
)
def test_per_metric_fields_are_validated(per_metric, message):
  from gan_jax.config import ConfigError, validate  # pylint: disable=g-import-not-at-top

  config = tiny_config()
  config.eval.per_metric = per_metric
  with pytest.raises(ConfigError, match=message):
    validate(config, 1)


def test_eval_intervals_count_each_metrics_own():
  from gan_jax.schema import eval_intervals  # pylint: disable=g-import-not-at-top

  config = tiny_config()
  assert eval_intervals(config) == []
  config.eval.every_steps = 10
  config.eval.per_metric = {'modes': {'every_steps': 4}, 'fid': {'num_samples': 100}}
  assert eval_intervals(config) == [4, 10]
