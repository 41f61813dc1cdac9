"""Discriminator regularizers as pure functions.

`PENALTIES[name](d_fn, d_params, real, fake, rng) -> scalar` is added to D's loss
times its weight `config.reg.<name>`; `d_fn(x) -> logits (B,)` is D at fixed
parameters. Two more regularizers act outside the loss: `clip_weights` (WGAN's
projection after each D update) and `add_instance_noise` (on D's inputs).
"""

import jax
import jax.numpy as jnp

from gan_jax.registries import PENALTIES  # pylint: disable=unused-import (re-exported)


def _input_grad_norm(d_fn, x):
  """Per-example ||d D(x) / d x||_2, shape (B,). D has no cross-example terms."""
  grads = jax.grad(lambda x: jnp.sum(d_fn(x)))(x)
  sq = jnp.sum(jnp.square(grads.reshape(grads.shape[0], -1)), axis=1)
  return jnp.sqrt(sq + 1e-12)


def _mix(rng, a, b):
  """a + eps (b - a) with eps ~ U[0, 1] per example."""
  eps = jax.random.uniform(rng, (a.shape[0],) + (1,) * (a.ndim - 1))
  return a + eps * (b - a)


def gradient_penalty(d_fn, d_params, real, fake, rng):
  """WGAN-GP (Gulrajani et al. 2017): E (||grad D(x^)|| - 1)^2, x^ on real-fake lines."""
  del d_params
  x_hat = _mix(rng, real, fake)
  return jnp.mean(jnp.square(_input_grad_norm(d_fn, x_hat) - 1.0))


def dragan(d_fn, d_params, real, fake, rng):
  """DRAGAN (Kodali et al. 2017): E (||grad D(x^)|| - 1)^2 around the data.

  x^ lies between x and x + 0.5 std(x) u, u ~ U[0, 1]^d (the authors' code).
  """
  del d_params, fake
  k_u, k_mix = jax.random.split(rng)
  perturbed = real + 0.5 * jnp.std(real) * jax.random.uniform(k_u, real.shape)
  x_hat = _mix(k_mix, real, perturbed)
  return jnp.mean(jnp.square(_input_grad_norm(d_fn, x_hat) - 1.0))


def r1(d_fn, d_params, real, fake, rng):
  """R1 (Mescheder et al. 2018): 1/2 E ||grad D(x)||^2 on real data."""
  del d_params, fake, rng
  return 0.5 * jnp.mean(jnp.square(_input_grad_norm(d_fn, real)))


def d_l2(d_fn, d_params, real, fake, rng):
  """L2 penalty on D's weights: sum of squares of every parameter."""
  del d_fn, real, fake, rng
  return sum(jnp.sum(jnp.square(p)) for p in jax.tree_util.tree_leaves(d_params))


# PENALTIES (name -> the penalties above) is declared in gan_jax/registries.py: schema reads it.


def clip_weights(params, c):
  """WGAN weight clipping: project every parameter onto [-c, c]."""
  return jax.tree_util.tree_map(lambda p: jnp.clip(p, -c, c), params)


def instance_noise_std(step, sigma0, anneal_steps):
  """Instance-noise std: sigma0, annealed linearly to 0 at `anneal_steps` (0: constant).

  The schedule is fixed by the config, not by `train.num_steps`, so that
  extending a run does not change the noise it already saw.
  """
  if anneal_steps == 0:
    return sigma0
  return sigma0 * jnp.maximum(0.0, 1.0 - step / anneal_steps)


def add_instance_noise(rng, x, std):
  """x + N(0, std^2) (Sonderby et al. 2017; Arjovsky & Bottou 2017)."""
  return x + std * jax.random.normal(rng, x.shape, x.dtype)
