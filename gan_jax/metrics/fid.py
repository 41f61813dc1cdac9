"""Fréchet Inception Distance (Heusel et al. 2017) from features.

  FID = |mu_1 - mu_2|^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^(1/2))

with mu, S the mean and covariance (ddof=1, as pytorch-fid / TTUR) of the two
feature sets. Tr (S_1 S_2)^(1/2) is computed in float64 as the sum of square
roots of the eigenvalues of the symmetric PSD matrix S_1^(1/2) S_2 S_1^(1/2),
which has the same eigenvalues as S_1 S_2: no complex parts, no failing sqrtm.
"""

import numpy as np


def feature_stats(features) -> tuple[np.ndarray, np.ndarray]:
  """(mean, covariance) in float64 of features (N, D), N >= 2."""
  x = np.asarray(features, dtype=np.float64)
  if x.ndim != 2 or x.shape[0] < 2:
    raise ValueError(f'need features of shape (N >= 2, D), got {x.shape}')
  return x.mean(axis=0), np.cov(x, rowvar=False)


def _psd_sqrt(s: np.ndarray) -> np.ndarray:
  w, v = np.linalg.eigh(s)
  return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def trace_sqrt_product(s1, s2) -> float:
  """Tr (S_1 S_2)^(1/2) for symmetric PSD S_1, S_2."""
  r = _psd_sqrt(np.asarray(s1, dtype=np.float64))
  m = r @ np.asarray(s2, dtype=np.float64) @ r
  w = np.linalg.eigvalsh((m + m.T) / 2)
  return float(np.sqrt(np.clip(w, 0, None)).sum())


def frechet_distance(mu1, s1, mu2, s2) -> float:
  """Fréchet distance between N(mu1, s1) and N(mu2, s2)."""
  mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
  diff = mu1 - mu2
  tr = np.trace(s1) + np.trace(s2) - 2 * trace_sqrt_product(s1, s2)
  return float(diff @ diff + tr)


def fid(features1, features2) -> float:
  """FID between two feature sets (N, D)."""
  return frechet_distance(*feature_stats(features1), *feature_stats(features2))
