"""Drawing samples from a generator: pure generation plus batching at the edge."""

from functools import partial

import jax
import numpy as np


@partial(jax.jit, static_argnums=0)
def generate(generator, params, g_state, z):
  """G(z) in inference mode (BatchNorm running statistics)."""
  return generator.apply({'params': params, **g_state}, z, train=False)


def sample_noise(seed: int, num: int, z_dim: int):
  return jax.random.normal(jax.random.key(seed), (num, z_dim))


def draw(
    generator, state, num: int, seed: int, use_ema: bool = True, chunk: int = 1000, on_progress=None
):
  """`num` samples as a numpy array (the EMA weights and statistics unless `use_ema` is False),
  drawn `chunk` at a time; `on_progress(done)`, if given, is called as the chunks finish."""
  params, g_state = (
      (state.ema_params, state.ema_state) if use_ema else (state.g_params, state.g_state)
  )
  z = np.asarray(sample_noise(seed, num, generator.z_dim))
  parts = []
  for i in range(0, num, chunk):
    parts.append(generate(generator, params, g_state, z[i : i + chunk]))
    if on_progress is not None:
      parts[-1] = np.asarray(parts[-1])
      on_progress(min(i + chunk, num))
  return np.concatenate([np.asarray(p) for p in parts])
