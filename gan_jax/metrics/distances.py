"""Batched pairwise squared Euclidean distances in JAX (rows of `a` in chunks)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np


@jax.jit
def sq_distances(a, b):
  """|a_i - b_j|^2 (n, m) in float32, clipped at 0."""
  d = jnp.sum(a * a, 1)[:, None] + jnp.sum(b * b, 1)[None, :] - 2 * a @ b.T
  return jnp.maximum(d, 0)


def map_row_chunks(fn, a, *args, chunk=1024):
  """Concatenate fn(a[i:i+chunk], *args) over row chunks of `a` (the last one padded, so that
  `fn` compiles once), as numpy."""
  a = np.asarray(a, np.float32)
  n, outs = len(a), []
  for i in range(0, n, chunk):
    part = a[i : i + chunk]
    pad = chunk - len(part) if n > chunk else 0
    out = fn(np.pad(part, ((0, pad), (0, 0))), *args)
    outs.append(np.asarray(out)[: len(part)])
  return np.concatenate(outs)


@functools.partial(jax.jit, static_argnames='k')
def kth_neighbour_sq_distance(a, b, k):
  """Squared distance from each row of `a` to its k-th nearest row of `b` (1 = nearest)."""
  neg, _ = jax.lax.top_k(-sq_distances(a, b), k)
  return -neg[:, k - 1]
