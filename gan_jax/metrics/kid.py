"""Kernel Inception Distance (Bińkowski et al. 2018) from features.

Unbiased MMD^2 with the cubic polynomial kernel k(x, y) = (x.y / D + 1)^3,
averaged over `num_subsets` random subsets of `subset_size` rows of each set
(drawn without replacement within a subset), as in the paper's code and
torch-fidelity (100 subsets of 1000). Returns the mean, and the std over subsets when
there are >= 2 different ones: with subsets as large as both sets every subset is the
whole of both, so one MMD^2 is computed and there is no std.
"""

import numpy as np


def polynomial_kernel(x, y, degree=3, gamma=None, coef=1.0):
  gamma = 1.0 / x.shape[1] if gamma is None else gamma
  return (gamma * (x @ y.T) + coef) ** degree


def mmd2_unbiased(x, y) -> float:
  """Unbiased MMD^2 of samples x (m, D), y (n, D) under the polynomial kernel."""
  m, n = len(x), len(y)
  kxx, kyy, kxy = polynomial_kernel(x, x), polynomial_kernel(y, y), polynomial_kernel(x, y)
  sxx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
  syy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
  return float(sxx + syy - 2 * kxy.mean())


def subset_plan(n1, n2, num_subsets=100, subset_size=1000) -> tuple[int, int]:
  """(number of different subsets, their size) for sets of n1 and n2 rows: the size is capped
  by the sets; subsets that take all of both sets are one subset."""
  size = min(subset_size, n1, n2)
  return (1 if size == n1 == n2 else num_subsets), size


def kid(features1, features2, num_subsets=100, subset_size=1000, seed=0) -> dict:
  """{'kid': mean MMD^2 over subsets, 'kid_std': its std (only with >= 2 subsets)}."""
  x = np.asarray(features1, dtype=np.float64)
  y = np.asarray(features2, dtype=np.float64)
  num_subsets, size = subset_plan(len(x), len(y), num_subsets, subset_size)
  if size < 2:
    raise ValueError(f'KID needs >= 2 rows in each set, got {len(x)} and {len(y)}')
  if num_subsets == 1:
    return {'kid': mmd2_unbiased(x, y)}
  rng = np.random.default_rng(seed)
  values = [
      mmd2_unbiased(
          x[rng.choice(len(x), size, replace=False)], y[rng.choice(len(y), size, replace=False)]
      )
      for _ in range(num_subsets)
  ]
  return {'kid': float(np.mean(values)), 'kid_std': float(np.std(values))}
