"""Everything a config describes, built and checked before anything is written.

`build_experiment(config)` validates the config, opens the dataset, builds the
models and optimizers and traces the state's shapes (no compilation); any
problem surfaces here as a `UserError` with one line. `restore(workdir, step)`
rebuilds a trained run from its saved config and checkpoint.
"""

import dataclasses
import os
from functools import partial

import jax

from gan_jax import checkpoint
from gan_jax import config as config_lib
from gan_jax.checkpoint import abstract_like
from gan_jax.data import get_dataset
from gan_jax.models import build_models
from gan_jax.optimizers import build_optimizer
from gan_jax.sharding import make_mesh, replicated
from gan_jax.state import create_state


class UserError(Exception):
  """A mistake in the user's input (config, flags, paths, data): one line, no traceback."""


@dataclasses.dataclass
class Experiment:
  config: object
  source: object  # gan_jax.data Source
  generator: object
  discriminator: object
  g_tx: object
  d_tx: object
  mesh: object
  init_state: object  # jitted rng -> TrainState, replicated over the mesh
  abstract_state: object  # its ShapeDtypeStructs with shardings


def build_experiment(config) -> Experiment:
  try:
    config_lib.validate(config, jax.device_count())
  except config_lib.ConfigError as e:
    raise UserError(str(e)) from None
  try:
    source = get_dataset(config.data.name, **config_lib.entry_fields(config.data))
  except (ValueError, OSError, RuntimeError, ImportError) as e:
    raise UserError(f'config.data ({config.data.name}): {e}') from None
  try:
    generator, discriminator = build_models(
        config.model.name, tuple(source.shape), **config_lib.entry_fields(config.model)
    )
    g_tx = build_optimizer(config.optim.g.name, **config_lib.entry_fields(config.optim.g))
    d_tx = build_optimizer(config.optim.d.name, **config_lib.entry_fields(config.optim.d))
    mesh = make_mesh()
    init = partial(
        create_state,
        generator=generator,
        discriminator=discriminator,
        g_tx=g_tx,
        d_tx=d_tx,
        data_shape=tuple(source.shape),
    )
    abstract = abstract_like(jax.eval_shape(init, jax.random.key(0)), replicated(mesh))
  except (ValueError, TypeError) as e:
    raise UserError(
        f'config.model ({config.model.name}) on data of shape {tuple(source.shape)}: {e}'
    ) from None
  init_state = jax.jit(init, out_shardings=replicated(mesh))
  return Experiment(
      config, source, generator, discriminator, g_tx, d_tx, mesh, init_state, abstract
  )


def restore(workdir, step=None):
  """(experiment, state) of the checkpoint at `step` (latest if None) of `workdir`."""
  if not os.path.isfile(os.path.join(workdir, checkpoint.CONFIG_FILE)):
    raise UserError(f'--workdir={workdir}: no {checkpoint.CONFIG_FILE}; not a training workdir')
  exp = build_experiment(checkpoint.load_config(workdir))
  ckpts = checkpoint.Checkpoints(workdir, read_only=True)
  steps = ckpts.all_steps()
  if not steps:
    raise UserError(f'--workdir={workdir}: has no checkpoint yet')
  if step is not None and step not in steps:
    raise UserError(f'--step={step}: no such checkpoint; available: {", ".join(map(str, steps))}')
  return exp, ckpts.restore(exp.abstract_state, step)
