"""Mode coverage on Stacked MNIST (the protocol of VEEGAN / PacGAN; Metz et al. 2017).

Each channel of a sample (N, 28, 28, 3) is labelled by an MNIST classifier; the sample's mode is
its digit triple (1000 modes).  `modes` counts the triples that occur at least once; `kl` is
KL(q || uniform) = sum_m q_m log(1000 q_m) over the generated mode histogram q (0 for a uniform
histogram, log 1000 = 6.91 for one triple), as PacGAN's code computes it (`log_metrics` in
stacked_MNIST_experiments/*/model.py): 26,000 samples, counts of the distinct triples.
"""

import numpy as np

from gan_jax.data.stacked_mnist import NUM_MODES, StackedMNIST, mode_ids
from gan_jax.metrics import mnist_classifier


def stacked_mode_coverage(samples, classify_fn):
  """-> dict(modes, kl, counts) for samples (N, 28, 28, 3); classify_fn: (M, 28, 28, 1) -> (M,)."""
  samples = np.asarray(samples, np.float32)
  if samples.ndim != 4 or samples.shape[-1] != 3:
    raise ValueError(f'stacked_mode_coverage needs (N, H, W, 3) samples, got {samples.shape}')
  n = len(samples)
  channels = np.moveaxis(samples, -1, 1).reshape(n * 3, *samples.shape[1:3], 1)
  digits = np.asarray(classify_fn(channels)).reshape(n, 3)
  counts = np.bincount(mode_ids(digits), minlength=NUM_MODES)
  q = counts / max(n, 1)
  seen = q > 0
  return {
      'modes': int(seen.sum()),
      'kl': float(np.sum(q[seen] * np.log(q[seen] * NUM_MODES))),
      'counts': counts,
  }


def is_stacked_mnist(source):
  return isinstance(source, StackedMNIST)


def stacked_modes(samples, source=None):
  """The metric with the shipped classifier (`source` unused: the modes are fixed)."""
  del source
  return stacked_mode_coverage(samples, mnist_classifier.shipped_classify())
