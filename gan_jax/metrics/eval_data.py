"""What metrics compare generated samples with, and the cache of real-data features.

`EvalData` holds the run's data source, builds its held-out splits on demand,
computes Inception features (lazily loading the weights) and keeps the features
of the reference examples in `stats_dir`, keyed by dataset, its fields, split,
number of examples and feature network, so that they are computed once.
"""

import hashlib
import json
import os
import sys

import numpy as np

from gan_jax.data import get_dataset
from gan_jax.metrics.fid import feature_stats

FEATURE_NET = 'inception-2015-12-05-pool3'
# How images reach FEATURE_NET (gan_jax/metrics/inception.py): FID depends on it.
PREPROCESSING = (
    'quantized to uint8 as the PNG writer does, resized to 299x299 bilinear without '
    'antialias (pytorch-fid), scaled by (x - 128) / 128'
)
DEFAULT_STATS_DIR = os.path.join(os.path.expanduser('~'), '.cache', 'gan_jax', 'stats')


def _default_features(mesh):
  from gan_jax.metrics import inception, inception_weights  # heavy: only when needed

  params = inception_weights.load_inception_params()

  def features(images, on_progress=None):
    return inception.inception_features(params, images, mesh=mesh, on_progress=on_progress)

  features.reports_progress = True  # calls on_progress(done) batch by batch
  return features


class EvalData:
  """The run's data (`source`, built from config.data `name` and `fields`) for metrics.

  `features`: images (N, H, W, C) in [-1, 1] -> (N, D) features, named
  `feature_name` in cache keys; default: the FID InceptionV3 (weights loaded on
  first use). `num_reference` real examples
  (fewer if the split is smaller) of `reference_split` (default: the training
  split) are compared with the samples. `progress(label, total)` -> `report(done)` (e.g.
  gan_jax.progress.Counter) is told how feature computations advance; None: silent.
  """

  def __init__(
      self,
      source,
      name,
      fields,
      stats_dir=None,
      mesh=None,
      num_reference=10000,
      reference_split=None,
      features=None,
      feature_name=FEATURE_NET,
      progress=None,
  ):
    self.source, self.name, self.fields = source, name, dict(fields)
    self.stats_dir = stats_dir or os.environ.get('GAN_JAX_STATS', DEFAULT_STATS_DIR)
    self.num_reference, self.reference_split = num_reference, reference_split
    self._features, self._mesh, self._reference = features, mesh, None
    self.feature_name, self.progress = feature_name, progress

  def load_features(self):
    """Loads the feature network now (FileNotFoundError saying how to get its weights)."""
    if self._features is None:
      self._features = _default_features(self._mesh)

  def features(self, images, label='the samples', report=None) -> np.ndarray:
    """Features (N, D) of `images`; the progress is reported as '<network> features of
    <label>' (or to `report(done)` if given)."""
    self.load_features()
    if report is None and self.progress:
      report = self.progress(f'{self.feature_name} features of {label}', len(images))
    if report and getattr(self._features, 'reports_progress', False):
      return np.asarray(self._features(images, on_progress=report))
    out = np.asarray(self._features(images))
    if report:
      report(len(images))
    return out

  def num_reference_used(self) -> int:
    """How many reference examples the metrics compare with (`num_reference` capped by the
    split's size)."""
    return len(self.reference_features())

  def reference_protocol(self) -> dict:
    """What a feature metric compares with, for the results file."""
    protocol = {
        'dataset': self.name,
        'reference_split': self.reference_split or self.fields.get('split', 'train'),
        'num_reference': self.num_reference_used(),
        'features': self.feature_name,
    }
    if self.feature_name == FEATURE_NET:
      protocol['preprocessing'] = PREPROCESSING
    return protocol

  def held_out(self, split):
    """The same dataset with another split (never downloads)."""
    fields = {**self.fields, 'split': split}
    if 'download' in fields:
      fields['download'] = False
    return get_dataset(self.name, **fields)

  def _reference_source(self):
    if self.reference_split in (None, self.fields.get('split')):
      return self.source
    return self.held_out(self.reference_split)

  def reference_key(self) -> str:
    split = self.reference_split or self.fields.get('split', 'train')
    fields = json.dumps({k: v for k, v in sorted(self.fields.items()) if k != 'download'})
    digest = hashlib.sha256(fields.encode()).hexdigest()[:8]
    safe = ''.join(c if c.isalnum() or c in '-_' else '-' for c in f'{self.name}-{split}')
    return f'{safe}-{digest}-{self.num_reference}-{self.feature_name}'

  def reference_features(self) -> np.ndarray:
    """Features (N, D) of the reference examples, from `stats_dir` when cached there."""
    return self._load_reference()['features']

  def reference_stats(self) -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) in float64 of the reference features (cached with them)."""
    ref = self._load_reference()
    return ref['mu'], ref['sigma']

  def _load_reference(self) -> dict:
    if self._reference is None:
      path = os.path.join(self.stats_dir, self.reference_key() + '.npz')
      if not os.path.isfile(path):
        self._compute_reference(path)
      with np.load(path) as f:
        self._reference = {k: f[k] for k in ('features', 'mu', 'sigma')}
    return self._reference

  def _compute_reference(self, path):
    source = self._reference_source()
    n = min(self.num_reference, source.num_examples)
    idx = np.sort(np.random.default_rng(0).permutation(source.num_examples)[:n])
    print(
        f'Computing reference features of {n} examples ({self.reference_key()})...',
        file=sys.stderr,
        flush=True,
    )
    report = self.progress and self.progress(f'{self.feature_name} features of the reference', n)
    feats = np.concatenate(
        [
            self.features(
                source.get(idx[i : i + 2000]), report=report and (lambda d, i=i: report(i + d))
            )
            for i in range(0, n, 2000)
        ]
    ).astype(np.float32)
    os.makedirs(self.stats_dir, exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}.npz'
    mu, sigma = feature_stats(feats)
    np.savez(tmp, features=feats, mu=mu, sigma=sigma, indices=idx)
    os.replace(tmp, path)
