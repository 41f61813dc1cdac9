"""2D Gaussian mixtures (infinite sources) for mode-collapse experiments.

- ``ring8(radius=2.0, std=0.02)``: 8 equal-weight Gaussians evenly spaced on a circle.
- ``grid25(spacing=2.0, std=0.05)``: 25 Gaussians at {-2,-1,0,1,2}^2 * spacing.

``batch(seed, step, batch_size, ...)`` draws the global batch from
``np.random.default_rng([seed, step])`` and returns this process's rows as
``{'x': float32 (b, 2)}`` (unlabeled).
Sources expose ``modes`` (K, 2) and ``std``.
"""

from __future__ import annotations

import numpy as np

from gan_jax.checks import check_number

from gan_jax.data.order import local_slice
from gan_jax.data.source import Source


class MixtureSource(Source):
  """Equal-weight isotropic Gaussian mixture in 2D."""

  shape = (2,)
  num_examples = None
  is_image = False
  labels = None

  def __init__(self, modes: np.ndarray, std: float):
    self.modes = np.asarray(modes, dtype=np.float32).reshape(-1, 2)
    self.std = float(std)

  def batch(
      self, seed: int, step: int, batch_size: int, process_index: int = 0, process_count: int = 1
  ) -> dict:
    rows = local_slice(batch_size, process_index, process_count)
    rng = np.random.default_rng([seed, step])
    comp = rng.integers(len(self.modes), size=batch_size)
    noise = rng.standard_normal((batch_size, 2))
    x = self.modes[comp] + self.std * noise
    return {"x": x[rows].astype(np.float32)}


def ring8(radius: float = 2.0, std: float = 0.02) -> MixtureSource:
  """8 Gaussians evenly spaced on a circle of ``radius``."""
  check_number("radius", radius, low=0, low_open=True)
  check_number("std", std, low=0, low_open=True)
  angles = 2 * np.pi * np.arange(8) / 8
  return MixtureSource(radius * np.stack([np.cos(angles), np.sin(angles)], axis=1), std)


def grid25(spacing: float = 2.0, std: float = 0.05) -> MixtureSource:
  """25 Gaussians on a 5x5 grid centred at the origin."""
  check_number("spacing", spacing, low=0, low_open=True)
  check_number("std", std, low=0, low_open=True)
  axis = spacing * np.arange(-2, 3)
  xx, yy = np.meshgrid(axis, axis, indexing="ij")
  return MixtureSource(np.stack([xx.ravel(), yy.ravel()], axis=1), std)
