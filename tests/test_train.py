"""End to end: training, bit-identical resume, sampling, logs, preemption."""

import os
import signal
import subprocess
import sys

import jax
import numpy as np
import pytest

from gan_jax import checkpoint
from gan_jax.evaluator import read_results
from gan_jax.experiment import UserError, build_experiment
from gan_jax.step import build_train_step
from gan_jax.train import batches, train_and_evaluate
from tests.conftest import ROOT, run_module, states_on_devices, tiny_config


def leaves(state):
  return [np.asarray(x) for x in jax.tree_util.tree_leaves(state)]


def test_a_few_steps_lower_d_loss_on_separable_data(make_config):
  config = make_config()
  config.data = {'name': 'ring8'}  # fakes start near the origin, the data on a circle of radius 2
  config.model.d_sn = False
  config.model.d_dropout = 0.0
  config.optim.g.lr = 1e-12  # a frozen generator: D separates it from the data
  config.optim.d.lr = 1e-3
  config.reg.r1 = 0.0
  exp = build_experiment(config)
  step = build_train_step(exp)
  state = exp.init_state(jax.random.key(0))
  losses = []
  for _, _, real in batches(exp, 0, 120):
    state, metrics = step(state, real, jax.random.key(1))
    losses.append(float(metrics['d_loss']))
  assert losses[-1] < 0.5 * losses[0], losses


def noisy_config(**train):
  """tiny_config with annealed instance noise: its schedule must not depend on num_steps."""
  config = tiny_config(**train)
  config.d_input.instance_noise = 0.1
  config.d_input.instance_noise_steps = 8
  return config


def test_resume_is_bit_identical(tmp_path):
  straight, _ = train_and_evaluate(noisy_config(num_steps=10), str(tmp_path / 'a'))
  half, _ = train_and_evaluate(noisy_config(num_steps=5), str(tmp_path / 'b'))
  assert int(half.step) == 5
  resumed, _ = train_and_evaluate(noisy_config(num_steps=10), str(tmp_path / 'b'))
  assert int(resumed.step) == int(straight.step) == 10
  for x, y in zip(leaves(straight), leaves(resumed), strict=True):
    np.testing.assert_array_equal(x, y)
  # The mid-run checkpoint of the straight run (saved while training went on) is intact.
  exp = build_experiment(noisy_config())
  mid = checkpoint.Checkpoints(str(tmp_path / 'a'), read_only=True).restore(exp.abstract_state, 5)
  for x, y in zip(leaves(half), leaves(mid), strict=True):
    np.testing.assert_array_equal(x, y)


def test_different_seeds_differ(tmp_path, make_config):
  a, _ = train_and_evaluate(make_config(num_steps=2), str(tmp_path / 'a'))
  config = make_config(num_steps=2)
  config.seed = 1
  b, _ = train_and_evaluate(config, str(tmp_path / 'b'))
  assert not np.array_equal(leaves(a.g_params)[0], leaves(b.g_params)[0])


def test_should_stop_saves_the_current_step(tmp_path, make_config):
  calls = []
  state, stopped = train_and_evaluate(
      make_config(num_steps=10),
      str(tmp_path),
      should_stop=lambda: calls.append(1) or len(calls) >= 3,
  )
  assert stopped and int(state.step) == 3
  assert sorted(os.listdir(tmp_path / 'checkpoints')) == ['3']


DUMP = """
import sys, jax, numpy as np
from tests.conftest import tiny_config
from gan_jax.experiment import build_experiment
from gan_jax.train import batches, train_and_evaluate
n = int(sys.argv[2])
assert jax.device_count() == n, jax.devices()
(_, _, real), = batches(build_experiment(tiny_config()), 0, 1)
x = real['x']
assert x.shape[2] == 16 and {s.data.shape[2] for s in x.addressable_shards} == {16 // n}
from configs import nsgan  # labelled data: each device holds its images with their labels
labelled = build_experiment(nsgan.get_config())
(_, _, b), = batches(labelled, 0, 1)
host = labelled.source.batch(0, 0, 64)
for sx, sy in zip(b['x'].addressable_shards, b['y'].addressable_shards, strict=True):
  assert sx.device == sy.device and sx.index[:3] == sy.index
  rows = sx.index[2]
  assert np.array_equal(np.asarray(sx.data)[0, 0], host['x'][rows])
  assert np.array_equal(np.asarray(sy.data)[0, 0], host['y'][rows])
state, _ = train_and_evaluate(tiny_config(num_steps=6), sys.argv[1])
np.savez(sys.argv[1] + '.npz', *[np.asarray(x) for x in jax.tree_util.tree_leaves(state)])
"""


