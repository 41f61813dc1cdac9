"""checkpoint.keep_best (gan_jax/best_checkpoint.py): the best step by a metric of the periodic
evaluation is kept beside the newest `checkpoint.keep`, across a resume; `--step=best` restores
it and passes over a corrupt one for the next best; bad input is one line."""

import os
import shutil

import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import best_checkpoint, checkpoint, loop
from gan_jax.config import ConfigError, validate, with_defaults
from gan_jax.errors import UserError
from gan_jax.evaluator import read_results, write_results
from gan_jax.experiment import restore
from gan_jax.train import train_and_evaluate
from tests.conftest import run_module, tiny_config


def _evaluated(workdir, step, metric, value, by='training'):
  write_results(workdir, step, 2024, {metric: {'num_samples': 10, metric: value}}, by=by)


def _save_steps(workdir, keep_best, values, keep=1):
  """Saves a small state at each step of `values` ({step: value of keep_best's metric}), its
  evaluation written first as training does; returns the steps on disk after each save."""
  config = tiny_config()
  config.checkpoint.keep_best = keep_best
  ckpts = checkpoint.Checkpoints(
      workdir, keep=keep, keep_also=best_checkpoint.keeper(workdir, config)
  )
  left = []
  for step, value in values.items():
    if value is not None:
      _evaluated(workdir, step, keep_best, value)
    ckpts.save({'w': jnp.full((3,), float(step))}, step)
    left.append(ckpts.all_steps())
  ckpts.close()
  return left


def test_keep_best_keeps_the_lowest_fid_beside_the_newest_and_after_a_resume(tmp_path):
  run = str(tmp_path)
  _evaluated(run, 2, 'fid', 1.0, by='experiments.evaluate')  # another tool's: not ranked
  left = _save_steps(run, 'fid', {1: 30.0, 2: 20.0, 3: 25.0, 4: 20.0, 5: None})
  assert left == [[1], [2], [2, 3], [2, 4], [2, 5]]  # ties: the earlier step stays
  left = _save_steps(run, 'fid', {6: 40.0, 7: 10.0, 8: 12.0})  # a resume: ranks what is on disk
  assert left == [[2, 6], [7], [7, 8]]


def test_a_higher_is_better_metric_keeps_the_max_and_keep_counts_the_newest(tmp_path):
  assert not best_checkpoint.lower_is_better('modes')
  assert best_checkpoint.lower_is_better('modes.reverse_kl')
  left = _save_steps(str(tmp_path), 'modes', {1: 3, 2: 9, 3: 5, 4: 4, 5: 8}, keep=2)
  assert left == [[1], [1, 2], [2, 3], [2, 3, 4], [2, 4, 5]]


def test_without_keep_best_orbax_keeps_the_newest_as_before(tmp_path):
  config = tiny_config()
  assert with_defaults(config).checkpoint.keep_best == ''
  assert best_checkpoint.keeper(str(tmp_path), config) is None
  assert loop.cadence(with_defaults(config))['checkpoint'] == loop.Every(5)


def test_keep_best_saves_at_each_evaluation_of_its_metric():
  config = tiny_config(num_steps=9)
  config.eval.every_steps, config.checkpoint.every_steps = 2, 4
  config.eval.per_metric = {'modes': {'every_steps': 3, 'num_samples': 0}}
  before = loop.call_sizes(config, 0, 9)
  config.checkpoint.keep_best = 'modes'
  saves = loop.cadence(config)['checkpoint']
  assert [s for s in range(1, 10) if saves.due(s, 9)] == [3, 4, 6, 8, 9]
  assert loop.call_sizes(config, 0, 9) == before  # the same calls: bit-identical training


@pytest.mark.parametrize(
    'keep_best, every, metrics, message',
    [
        ('modes', 0, '', 'the run never evaluates modes: set eval.every_steps'),
        ('modes', 5, 'kid', "eval.metrics='kid' does not compute modes; add it there"),
        ('nope', 5, '', 'allowed: modes, fid'),
        ('is', 5, '', 'allowed: modes, fid'),
        ('pr', 5, '', "pr has several values; name one: 'pr.<value>'"),
        (3, 5, '', 'must be a metric name'),
    ],
)
def test_keep_best_is_checked_with_the_config(keep_best, every, metrics, message):
  config = tiny_config()
  config.eval.every_steps, config.eval.metrics = every, metrics
  with config.checkpoint.ignore_type():
    config.checkpoint.keep_best = keep_best
  want = f'config.checkpoint.keep_best={keep_best!r}: {message}'
  with pytest.raises(ConfigError, match=want.replace('(', r'\(').replace('.<', r'\.<')):
    validate(config, 1)


