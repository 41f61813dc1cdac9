"""Inception Score (Salimans et al. 2016) from class probabilities.

  IS = exp( E_x KL(p(y|x) || p(y)) ),  p(y) = E_x p(y|x),

computed on `splits` consecutive equal parts (10 in the original code);
returns the mean and std over the parts.
"""

import numpy as np


def inception_score(probs, splits=10) -> dict:
  """probs (N, K) rows summing to 1 -> {'is': mean, 'is_std': std over splits}."""
  p = np.asarray(probs, dtype=np.float64)
  if p.ndim != 2 or len(p) < splits:
    raise ValueError(f'need probabilities (N >= splits={splits}, K), got {p.shape}')
  scores = []
  for part in np.array_split(p, splits):
    py = part.mean(axis=0, keepdims=True)
    kl = np.sum(part * (np.log(np.clip(part, 1e-30, None)) - np.log(np.clip(py, 1e-30, None))), 1)
    scores.append(np.exp(kl.mean()))
  return {'is': float(np.mean(scores)), 'is_std': float(np.std(scores))}
