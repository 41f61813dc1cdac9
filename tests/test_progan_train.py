"""Progressive growing trained on the shared loop (gan_jax/programs/progressive.py): one compile
per stage, resumed mid-fade bit for bit, bad input refused before anything is written."""

import contextlib
import io
import os

import jax
import numpy as np
import pytest

from configs import progan as progan_config
from gan_jax import checkpoint, sampling
from gan_jax.errors import UserError
from gan_jax.experiment import restore
from gan_jax.programs.progressive import ProgressiveProgram, generator_at
from gan_jax.train import train_and_evaluate

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
