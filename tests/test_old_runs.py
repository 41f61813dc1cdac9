"""Runs made by earlier versions keep working: run folders written by older gan_jax (kept as they
were written under tests/data/old_runs/, each with a README.txt saying how) still sample and resume,
as a user would run them (real processes), drawing what the version that wrote them drew (to float32
rounding across CPU generations)."""

import json
import os
import re
import shutil

import jax
import numpy as np
import pytest

from gan_jax import checkpoint, checkpoint_format
from gan_jax.experiment import restore
from tests.conftest import ROOT, run_module

OLD_RUNS = os.path.join(ROOT, 'tests', 'data', 'old_runs')
MAIN = 'main_3b7a04f'  # main before issue 25: checkpoints of format 1 with state.ema_state
PRE_EMA = 'pre_ema_0dec395'  # before state.ema_state existed (0345c9c added it)

# The config both were trained with (their README.txt), the steps to go on to, and for PRE_EMA
# its version's optimizers (Adam 5e-4, no schedule), which configs/mixture_2d.py changed since.
CONFIG = [
    '--config=configs/mixture_2d.py:ring8',
    '--config.model.g_hidden=(32,32)',
    '--config.model.d_hidden=(32,32)',
    '--config.model.g_batchnorm=true',
    '--config.model.d_sn=true',
    '--config.train.steps_per_call=10',
    '--config.train.log_every=10',
    '--config.train.sample_every=10',
    '--config.train.num_samples=500',
    '--config.checkpoint.every_steps=10',
    '--config.eval.every_steps=10',
    '--config.eval.num_samples=500',
    '--config.train.num_steps=30',
]
PRE_EMA_OPTIMIZERS = [
    f'--config.optim.{net}.{field}={value}'
    for net in ('g', 'd')
    for field, value in (('lr', 5e-4), ('schedule', 'none'), ('decay_steps', 0))
]
MIGRATED = 'was written before state.ema_state existed (gan_jax before 0345c9c)'


def _copy(name, tmp_path):
  run = str(tmp_path / name)
  shutil.copytree(os.path.join(OLD_RUNS, name), run)
  return run


def _ok(result):
  assert result.returncode == 0, result.stdout + result.stderr
  return result


def _assert_same_draw(out, expected):
  """The draw of `out` (.npy) is the stored one up to float32 rounding: XLA:CPU's kernels sum in a
  different order on different CPU generations (AVX-512 against AVX2), which moves a sample by a
  few ulps (measured: at most 4.8e-7 here), while a wrong restore or migration moves it by
  orders of magnitude more."""
  np.testing.assert_allclose(np.load(out), expected, rtol=1e-5, atol=1e-5)


def _sample(run, out, *flags):
  args = (f'--workdir={run}', '--num=16', f'--out={out}', *flags)
  return _ok(run_module('experiments.sample', *args))


def _format(run, step):
  with open(os.path.join(run, 'checkpoints', str(step), checkpoint.STEP_METADATA_FILE)) as f:
    return json.load(f)['custom_metadata'].get('format')


def test_a_run_of_main_before_issue_25_samples_and_resumes_as_it_did(tmp_path):
  run = _copy(MAIN, tmp_path)
  assert _format(run, 20) is None  # format 1: written before formats existed
  out = str(tmp_path / 'step20.npy')
  sampled = _sample(run, out)
  assert 'note:' not in sampled.stderr  # nothing to migrate: format 1 with ema_state
  _assert_same_draw(out, np.load(f'{run}/sample_step20_seed0_num16.npy'))
  _sample(run, str(tmp_path / 'grid.png'))

  resumed = _ok(run_module('experiments.main', *CONFIG, f'--workdir={run}'))
  assert re.search(rf'Resumed .*{re.escape(run)}.* at step 20\b', resumed.stdout), resumed.stdout
  assert sorted(os.listdir(f'{run}/checkpoints')) == ['10', '20', '30']
  assert _format(run, 30) == checkpoint_format.FORMAT == 2 and _format(run, 20) is None
  out = str(tmp_path / 'step30.npy')
  _sample(run, out)  # 3b7a04f resumed it the same way and drew these: the same training
  expected = np.load(f'{run}/resumed_sample_step30_seed0_num16.npy')
  _assert_same_draw(out, expected)
  assert sorted(os.listdir(f'{run}/eval')) == ['10.json', '20.json', '30.json']


