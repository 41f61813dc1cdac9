"""Improved precision and recall (Kynkäänniemi et al. 2019) on any feature space.

The manifold of a set is the union of balls around its points, each with the
radius of the distance to its k-th nearest neighbour in the same set (k = 3).
  precision = share of generated points inside the real manifold,
  recall    = share of real points inside the generated manifold.
Distances are computed in float32 with JAX, in chunks of rows.
"""

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.metrics.distances import kth_neighbour_sq_distance, map_row_chunks, sq_distances


def manifold_radii(features, k=3, chunk=1024) -> np.ndarray:
  """Squared radius of each point: its k-th nearest neighbour in the set, itself excluded."""
  x = np.asarray(features, np.float32)
  if len(x) <= k:
    raise ValueError(f'need more than k={k} points, got {len(x)}')
  # the point itself is its own nearest neighbour (distance 0): take the (k + 1)-th
  return map_row_chunks(lambda a, b: kth_neighbour_sq_distance(a, b, k + 1), x, x, chunk=chunk)


@jax.jit
def _inside(queries, points, sq_radii):
  return jnp.any(sq_distances(queries, points) <= sq_radii[None, :], axis=1)


def coverage_share(queries, points, sq_radii, chunk=1024) -> float:
  """Share of `queries` inside the union of balls around `points`."""
  pts = np.asarray(points, np.float32)
  inside = map_row_chunks(_inside, queries, pts, np.asarray(sq_radii, np.float32), chunk=chunk)
  return float(np.mean(inside))


def precision_recall(real, fake, k=3, chunk=1024) -> dict:
  """{'precision', 'recall'} of generated features `fake` against `real` (N, D)."""
  real, fake = np.asarray(real, np.float32), np.asarray(fake, np.float32)
  precision = coverage_share(fake, real, manifold_radii(real, k, chunk), chunk)
  recall = coverage_share(real, fake, manifold_radii(fake, k, chunk), chunk)
  return {'precision': precision, 'recall': recall}