def test_a_metric_the_data_do_not_give_is_refused_before_anything_is_written(tmp_path):
  config = tiny_config()
  config.eval.every_steps, config.checkpoint.keep_best = 5, 'fid'  # 2D points: no FID
  with pytest.raises(UserError, match="keep_best='fid': the periodic evaluation of this run"):
    train_and_evaluate(config, str(tmp_path / 'run'))
  assert not (tmp_path / 'run').exists()


@pytest.mark.parametrize(
    'given, want', [(None, None), (7, 7), ('7', 7), ('-1', -1), ('best', 'best'), (' best ', 'best')]
)
def test_parse_step(given, want):
  assert best_checkpoint.parse_step(given) == want


def test_parse_step_refuses_other_words():
  with pytest.raises(UserError, match=r"--step=last: must be a checkpoint step \(an integer\)"):
    best_checkpoint.parse_step('last')


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
  """tiny_config to step 8 with `modes` every 2 steps and keep_best='modes', keep=2."""
  run = tmp_path_factory.mktemp('best') / 'run'
  config = tiny_config(num_steps=8)
  config.eval.every_steps, config.eval.num_samples = 2, 200
  config.checkpoint.every_steps, config.checkpoint.keep = 4, 2
  config.checkpoint.keep_best = 'modes'
  train_and_evaluate(config, str(run))
  return run


def _ranked(run):
  values = {e['step']: e['values']['modes'] for e in read_results(run) if e['by'] == 'training'}
  assert sorted(values) == [2, 4, 6, 8]
  return sorted(values, key=lambda s: (-values[s], s))  # most modes first, earlier on ties


def test_training_keeps_the_best_step_and_restores_it(trained, capsys):
  best = _ranked(trained)[0]
  steps = checkpoint.Checkpoints(str(trained), read_only=True).all_steps()
  assert steps == sorted({6, 8, best})
  _, state = restore(str(trained), 'best')
  assert int(state.step) == best
  assert f'note: --step=best is step {best} (modes ' in capsys.readouterr().err


def test_a_corrupt_best_falls_back_to_the_next_best(trained, tmp_path, capsys):
  run = shutil.copytree(trained, tmp_path / 'run')
  on_disk = checkpoint.Checkpoints(str(run), read_only=True).all_steps()
  first, second = [s for s in _ranked(run) if s in on_disk][:2]
  metadata = os.path.join(run, 'checkpoints', str(first), 'default', '_METADATA')
  os.truncate(metadata, os.path.getsize(metadata) // 2)
  _, state = restore(str(run), 'best')
  assert int(state.step) == second
  warnings = [l for l in capsys.readouterr().err.splitlines() if l.startswith('warning:')]
  assert len(warnings) == 1 and f'checkpoint step {first} is corrupt' in warnings[0]
  assert warnings[0].endswith('left it in place; trying the next best checkpoint')


def test_step_best_without_keep_best_or_evaluations_is_one_line(trained, tmp_path):
  run = shutil.copytree(trained, tmp_path / 'run')
  shutil.rmtree(run / 'eval')
  with pytest.raises(UserError, match='--step=best: no checkpoint of .* has a periodic eval'):
    restore(str(run), 'best')
  config = checkpoint.load_config(str(run))
  config.checkpoint.keep_best = ''
  checkpoint.save_config(str(run), config)
  with pytest.raises(UserError, match='trained without checkpoint.keep_best; train it with'):
    restore(str(run), 'best')


def test_sample_and_evaluate_take_step_best(trained, tmp_path):
  best = _ranked(trained)[0]
  out = tmp_path / 's.npy'
  proc = run_module(
      'experiments.sample', f'--workdir={trained}', '--step=best', '--num=5', f'--out={out}'
  )
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert f'of step {best} to' in proc.stdout and np.load(out).shape == (5, 2)
  run = shutil.copytree(trained, tmp_path / 'run')
  args = ['--step=best', '--metrics=modes', '--num_samples=100']
  proc = run_module('experiments.evaluate', f'--workdir={run}', *args)
  assert proc.returncode == 0, proc.stderr[-2000:]
  entries = [e for e in read_results(run) if e['by'] == 'experiments.evaluate']
  assert [(e['step'], e['num_samples']) for e in entries] == [(best, 100)]
