"""The exponential moving average of the generator, with a warm-up.

  decay_t = min(decay, (1 + t) / (10 + t))
  ema_t   = decay_t * ema_{t-1} + (1 - decay_t) * theta_t

where t is the number of generator updates made before this one (the `num_updates` rule of
TensorFlow's `tf.train.ExponentialMovingAverage`). Without the warm-up an EMA started from the
initial generator keeps (decay)^t of it: 0.999^500 = 61 % after 500 steps, so a short run's EMA
samples are noise. With it the average forgets the initial weights within tens of steps and
reaches the configured decay after (10 decay - 1) / (1 - decay) updates (8,991 for 0.999).

The average covers the generator's parameters and its non-parameter variables (BatchNorm's
running statistics, spectral norm's u and sigma), as BigGAN-PyTorch's `ema` averages a module's
parameters and buffers alike: EMA weights used with the live generator's statistics would
normalise with statistics of other weights.
"""

import jax
import jax.numpy as jnp


def ema_decay(num_updates, decay):
  """decay_t = min(decay, (1 + t) / (10 + t)), t = `num_updates` (an int array or int)."""
  t = jnp.asarray(num_updates, jnp.float32)
  return jnp.minimum(decay, (1.0 + t) / (10.0 + t))


def ema_update(average, new, decay_t):
  """decay_t * average + (1 - decay_t) * new, leaf by leaf; integer leaves take `new`."""

  def one(a, n):
    if not jnp.issubdtype(n.dtype, jnp.inexact):
      return n
    return (decay_t * a + (1 - decay_t) * n).astype(n.dtype)

  return jax.tree_util.tree_map(one, average, new)
