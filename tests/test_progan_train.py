"""Progressive growing trained on the shared loop (gan_jax/programs/progressive.py): one compile
per stage, resumed mid-fade bit for bit, bad input refused before anything is written."""

import contextlib
import io
import os
import signal
import subprocess
import sys

import jax
import numpy as np
import pytest

from configs import progan as progan_config
from gan_jax import checkpoint, sampling
from gan_jax.errors import UserError
from gan_jax.experiment import restore
from gan_jax.programs.progressive import ProgressiveProgram, generator_at, stage_ends
from gan_jax.train import train_and_evaluate
from tests.conftest import KILL_INSIDE_SAVE, ROOT, run_module, states_on_devices

# smoke: 8 images a step, stage 1 (8x8) fades in over steps 4-7 and is stable from step 8; no
# sample files and checkpoints only at the end (the tests draw their own samples)
ARG = 'smoke,train.num_steps={},train.sample_every=0,checkpoint.every_steps=100'


def _train(arg, workdir):
  """train_and_evaluate of configs/progan.py:<arg> -> what it printed."""
  out = io.StringIO()
  with contextlib.redirect_stdout(out):
    train_and_evaluate(progan_config.get_config(arg), workdir)
  return out.getvalue()


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
  root = tmp_path_factory.mktemp('progan')
  full, part = str(root / 'full'), str(root / 'part')
  printed = _train(ARG.format(10), full)
  _train(ARG.format(6), part)  # stops mid-fade (alpha 0.5)
  resumed = _train(ARG.format(10), part)  # the same command, longer
  return full, part, printed, resumed


@pytest.mark.slow
def test_resumed_mid_fade_the_run_ends_bit_identical(runs):
  full, part, _, resumed = runs
  assert 'At stage 1 (8x8), alpha 0.5000, 48 images shown.' in resumed
  (exp, a), (_, b) = restore(full), restore(part)
  g_at = lambda state: generator_at(exp, int(state.step), 8)
  assert int(a.step) == int(b.step) == 10
  jax.tree_util.tree_map(np.testing.assert_array_equal, a, b)
  np.testing.assert_array_equal(sampling.draw(g_at(a), a, 8, 0), sampling.draw(g_at(b), b, 8, 0))
  counts = lambda opt: [int(c) for c in jax.tree_util.tree_leaves(opt) if c.dtype == np.int32]
  assert counts(a.g_opt) == counts(a.d_opt) == [6]  # Adam restarted at stage 1's step 4
  meta = checkpoint.Checkpoints(part, read_only=True).metadata(6)['progressive']
  assert meta == {'stage': 1, 'resolution': 8, 'alpha': 0.5, 'images': 48}


@pytest.mark.slow
def test_each_stage_compiles_once_and_the_progress_line_says_where(runs):
  printed = runs[2]
  assert printed.count('Stage 0 (4x4): compiled in') == 1
  assert printed.count('Stage 1 (8x8): compiled in') == 1
  assert 'step 4/10 ' in printed and '| stage 1 8x8 alpha 0.000' in printed
  assert '| stage 1 8x8 alpha 1.000' in printed


