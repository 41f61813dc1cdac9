"""Mode coverage on 2D Gaussian mixtures (the VEEGAN / PacGAN protocol).

A sample is high quality (HQ) when it lies within 3 std of its nearest mode; a
mode is captured when at least `min_count` HQ samples fall on it (PacGAN: 20 of
2,500 samples, as the paper's text says); `modes_any` counts the modes with at least one HQ
sample, the rule of PacGAN's released code (synthetic_data_experiments extensions.py,
MetricLogger), which made the paper's tables; reverse KL is KL(q || uniform) of the HQ samples'
mode histogram q. `median_distance` is the samples' median distance to their nearest mode in units
of std (3 or less: at least half the samples are high quality): a continuous measure of how
concentrated G's samples are, where HQ near 0 says only that most lie beyond 3 std.
"""

import numpy as np


def mode_coverage(samples, modes, std, min_count=20):
  """-> dict(modes, high_quality, reverse_kl, modes_any, median_distance, counts) for (N, 2)
  samples."""
  samples, modes = np.asarray(samples, np.float64), np.asarray(modes, np.float64)
  dist = np.linalg.norm(samples[:, None, :] - modes[None, :, :], axis=-1)
  nearest, to_nearest = dist.argmin(axis=1), dist.min(axis=1)
  hq = to_nearest <= 3 * std
  counts = np.bincount(nearest[hq], minlength=len(modes))
  q = counts / max(counts.sum(), 1)
  nz = q > 0
  reverse_kl = float(np.sum(q[nz] * np.log(q[nz] * len(modes)))) if nz.any() else float('inf')
  return {
      'modes': int(np.sum(counts >= min_count)),
      'high_quality': float(hq.mean()),
      'reverse_kl': reverse_kl,
      'modes_any': int(np.sum(counts >= 1)),
      'median_distance': float(np.median(to_nearest) / std),
      'counts': counts,
  }
