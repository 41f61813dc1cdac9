"""The suite's PRNG keys: `key(seed)` is `jax.random.key(seed)` with an implementation (`IMPL`,
'threefry2x32_matrix') that is JAX's threefry2x32 in everything (seed, split, fold_in, the key
data, every number drawn) except how a draw of rank >= 3 is built: as the matrix
(shape[0], prod(shape[1:])), then reshaped.

Why: threefry's bits are a function of each element's row-major index, so the matrix reshaped
is the same array, bit for bit (tests/test_rng.py); but XLA:CPU unrolls the hash over small
trailing axes, and a 3x3x4x8 conv kernel's draw compiled in 15 s where the 3x96 matrix took
1.4 s (`python -m benchmarks.random_compile`). Every conv model's init, dropout mask and image
noise is such a draw. The first axis is kept so a draw over a batch-sharded axis stays one.

Keys carry their implementation through split and fold_in, so every key derived from `key(seed)`
(Flax's init and dropout rngs included) draws this way. Keys are never checkpointed (the state
holds none), so old runs resume as before.
"""

import math

import jax
import jax.extend.random as jax_random

_THREEFRY = jax_random.threefry_prng_impl


def _random_bits(key_data, bit_width, shape):
  """threefry2x32's bits of `shape`, drawn as (shape[0], rest) where the rank is >= 3."""
  if len(shape) < 3:
    return _THREEFRY.random_bits(key_data, bit_width, shape)
  matrix = (shape[0], math.prod(shape[1:]))
  return _THREEFRY.random_bits(key_data, bit_width, matrix).reshape(shape)


IMPL = jax_random.define_prng_impl(
    key_shape=_THREEFRY.key_shape,
    seed=_THREEFRY.seed,
    split=_THREEFRY.split,
    random_bits=_random_bits,
    fold_in=_THREEFRY.fold_in,
    name='threefry2x32_matrix',
    tag='frym',
)


def key(seed) -> jax.Array:
  """A typed PRNG key of `seed` (int or int array), JAX's threefry2x32 numbers (see above)."""
  return jax.random.key(seed, impl=IMPL)
