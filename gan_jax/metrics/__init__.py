"""Metric registry: `METRICS[name] = Metric(applies(source), compute(samples, source) -> dict)`.

`experiments.evaluate` computes every metric that applies to a run's dataset.
"""

from typing import Callable, NamedTuple

from gan_jax.metrics.mixture import mode_coverage
from gan_jax.metrics.stacked import is_stacked_mnist, stacked_modes


class Metric(NamedTuple):
  applies: Callable  # Source -> bool
  compute: Callable  # (samples, Source) -> dict of numbers / arrays
  default_samples: int


METRICS = {
    'modes': Metric(
        applies=lambda source: getattr(source, 'modes', None) is not None,
        compute=lambda samples, source: mode_coverage(samples, source.modes, source.std),
        default_samples=2500,  # the VEEGAN / PacGAN protocol
    ),
    'stacked_modes': Metric(
        applies=is_stacked_mnist,
        compute=stacked_modes,
        default_samples=26000,  # the VEEGAN / PacGAN protocol
    ),
}