def test_one_and_four_devices_agree(tmp_path):
  one, four = states_on_devices(DUMP, tmp_path)
  assert len(one.files) == len(four.files) > 10
  for key in one.files:
    np.testing.assert_allclose(one[key], four[key], rtol=1e-4, atol=1e-5, err_msg=key)


def test_main_writes_checkpoints_samples_and_logs_then_sample_restores(tmp_path):
  workdir = tmp_path / 'run'
  result = run_module(
      'experiments.main',
      '--config=configs/mixture_2d.py:ring8',
      f'--workdir={workdir}',
      '--config.train.num_steps=20',
      '--config.train.log_every=10',
      '--config.train.sample_every=10',
      '--config.checkpoint.every_steps=10',
      '--config.model.g_hidden=(32,32)',
      '--config.model.d_hidden=(32,32)',
      '--config.train.steps_per_call=1',
  )
  assert result.returncode == 0, result.stderr[-3000:]
  assert 'steps/s' in result.stdout and 'ETA' in result.stdout
  assert sorted(os.listdir(workdir / 'checkpoints')) == ['10', '20']
  assert sorted(os.listdir(workdir / 'samples')) == ['step_00000010.png', 'step_00000020.png']
  assert (workdir / 'config.json').exists()

  from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

  events = EventAccumulator(str(workdir)).Reload()
  assert {'d_loss', 'g_loss', 'steps_per_sec', 'wall_seconds'} <= set(events.Tags()['scalars'])
  assert [e.step for e in events.Scalars('g_loss')] == [10, 20]
  assert [e.step for e in events.Images('samples')] == [10, 20]  # the scatter plots
  assert 'Devices: ' in result.stdout

  npy = tmp_path / 'out' / 's.npy'
  result = run_module(
      'experiments.sample', f'--workdir={workdir}', '--num=50', f'--out={npy}', '--step=10'
  )
  assert result.returncode == 0, result.stderr[-3000:]
  samples = np.load(npy)
  assert samples.shape == (50, 2) and np.all(np.isfinite(samples))
  png = tmp_path / 's.png'
  assert run_module('experiments.sample', f'--workdir={workdir}', f'--out={png}').returncode == 0
  assert png.stat().st_size > 0

  result = run_module('experiments.evaluate', f'--workdir={workdir}', '--num_samples=500')
  assert result.returncode == 0, result.stderr[-3000:]
  assert 'step 20 modes: modes=' in result.stdout
  live = run_module('experiments.evaluate', f'--workdir={workdir}', '--num_samples=500', '--noema')
  assert live.returncode == 0 and 'live weights' in live.stdout, live.stderr[-3000:]
  assert 'read only' not in result.stderr + live.stderr  # Orbax's notice, silenced
  events = EventAccumulator(str(workdir)).Reload()
  assert {'evaluate/seed0_ema/modes/modes', 'evaluate/seed0_live/modes/modes'} <= set(
      events.Tags()['scalars']
  )
  entries = [e for e in read_results(workdir) if e['by'] == 'experiments.evaluate']
  assert [(e['step'], e['weights'], e['seed']) for e in entries] == [
      (20, 'ema', 0),
      (20, 'live', 0),
  ]
  entry = entries[0]
  assert entry['num_samples'] == 500 and entry['metric'] == 'modes'
  assert 'features' not in entry['protocol'] and entry['protocol']['num_modes'] == 8
  modes = entry['values']
  assert sum(modes['counts']) <= 500
  assert 0 <= modes['modes'] <= 8 and 0 <= modes['high_quality'] <= 1
  bad = run_module('experiments.evaluate', f'--workdir={workdir}', '--metrics=fid')
  assert (
      bad.returncode == 2 and 'error: --metrics=fid: fid: needs image data, not ring8' in bad.stderr
  )

  bad = run_module('experiments.sample', f'--workdir={workdir}', '--step=7', f'--out={npy}')
  assert (
      bad.returncode == 2 and 'error: --step=7: no such checkpoint; available: 10, 20' in bad.stderr
  )

  again = run_module(
      'experiments.main',
      '--config=configs/mixture_2d.py:ring8',
      f'--workdir={workdir}',
      '--config.train.num_steps=20',
      '--config.model.g_hidden=(32,32)',
      '--config.model.d_hidden=(32,32)',
      '--config.train.steps_per_call=1',
  )
  assert again.returncode == 0 and 'already at step 20' in again.stdout


