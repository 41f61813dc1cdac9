"""What metrics compare generated samples with, and the cache of real-data features.

`EvalData` holds the run's data source, builds its held-out splits on demand,
computes features with the networks of metrics/features.py (lazily loading their
weights) and keeps the features of the reference examples in `stats_dir`, keyed by
dataset, its fields, split, number of examples and feature network, so that they
are computed once. `num_classes` is the run's: > 0 for a class-conditional generator.

`resize` is how Inception's input is resized to 299x299 ('bilinear': pytorch-fid's, the
default; 'antialias': clean-fid's, metrics/inception.py); it is part of the cache key of the
Inception reference features (a key without it is 'bilinear', as before the choice existed) and
of the protocol of the results. `ref_stats` (metrics/ref_stats.py, e.g. a pytorch-fid file)
replaces the run's reference images for Inception: FID from its mu and sigma, KID and PR only
if it holds the reference features too.
"""

import hashlib
import json
import os
import sys

import numpy as np

from gan_jax.data import get_dataset
from gan_jax.metrics.features import FEATURES, RESIZE_MODES
from gan_jax.metrics.fid import feature_stats
from gan_jax.workdir import write_atomically

FEATURE_NET = FEATURES['inception'].key
# How images reach FEATURE_NET (gan_jax/metrics/inception.py): FID depends on it.
PREPROCESSING = (
    'quantized to uint8 as the PNG writer does, resized to 299x299 bilinear without '
    'antialias (pytorch-fid), scaled by (x - 128) / 128'
)
PREPROCESSING_ANTIALIAS = (
    'quantized to uint8 as the PNG writer does, resized to 299x299 per channel in float32 by '
    "Pillow's bicubic filter, antialiased (clean-fid), scaled by (x - 128) / 128"
)
DEFAULT_STATS_DIR = os.path.join(os.path.expanduser('~'), '.cache', 'gan_jax', 'stats')


