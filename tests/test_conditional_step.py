"""Labels through the step: ACGAN's class loss, and the conditional configs' bad input."""

import os

import jax
import pytest

from configs import acgan, cgan, mixture_2d
from gan_jax.experiment import UserError, build_experiment
from gan_jax.step import build_train_step
from gan_jax.train import batches
from tests.conftest import run_module


def test_acgan_class_loss_falls_on_separable_digits():
  """D's class head learns the ten digit classes of mnist5k: its cross-entropy (real and fake
  together) falls well below its start, ln 10 = 2.30."""
  config = acgan.get_config()
  config.model.update(z_dim=16, g_hidden=(64,), d_hidden=(128,))
  config.train.update(num_steps=150, batch_size=32)
  config.optim.d.lr = 1e-3
  exp = build_experiment(config)
  assert exp.num_classes == 10
  step = build_train_step(exp)
  state = exp.init_state(jax.random.key(0))
  losses = []
  for _, _, batch in batches(exp, 0, 150):
    state, metrics = step(state, batch, jax.random.key(1))
    losses.append(float(metrics['d_class']))
  first, last = sum(losses[:10]) / 10, sum(losses[-10:]) / 10
  assert first > 1.8 and last < 0.6 * first, (first, last)
  assert 'g_class' in metrics


@pytest.mark.parametrize(
    'edit, error',
    [
        (
            lambda c: c.update_from_flattened_dict({'model.conditioning': 'concat'}),
            r"config.model.conditioning='concat': data ring8 has no labels",
        ),
        (
            lambda c: c.update_from_flattened_dict({'reg.acgan': 1.0}),
            r'config.reg.acgan=1.0: the class loss goes with model.conditioning=acgan',
        ),
    ],
)
def test_conditioning_needs_labels_and_acgan_its_head(edit, error):
  config = mixture_2d.get_config('ring8')
  edit(config)
  with pytest.raises(UserError, match=error):
    build_experiment(config)


def test_num_classes_must_agree_with_the_data():
  config = cgan.get_config()
  config.model.num_classes = 7
  with pytest.raises(UserError, match=r'config.model.num_classes=7: data mnist5k has 10 classes'):
    build_experiment(config)


def test_bad_conditional_input_is_one_line_exit_2_nothing_written(tmp_path):
  workdir = tmp_path / 'run'
  result = run_module(
      'experiments.main',
      '--config=configs/sngan_projection.py',
      f'--workdir={workdir}',
      '--config.model.attention_res=5',
  )
  assert result.returncode == 2, result.stderr[-2000:]
  lines = result.stderr.strip().splitlines()
  assert len(lines) == 1 and lines[0].startswith('error: config.model.'), lines
  assert 'attention_res' in lines[0]
  assert not os.path.exists(workdir)
