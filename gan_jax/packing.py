"""Packing (PacGAN, Lin et al. 2018): D judges `k` samples at once.

  pack(x, k): (B, ..., C) -> (B / k, ..., k C), examples i k .. i k + k - 1 concatenated along the
  last axis (features of flat data, channels of NHWC images).
"""

import jax.numpy as jnp


def pack(x, k):
  if k == 1:
    return x
  b = x.shape[0]
  if b % k:
    raise ValueError(f'a batch of {b} cannot be packed by {k}')
  x = x.reshape((b // k, k, *x.shape[1:]))
  return jnp.concatenate([x[:, i] for i in range(k)], axis=-1)