class EvalData:
  """The run's data (`source`, built from config.data `name` and `fields`) for metrics.

  `features`: images (N, H, W, C) in [-1, 1] -> (N, D) features standing in for the
  'inception' network, named `feature_name` in cache keys (tests); default: the FID
  InceptionV3 (weights loaded on first use). `networks`: {name: function} stand-ins for
  other networks of FEATURES. `num_reference` real examples
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
      num_classes=0,
      networks=None,
      progress=None,
      resize='bilinear',
      ref_stats=None,
  ):
    self.source, self.name, self.fields = source, name, dict(fields)
    self.stats_dir = stats_dir or os.environ.get('GAN_JAX_STATS', DEFAULT_STATS_DIR)
    self.num_reference, self.reference_split = num_reference, reference_split
    self._nets = {**(networks or {}), **({'inception': features} if features else {})}
    self._mesh, self._reference = mesh, {}
    self.feature_name = feature_name
    self.num_classes = num_classes
    self.progress = progress
    if resize not in RESIZE_MODES:
      raise ValueError(f'resize {resize!r}: must be one of {", ".join(RESIZE_MODES)}')
    if ref_stats is not None and ref_stats.resize not in (None, resize):
      raise ValueError(
          f'{ref_stats.path} was computed with resize {ref_stats.resize}, not {resize}'
      )
    self.resize, self.ref_stats = resize, ref_stats

  def _key(self, net):
    return self.feature_name if net == 'inception' else FEATURES[net].key

  def load_features(self, net='inception'):
    """Loads the feature network `net` now (FileNotFoundError saying how to get its weights)."""
    if net not in self._nets:
      self._nets[net] = FEATURES[net].load(self._mesh)
    return self._nets[net]

  def features(self, images, net='inception', label='the samples', report=None) -> np.ndarray:
    """Features (N, D) of `images` in network `net`; the progress is reported as '<network>
    features of <label>' (or to `report(done)` if given)."""
    fn = self.load_features(net)
    kw = {'resize': self.resize} if getattr(fn, 'resizes', False) else {}
    if report is None and self.progress:
      report = self.progress(f'{self._key(net)} features of {label}', len(images))
    if report and getattr(fn, 'reports_progress', False):
      return np.asarray(fn(images, on_progress=report, **kw))
    out = np.asarray(fn(images, **kw))
    if report:
      report(len(images))
    return out

  def num_reference_used(self, net='inception') -> int:
    """How many reference examples the metrics compare with (`num_reference` capped by the
    split's size)."""
    return len(self.reference_features(net))

  def _from_file(self, net):
    return self.ref_stats is not None and net == 'inception'

  def reference_protocol(self, net='inception') -> dict:
    """What a feature metric compares with, for the results file."""
    if self._from_file(net):
      features = self.ref_stats.features
      protocol = {'reference_stats': os.path.abspath(self.ref_stats.path)}
      if features is not None:
        protocol['num_reference'] = len(features)
      return {**protocol, 'features': self._key(net), **self._preprocessing(net)}
    return {
        'dataset': self.name,
        'reference_split': self.split,
        'num_reference': self.num_reference_used(net),
        'features': self._key(net),
        **self._preprocessing(net),
    }

  def _preprocessing(self, net) -> dict:
    """How the images reach the real Inception: its preprocessing and `resize` (none for a
    stand-in network, which reads the images as they are)."""
    if self.feature_name != FEATURE_NET or net != 'inception':
      return {}
    text = PREPROCESSING if self.resize == 'bilinear' else PREPROCESSING_ANTIALIAS
    return {'preprocessing': text, 'resize': self.resize}

  def describe(self, nets=('inception',)) -> dict:
    """The reference protocol of the feature networks `nets` (all metrics together)."""
    out = {
        'dataset': self.name,
        'reference_split': self.split,
        'num_reference': self.num_reference,
        'features': self.feature_name,
    }
    others = [self._key(n) for n in nets if n != 'inception']
    if others:
      out['other_features'] = others
    return out

  def held_out(self, split):
    """The same dataset with another split (never downloads)."""
    fields = {**self.fields, 'split': split}
    if 'download' in fields:
      fields['download'] = False
    return get_dataset(self.name, **fields)

  @property
  def split(self) -> str:
    """The split the metrics compare with: `reference_split`, else the data's own (a dataset
    without a `split` field, e.g. a 2D mixture, is all 'train')."""
    if self.reference_split:
      return self.reference_split
    return self.fields['split'] if 'split' in self.fields else 'train'

  def _reference_source(self):
    if self.reference_split in (None, self.fields.get('split')):
      return self.source
    return self.held_out(self.reference_split)

  def reference_size(self) -> int:
    """The number of examples of the reference split."""
    return self._reference_source().num_examples

  def reference_images(self, n) -> np.ndarray:
    """min(n, the split's size) examples of the reference split (the first of a permutation of
    seed 0, sorted), for metrics that compare images (SWD)."""
    source = self._reference_source()
    n = min(n, source.num_examples)
    return source.get(np.sort(np.random.default_rng(0).permutation(source.num_examples)[:n]))

  def reference_key(self, net='inception') -> str:
    split = self.split
    named = {k: v for k, v in sorted(self.fields.items()) if k != 'download'}
    read = getattr(self.source, 'contents', dict)()
    if 'content_hash' in read:  # a user's folder: what it holds names the data, not its path only
      named['content_hash'] = read['content_hash']
    fields = json.dumps(named)
    digest = hashlib.sha256(fields.encode()).hexdigest()[:8]
    safe = ''.join(c if c.isalnum() or c in '-_' else '-' for c in f'{self.name}-{split}')
    resize = f'-{self.resize}' if net == 'inception' and self.resize != 'bilinear' else ''
    return f'{safe}-{digest}-{self.num_reference}-{self._key(net)}{resize}'

  def reference_features(self, net='inception') -> np.ndarray:
    """Features (N, D) of the reference examples, from `stats_dir` when cached there (from
    `ref_stats` when given; ValueError if it holds only mu and sigma)."""
    if self._from_file(net):
      if self.ref_stats.features is None:
        raise ValueError(f'{self.ref_stats.path} holds mu and sigma only, not the features')
      return self.ref_stats.features
    return self._load_reference(net)['features']

  def reference_stats(self, net='inception') -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) in float64 of the reference features (cached with them; `ref_stats`'s
    when given)."""
    if self._from_file(net):
      return self.ref_stats.mu, self.ref_stats.sigma
    ref = self._load_reference(net)
    return ref['mu'], ref['sigma']

  def reference_labels(self, net='inception') -> np.ndarray:
    """Class labels (N,) of the reference examples (the source's labels at their indices)."""
    if self._from_file(net):
      raise ValueError(f'{self.ref_stats.path} has no labels of its reference images')
    labels = self._reference_source().labels
    if labels is None:
      raise ValueError(f'the dataset {self.name} has no labels')
    return np.asarray(labels)[self._load_reference(net)['indices']]

  def _load_reference(self, net='inception') -> dict:
    if net not in self._reference:
      path = os.path.join(self.stats_dir, self.reference_key(net) + '.npz')
      if not os.path.isfile(path):
        self._compute_reference(path, net)
      with np.load(path) as f:
        self._reference[net] = {k: f[k] for k in ('features', 'mu', 'sigma', 'indices') if k in f}
    return self._reference[net]

  def _compute_reference(self, path, net='inception'):
    source = self._reference_source()
    n = min(self.num_reference, source.num_examples)
    idx = np.sort(np.random.default_rng(0).permutation(source.num_examples)[:n])
    print(
        f'Computing reference features of {n} examples ({self.reference_key(net)})...',
        file=sys.stderr,
        flush=True,
    )
    report = self.progress and self.progress(f'{self._key(net)} features of the reference', n)
    feats = np.concatenate(
        [
            self.features(
                source.get(idx[i : i + 2000]),
                net,
                report=report and (lambda d, i=i: report(i + d)),
            )
            for i in range(0, n, 2000)
        ]
    ).astype(np.float32)
    os.makedirs(self.stats_dir, exist_ok=True)
    mu, sigma = feature_stats(feats)
    write_atomically(
        path, lambda tmp: np.savez(tmp, features=feats, mu=mu, sigma=sigma, indices=idx)
    )
