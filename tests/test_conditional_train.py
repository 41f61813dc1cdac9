"""Each new architecture and conditioning method trains a few steps from its config (tiny
widths, spectral norm off: its compile costs 7x and it is traced in test_models_arch.py)."""

import importlib

import jax
import jax.numpy as jnp
import pytest

from gan_jax.train import train_and_evaluate

# Each new architecture and conditioning method trains a few steps from its config (tiny widths;
# no sample grids: the periodic grid of conditional runs is the integrator's train.py).
TRAIN_CASES = [
    ("sngan_projection", None, dict(g_width=8, d_width=8, z_dim=8, d_sn=False)),  # resnet+cBN+proj
    ("acgan", None, dict(g_hidden=(16,), d_hidden=(16,), z_dim=8)),  # mlp acgan + class loss
    ("cgan", None, dict(g_hidden=(16,), d_hidden=(16,), z_dim=8, conditioning="embed")),
    ("dcgan", None, dict(width=4, z_dim=8, conditioning="acgan")),  # dcgan, cBN + class head
]


@pytest.mark.parametrize("name,arg,model", TRAIN_CASES)
def test_configs_train_a_few_steps(name, arg, model, tmp_path):
  config = importlib.import_module(f"configs.{name}").get_config(arg)
  config.model.update(model)
  if config.model.conditioning == "acgan":
    config.reg.acgan = 1.0
  config.train.update(dict(num_steps=2, batch_size=4, log_every=1, sample_every=0, d_steps=1))
  config.checkpoint.every_steps = 2
  state, _ = train_and_evaluate(config, str(tmp_path))
  assert int(state.step) == 2
  assert all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree.leaves(state.g_params))