@pytest.mark.parametrize(
    'arg, match',
    [
        ('smoke,progressive.stable_images=0', 'config.progressive.stable_images=0: must be >= 1'),
        ('smoke,progressive.fade_images=-5', 'config.progressive.fade_images=-5: must be >= 0'),
        ('smoke,loss.name=hinge', 'progressive growing trains WGAN-GP'),
        ('smoke,progressive.first_resolution=64', 'first_resolution=64: above the model'),
        ('smoke,progressive.first_resolution=12', 'first_resolution=12: must be a power of two'),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, arg, match):
  workdir = str(tmp_path / 'never')
  with pytest.raises(UserError, match=match):
    ProgressiveProgram(progan_config.get_config(arg), workdir)
  assert not os.path.exists(workdir)


@pytest.mark.slow
def test_samples_at_a_reached_resolution_and_one_line_for_the_others(runs):
  full = runs[0]
  exp, state = restore(full)  # step 10: stage 1 (8x8) reached, stable
  g = generator_at(exp, 10, 8)
  assert (g.stage, g.alpha) == (1, 1.0)
  assert sampling.draw(g, state, 4, 0).shape == (4, 8, 8, 1)
  assert generator_at(exp, 5, 8).alpha == pytest.approx(0.25)  # step 5: 40 images, mid-fade
  for resolution, match in [(12, 'power of two times 4'), (64, 'at most 32'), (16, 'not reached')]:
    with pytest.raises(UserError, match=f'--resolution={resolution}: .*{match}'):
      generator_at(exp, 10, resolution)


# smoke for 16 steps, a checkpoint every step: stage 2 (16x16) fades in over steps 12-15
KILLED_ARGS = [
    '--config=configs/progan.py:smoke',
    '--config.train.num_steps=16',
    '--config.train.sample_every=0',
    '--config.checkpoint.every_steps=1',
]


def _python(args, timeout=600, **env):
  return subprocess.run(
      [sys.executable, *args],
      cwd=ROOT,
      env={**os.environ, 'PYTHONPATH': ROOT, **env},
      capture_output=True,
      text=True,
      timeout=timeout,
  )


@pytest.mark.slow
def test_kill_9_mid_fade_then_the_same_command_ends_bit_identical(tmp_path):
  """SIGKILL inside the save of step 14 (stage 2 fading in, alpha 0.5): the same command resumes
  at step 13 (alpha 0.25) and ends equal, bit for bit, to an uninterrupted run."""
  command = ['-m', 'experiments.main', *KILLED_ARGS]
  straight = _python([*command, f'--workdir={tmp_path / "straight"}'])
  assert straight.returncode == 0, straight.stderr[-3000:]
  workdir = tmp_path / 'killed'
  killed = _python(
      ['-c', KILL_INSIDE_SAVE, *KILLED_ARGS, f'--workdir={workdir}'], KILL_IN_SAVE_OF_STEP='14'
  )
  assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
  assert checkpoint.Checkpoints(str(workdir), read_only=True).all_steps()[-1] == 13
  resumed = _python([*command, f'--workdir={workdir}'])
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  assert 'At stage 2 (16x16), alpha 0.2500, 104 images shown.' in resumed.stdout
  (exp, a), (_, b) = restore(str(tmp_path / 'straight')), restore(str(workdir))
  assert int(a.step) == int(b.step) == 16
  jax.tree_util.tree_map(np.testing.assert_array_equal, a, b)
  g_at = lambda state: generator_at(exp, 16, 16)
  np.testing.assert_array_equal(sampling.draw(g_at(a), a, 8, 0), sampling.draw(g_at(b), b, 8, 0))


DUMP = """
import sys, jax, numpy as np
from configs import progan
from gan_jax.train import train_and_evaluate
assert jax.device_count() == int(sys.argv[2]), jax.devices()
config = progan.get_config('smoke,train.num_steps=7,train.sample_every=0,checkpoint.every_steps=7')
state, _ = train_and_evaluate(config, sys.argv[1])
np.savez(sys.argv[1] + '.npz', *[np.asarray(x) for x in jax.tree_util.tree_leaves(state)])
"""


# 4 fake devices in subprocesses; the GAN program's own 1-vs-4 test (test_train.py) stays in CI
@pytest.mark.slow
def test_one_and_four_devices_agree(tmp_path):
  """7 steps of smoke (stage 0, then stage 1 fading in) on 1 and 4 devices (each batch of 8
  split over them; the minibatch stddev groups span devices): the same state to float rounding."""
  one, four = states_on_devices(DUMP, tmp_path)
  assert len(one.files) == len(four.files) > 20
  for key in one.files:
    np.testing.assert_allclose(one[key], four[key], rtol=1e-4, atol=1e-5, err_msg=key)


@pytest.mark.slow  # ~80 s: every stage of a conditional growing pair (CI keeps the schedule tests)
def test_a_conditional_pair_grows_and_draws_a_row_per_class(tmp_path):
  """smoke,conditional (projection D, labels joined to z) through stage 1's fade-in: finite
  losses, and the sample grid of the stage has one row per class."""
  printed = _train(ARG.format(5) + ',conditional,train.sample_every=2', str(tmp_path))
  assert 'step 5/5 ' in printed and 'nan' not in printed
  sheet = run_module('launch.stage_sheet', f'--workdir={tmp_path}')  # samples at 2, 4, 5
  assert sheet.returncode == 0, sheet.stderr[-2000:]
  assert '4x4 (step 4), 8x8 (step 5)' in sheet.stdout and (tmp_path / 'stages.png').is_file()
  exp, state = restore(str(tmp_path))
  assert exp.num_classes == 10
  g = generator_at(exp, 5, 8)
  samples, labels = sampling.draw(g, state, 20, 0)
  assert samples.shape == (20, 8, 8, 1) and list(labels[:10]) == list(range(10))


def test_stage_ends_pick_each_stages_last_sample():
  """smoke (8 images a step; stages start at steps 4, 12, 20): the last sample step of each
  stage, judged by the iteration that ran; the fixed-resolution run has only its last stage."""
  config = progan_config.get_config('smoke')
  ends = stage_ends(config, 28, [2, 4, 6, 12, 14, 28])
  assert ends == [(0, 4, 4), (1, 8, 12), (2, 16, 14), (3, 32, 28)]
  config.progressive.first_resolution = 32
  assert stage_ends(config, 28, [2, 4, 28]) == [(3, 32, 28)]
  with pytest.raises(UserError, match='first_resolution=64: above'):
    config.progressive.first_resolution = 64
    stage_ends(config, 28, [2])