def test_sigterm_saves_a_checkpoint_and_exits_143(tmp_path):
  workdir = tmp_path / 'run'
  proc = subprocess.Popen(
      [
          sys.executable,
          '-m',
          'experiments.main',
          '--config=configs/mixture_2d.py',
          f'--workdir={workdir}',
          '--config.train.num_steps=1000000',
          '--config.train.log_every=100',
          '--config.checkpoint.every_steps=1000000',
      ],
      cwd=ROOT,
      env={**os.environ, 'PYTHONPATH': ROOT},
      stdout=subprocess.PIPE,
      stderr=subprocess.STDOUT,
      text=True,
  )
  for line in proc.stdout:
    if line.startswith('step 100/'):
      break
  proc.send_signal(signal.SIGTERM)
  out, _ = proc.communicate(timeout=120)
  assert proc.returncode == 143, out[-3000:]
  steps = [int(s) for s in os.listdir(workdir / 'checkpoints')]
  assert len(steps) == 1 and steps[0] >= 100
  assert f'Stopped at step {steps[0]}' in out
  from gan_jax.experiment import restore

  _, state = restore(str(workdir))
  assert int(state.step) == steps[0]  # the checkpoint holds the last step reached


def test_tfds_images_train_end_to_end_on_mock_data(tmp_path):
  import tensorflow_datasets as tfds
  from configs import common, hinge
  from gan_jax.models import MODELS

  config = hinge.get_config('cifar10')  # the data path is what is tested: a small MLP pair on it
  config.model = common.entry(MODELS, 'mlp', g_hidden=(32,), d_hidden=(32,), maxout_pieces=2)
  config.train.update(dict(num_steps=2, batch_size=4, log_every=1, sample_every=2, num_samples=4))
  with tfds.testing.mock_data(num_examples=8, policy=tfds.testing.MockPolicy.USE_CODE):
    state, _ = train_and_evaluate(config, str(tmp_path))
  assert int(state.step) == 2
  # Outside the mock the dataset is not there: restoring falls back on the saved shape.
  from gan_jax.experiment import restore
  from gan_jax.sampling import draw

  exp, restored = restore(str(tmp_path))
  assert exp.source.shape == (32, 32, 3)
  assert draw(exp.generator, restored, 3, seed=0).shape == (3, 32, 32, 3)
  assert os.path.exists(tmp_path / 'samples' / 'step_00000002.png')
  from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

  assert 'samples' in EventAccumulator(str(tmp_path)).Reload().Tags()['images']
  assert all(np.all(np.isfinite(x)) for x in leaves(state))


def test_several_steps_per_call_match_one_step_per_call(tmp_path, make_config):
  one, _ = train_and_evaluate(make_config(num_steps=4), str(tmp_path / 'a'))
  config = make_config(num_steps=4, steps_per_call=2, log_every=2)
  config.checkpoint.every_steps = 2
  scanned, _ = train_and_evaluate(config, str(tmp_path / 'b'))
  assert int(scanned.step) == 4
  for x, y in zip(leaves(one), leaves(scanned), strict=True):
    np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5)


def test_resuming_with_another_config_is_refused_and_changes_nothing(tmp_path, make_config):
  train_and_evaluate(make_config(num_steps=2), str(tmp_path))
  saved = (tmp_path / 'config.json').read_text()
  other = make_config(num_steps=4)
  other.loss.name = 'hinge'
  other.model.z_dim = 8
  with pytest.raises(
      UserError,
      match=r"another config \(loss.name: 'non_saturating' -> 'hinge'; model.z_dim: 16 -> 8\)",
  ):
    train_and_evaluate(other, str(tmp_path))
  assert (tmp_path / 'config.json').read_text() == saved
  assert os.listdir(tmp_path / 'checkpoints') == ['2']
  other.model.z_dim = 16  # the loss alone may change on purpose
  state, _ = train_and_evaluate(other, str(tmp_path), allow_config_change=True)
  assert int(state.step) == 4


def test_steps_per_call_is_a_speed_setting_any_step_counts_work(tmp_path, make_config):
  """A run at step 3 resumes with steps_per_call=4; 10 steps end at 10 with logs at 7."""
  train_and_evaluate(make_config(num_steps=3, log_every=1), str(tmp_path))
  config = make_config(num_steps=10, steps_per_call=4, log_every=7)
  config.checkpoint.every_steps = 4
  state, _ = train_and_evaluate(config, str(tmp_path))
  assert int(state.step) == 10
  assert sorted(os.listdir(tmp_path / 'checkpoints'), key=int)[-3:] == ['4', '8', '10']


def test_weight_clipping_holds_in_training(tmp_path, make_config):
  config = make_config(num_steps=2)
  config.loss.name = 'wasserstein'
  config.reg.clip = 0.01
  config.model.d_sn = False
  state, _ = train_and_evaluate(config, str(tmp_path))
  d_leaves = leaves(state.d_params)
  assert all(np.all(np.abs(x) <= 0.01) for x in d_leaves)
  assert any(np.any(np.abs(x) == np.float32(0.01)) for x in d_leaves)  # the bound is active
