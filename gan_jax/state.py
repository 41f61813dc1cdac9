"""The training state: one pytree that holds everything a step changes."""

from typing import Any

import flax
import jax
import jax.numpy as jnp


@flax.struct.dataclass
class TrainState:
  """Everything the train step reads and writes.

  `g_state` / `d_state` hold the non-parameter variables (BatchNorm and
  spectral-norm statistics); they may be empty dicts. `ema_params` / `ema_state`
  are the moving averages of `g_params` / `g_state` (gan_jax/ema.py).
  """

  step: jax.Array
  g_params: Any
  g_state: Any
  d_params: Any
  d_state: Any
  g_opt: Any
  d_opt: Any
  ema_params: Any
  ema_state: Any


def _split_variables(variables):
  variables = dict(variables)
  params = variables.pop('params')
  return params, variables


def create_state(rng, generator, discriminator, g_tx, d_tx, example):
  """Fresh state from `rng` (pure: run it under jit / eval_shape).

  `example` is a batch pytree of two examples as D sees them ({'x': (2, ...), 'y': (2,)}, after
  the D-input transform); G's labels are the same `y`.
  """
  k_g, k_d, k_drop = jax.random.split(rng, 3)
  y = example.get('y')
  labels = {} if y is None else {'y': y}
  z = jnp.zeros((y.shape[0] if y is not None else 2, generator.z_dim), jnp.float32)
  g_params, g_state = _split_variables(generator.init({'params': k_g}, z, train=False, **labels))
  d_params, d_state = _split_variables(
      discriminator.init({'params': k_d, 'dropout': k_drop}, example['x'], train=False, **labels)
  )
  return TrainState(
      step=jnp.zeros((), jnp.int32),
      g_params=g_params,
      g_state=g_state,
      d_params=d_params,
      d_state=d_state,
      g_opt=g_tx.init(g_params),
      d_opt=d_tx.init(d_params),
      ema_params=g_params,
      ema_state=g_state,
  )
