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
