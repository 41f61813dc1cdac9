"""The remedies train end to end through experiments' own path: f-GAN losses, packing,
DiffAugment on images, unrolling; a few steps each, every parameter finite."""

import jax
import numpy as np
import pytest

from configs import common
from gan_jax.train import train_and_evaluate
from tests.conftest import tiny_config


def _small(**fields):
  """The tiny grid25 config without BatchNorm, SN and dropout, 4 steps, then `fields` in order
  (setting loss.name spells out that loss's fields first)."""
  config = tiny_config(num_steps=4, log_every=2, d_steps=1)
  config.checkpoint.every_steps = 4
  config.model.update(g_batchnorm=False, d_sn=False, d_dropout=0.0)
  for key, value in fields.items():
    common.apply_overrides(config, {key: value})
  return config


def _finite(state):
  return all(np.all(np.isfinite(x)) for x in jax.tree_util.tree_leaves(jax.device_get(state)))


@pytest.mark.parametrize(
    'fields',
    [
        {'loss.name': 'f_gan', 'loss.divergence': 'reverse_kl'},
        {'loss.name': 'f_gan', 'loss.divergence': 'kl', 'loss.g_loss': 'saturating'},
        {'d_input.pack': 4},
        {'train.unroll_steps': 2, 'loss.name': 'f_gan', 'loss.divergence': 'pearson'},
    ],
    ids=lambda f: ','.join(f'{k}={v}' for k, v in f.items()),
)
def test_2d_remedies_train(tmp_path, fields):
  state, stopped = train_and_evaluate(_small(**fields), str(tmp_path))
  assert not stopped and int(state.step) == 4 and _finite(state)


def test_diffaugment_trains_on_images(tmp_path):
  from configs import nsgan  # pylint: disable=g-import-not-at-top

  config = nsgan.get_config()
  config.model.update(g_hidden=(32,), d_hidden=(32,), z_dim=8)
  config.train.update(num_steps=2, log_every=1, sample_every=0, batch_size=8, num_samples=8)
  config.checkpoint.every_steps = 2
  config.d_input.diffaugment = 'color,translation,cutout'
  config.d_input.pack = 2
  state, _ = train_and_evaluate(config, str(tmp_path))
  assert int(state.step) == 2 and _finite(state)