def test_a_run_from_before_ema_state_is_migrated_and_resumes(tmp_path):
  """Its checkpoints hold no ema_state: today's state starts it from g_state (as create_state
  does), which is what that version sampled the EMA weights with, so the samples are the same."""
  run = _copy(PRE_EMA, tmp_path)
  out = str(tmp_path / 'step20.npy')
  sampled = _sample(run, out)
  (note,) = [line for line in sampled.stderr.splitlines() if line.startswith('note:')]
  assert note.startswith(f'note: checkpoint step 20 (format 1, {run}/checkpoints) {MIGRATED}')
  _assert_same_draw(out, np.load(f'{run}/sample_step20_seed0_num16.npy'))

  # No --allow_config_change: its config.json lacks the model fields added since (conditioning,
  # embed_dim, num_classes); schema.upgrade fills them with the defaults it trained with.
  resumed = _ok(run_module('experiments.main', *CONFIG, *PRE_EMA_OPTIMIZERS, f'--workdir={run}'))
  assert re.search(rf'Resumed .*{re.escape(run)}.* at step 20\b', resumed.stdout), resumed.stdout
  assert MIGRATED in resumed.stderr
  assert sorted(os.listdir(f'{run}/checkpoints')) == ['10', '20', '30']
  assert _format(run, 30) == 2
  out = str(tmp_path / 'live30.npy')
  _sample(run, out, '--noema')  # 0dec395 resumed it the same way and drew these
  expected = np.load(f'{run}/resumed_live_sample_step30_seed0_num16.npy')
  _assert_same_draw(out, expected)


def _set_format(run, step, value):
  path = os.path.join(run, 'checkpoints', str(step), checkpoint.STEP_METADATA_FILE)
  with open(path) as f:
    record = json.load(f)
  record['custom_metadata']['format'] = value
  with open(path, 'w') as f:
    json.dump(record, f)


def test_a_checkpoint_of_a_newer_format_is_one_line_and_nothing_changes(tmp_path):
  run = _copy(MAIN, tmp_path)
  _set_format(run, 20, 99)
  before = sorted(os.listdir(f'{run}/checkpoints'))
  line = (
      f'error: --workdir={run}: checkpoint step 20 is format 99, written by a newer gan_jax; '
      'this version reads formats 1 to 2 (use the gan_jax that wrote it)\n'
  )
  out = str(tmp_path / 'x.npy')
  sampled = run_module('experiments.sample', f'--workdir={run}', f'--out={out}')
  assert (sampled.returncode, sampled.stderr) == (2, line) and not os.path.exists(out)
  trained = run_module('experiments.main', *CONFIG, f'--workdir={run}')
  assert (trained.returncode, trained.stderr.splitlines()[-1]) == (2, line.strip())
  assert sorted(os.listdir(f'{run}/checkpoints')) == before  # not set aside as corrupt


def test_a_retired_format_names_the_version_that_reads_it(tmp_path, monkeypatch):
  """The day a format is no longer migrated (OLDEST raised past it), its line says who reads it."""
  monkeypatch.setattr(checkpoint_format, 'OLDEST', 2)
  monkeypatch.setitem(
      checkpoint_format.RETIRED, 1, ('gan_jax before issue 25', 'gan_jax at commit 3b7a04f')
  )
  ckpts = checkpoint.Checkpoints(_copy(MAIN, tmp_path), read_only=True)
  with pytest.raises(checkpoint.Unreadable) as e:
    ckpts.restore(None, 20)  # refused before the state is looked at
  assert str(e.value) == (
      'checkpoint step 20 is format 1, written by gan_jax before issue 25; this version reads '
      'formats 2 to 2 (use gan_jax at commit 3b7a04f to sample or resume it)'
  )
  assert isinstance(e.value, checkpoint.Mismatch)  # callers refuse it in one line, as a Mismatch
  assert checkpoint_format.format_of({'format': True}) == -1
  assert 'which no gan_jax wrote' in checkpoint_format.unreadable(-1)


def test_the_migrated_ema_state_is_g_state_in_buffers_of_its_own(tmp_path, capsys):
  """(The train step donates the state: two leaves sharing one buffer could not be donated.)"""
  _, state = restore(_copy(PRE_EMA, tmp_path))
  assert MIGRATED in capsys.readouterr().err
  leaves = jax.tree_util.tree_leaves
  pairs = list(zip(leaves(state.g_state), leaves(state.ema_state)))
  assert len(pairs) == 4  # BatchNorm's mean and var of two layers
  for g, ema in pairs:
    np.testing.assert_array_equal(np.asarray(g), np.asarray(ema))
    assert g.unsafe_buffer_pointer() != ema.unsafe_buffer_pointer()
  _, state = restore(_copy(MAIN, tmp_path))  # format 1 with ema_state: restored as saved
  assert 'note:' not in capsys.readouterr().err
  ema, live = (s['batch_stats']['BatchNorm_0']['mean'] for s in (state.ema_state, state.g_state))
  assert not np.array_equal(ema, live)  # the saved EMA of the statistics, not G's
