"""gan_jax.rng: its keys draw JAX's threefry2x32 numbers bit for bit, every way the suite draws.

Every distribution jax.random has is a function of `random_bits`, the one thing the key's
implementation changes, so the bits of each rank and the two transforms the models use most
(normal through a Flax init, bernoulli through dropout) cover them. Shapes are small: JAX's own
keys are the slow compile that gan_jax.rng exists to avoid.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import rng

SHAPES = [(5,), (3, 7), (2, 2, 2, 2)]
NET = nn.Sequential([nn.Conv(2, (1, 1)), nn.Dropout(0.5, deterministic=False)])


def draws(key):
  """Every kind of draw, from keys split and folded in as the programs do."""
  key = jax.random.fold_in(jax.random.split(key, 3)[2], 5)
  k_bits, k_normal, k_init, k_drop = jax.random.split(key, 4)
  x = jnp.ones((1, 3, 3, 3))
  variables = NET.init({'params': k_init, 'dropout': k_drop}, x)
  return {
      'bits': [jax.random.bits(jax.random.fold_in(k_bits, i), s) for i, s in enumerate(SHAPES)],
      'normal': jax.random.normal(k_normal, (2, 3, 4)),
      'init': variables,
      'dropout': NET.apply(variables, x, rngs={'dropout': k_drop}),
  }


def test_every_draw_equals_jaxs_own_through_split_and_fold_in():
  ours, theirs = rng.key(7), jax.random.key(7)
  np.testing.assert_array_equal(jax.random.key_data(ours), jax.random.key_data(theirs))
  a, b = jax.jit(draws)(ours), jax.jit(draws)(theirs)
  assert jax.tree.structure(a) == jax.tree.structure(b)
  for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
    assert x.shape == y.shape and x.dtype == y.dtype
    np.testing.assert_array_equal(x, y)
  assert 0 < float(jnp.mean(a['dropout'] == 0)) < 1  # the mask drew both ways


def test_keys_derived_from_it_keep_its_implementation():
  key = rng.key(0)
  assert jax.random.key_impl(jax.random.split(key)[0]) == jax.random.key_impl(key)
  assert jax.random.key_impl(jax.random.fold_in(key, 1)) == jax.random.key_impl(key)
  assert jax.random.key_impl(key) != jax.random.key_impl(jax.random.key(0))


def test_the_programs_draw_with_its_keys(tmp_path):
  from configs import mixture_2d
  from gan_jax.programs.gan import GanProgram

  program = GanProgram(mixture_2d.get_config('ring8'), str(tmp_path))
  for key in (program.k_init, program.k_train):
    assert jax.random.key_impl(key) == jax.random.key_impl(rng.key(0))
