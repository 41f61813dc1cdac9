"""Evaluation at the edge: metrics of an experiment's samples, their results files,
and the periodic evaluation during training (`config.eval`).

Results go to `<workdir>/eval/<step>.json` (the same format from experiments.evaluate and
from training) and, during training, to TensorBoard as `eval/<metric>/<value>`. A file
holds every result of its step, one entry per metric and evaluation:

  {"step": S, "results": [{"metric": "fid", "seed": 2024, "weights": "ema",
                           "by": "training", "num_samples": N, "values": {...},
                           "protocol": {...}}, ...]}

An entry is replaced only by a result of the same metric, seed, weights, sample count and
protocol (the same evaluation, run again), and `write_results` says so when the numbers
changed; any other evaluation is added beside it. `read_results(workdir)` returns every
entry of a run (files of the older one-evaluation-per-file format too).

Samples made elsewhere (`experiments.evaluate --samples=`, gan_jax/metrics/sample_files.py)
are entries with `"weights": "files"`, `"seed": null`, `"by": "experiments.evaluate --samples"`
and the samples' path in the protocol (`"samples"`), so that the run's own tables, which read
the EMA weights' entries, leave them out. Against a pytorch-fid / TTUR statistics file
(`--ref_stats`, gan_jax/metrics/ref_stats.py) only FID is computed, and KID and PR when the file
holds the reference features too (`checked_metrics`).
"""

import json
import sys

import jax
import numpy as np

from gan_jax import sampling
from gan_jax.config import entry_fields
from gan_jax.data.source import Source
from gan_jax.errors import UserError
from gan_jax.metrics import METRICS
from gan_jax.metrics.eval_data import EvalData
from gan_jax.metrics.ref_stats import save_ref_stats
from gan_jax.metrics.sample_files import read_samples
from gan_jax.metrics.evaluation import (
    applicable,
    check,
    due,
    evaluate,
    is_value,
    metric_settings,
    networks,
    scalars,
)
from gan_jax.progress import Counter
from gan_jax.workdir import add_results, read_result_entries

EVAL_SEED = 2024  # the noise of periodic evaluations (fixed, so that steps compare)


def eval_data(
    exp,
    stats_dir=None,
    num_reference=10000,
    reference_split=None,
    progress=None,
    resize='bilinear',
    ref_stats=None,
):
  """The EvalData of an experiment's dataset (`progress`, `resize`, `ref_stats`: see EvalData;
  a `ref_stats` whose resize is another is a UserError)."""
  if reference_split and 'split' not in exp.config.data:
    raise UserError(
        f'reference split {reference_split!r}: data {exp.config.data.name} has no splits'
    )
  try:
    return EvalData(
        exp.source,
        exp.config.data.name,
        entry_fields(exp.config.data),
        stats_dir=stats_dir or None,
        mesh=exp.mesh,
        num_reference=num_reference,
        reference_split=reference_split or None,
        progress=progress,
        num_classes=getattr(exp.generator, 'num_classes', 0),
        resize=resize,
        ref_stats=ref_stats,
    )
  except ValueError as e:
    raise UserError(f'--ref_stats: {e}') from None


class StatsFileSource(Source):
  """The data of an evaluation against a statistics file alone (no run): images of the samples'
  shape, no examples or labels of its own (the file stands in for them)."""

  is_image = True
  num_examples = 0

  def __init__(self, shape):
    self.shape = tuple(shape)


def stats_eval_data(shape, ref_stats, resize='bilinear', progress=None):
  """The EvalData of samples of `shape` against `ref_stats` alone (no run, nothing cached)."""
  try:
    source = StatsFileSource(shape)
    return EvalData(source, 'ref_stats', {}, resize=resize, ref_stats=ref_stats, progress=progress)
  except ValueError as e:
    raise UserError(f'--ref_stats: {e}') from None


def write_ref_stats(data, path) -> str:
  """Writes the Inception statistics of `data`'s reference images (computed, or read from the
  cache) to `path` in the pytorch-fid format (metrics/ref_stats.py); returns the path."""
  try:
    return save_ref_stats(path, *data.reference_stats(), data.resize)
  except (ValueError, OSError) as e:
    raise UserError(f'--save_ref_stats={path}: {e}') from None


def _from_stats(ref) -> list:
  """The metrics a statistics file gives: FID; KID and PR too if it holds the features."""
  return ['fid'] + (['kid', 'pr'] if ref.features is not None else [])


def _with_files(names, data, flag, labels):
  """UserError for the metrics that files of samples (no labels: `labels` False) or a statistics
  file (data.ref_stats) cannot give."""
  for name in names:
    if not labels and METRICS[name].needs_labels:
      raise UserError(
          f'{flag}={name}: needs the classes the samples were drawn for; files have none'
      )
  ref = data.ref_stats
  if ref is None:
    return
  usable = _from_stats(ref)
  off = [n for n in names if n not in usable]
  if off:
    held = 'mu and sigma only' if ref.features is None else "mu, sigma and 'features'"
    raise UserError(
        f'{flag}={",".join(off)}: --ref_stats={ref.path} holds {held}: only {", ".join(usable)}'
    )


def checked_metrics(names, data, flag, labels=True):
  """`names` (all that apply if empty) after checking them and loading what they need;
  UserError naming `flag` otherwise. `labels` False: the samples come without the classes they
  were drawn for (files). Against `data.ref_stats` only the metrics it can give (module doc)."""
  if not names:
    names = [n for n in applicable(data) if labels or not METRICS[n].needs_labels]
    if data.ref_stats:
      names = [n for n in names if n in _from_stats(data.ref_stats)]
  names = list(names)
  _with_files(names, data, flag, labels)
  if not names:
    raise UserError(f'{flag}: no metric applies to data {data.name}')
  try:
    check(names, data)
    for net in networks(names):
      data.load_features(net)
  except (ValueError, FileNotFoundError) as e:
    raise UserError(f'{flag}={",".join(names)}: {e}') from None
  return names


FILES_WEIGHTS = 'files'  # the 'weights' of results of samples made elsewhere
FILES_BY = 'experiments.evaluate --samples'


def read_files(path, shape=None, progress=None):
  """The samples at `path` (gan_jax/metrics/sample_files.py), fitted to a run's image `shape`
  (H, W, C) if given; a note says how many were resized; UserError if they cannot be read."""
  size, channels = (shape[0], shape[-1]) if shape else (None, None)
  try:
    samples = read_samples(path, size, channels, progress)
  except ValueError as e:
    raise UserError(f'--samples: {e}') from None
  if samples.resized:
    print(
        f'note: {samples.resized} of {len(samples.images)} images resized to {size}x{size} '
        '(centred square, antialiased bicubic)',
        file=sys.stderr,
    )
  return samples


def score_samples(names, samples, data, num_samples=None) -> dict:
  """`evaluate`'s results of the metrics `names` on the first `num_samples` (default: all) of
  `samples` (read_files), with their path in each protocol; UserError if there are fewer."""
  count = num_samples or len(samples.images)
  if count > len(samples.images):
    raise UserError(f'--num_samples={count}: --samples has {len(samples.images)}')
  results = evaluate(names, lambda n: samples.images[:n], data, count)
  return {
      n: {**r, 'protocol': {**r['protocol'], 'samples': samples.source}}
      for n, r in results.items()
  }


def _plain(value):
  if isinstance(value, np.ndarray):
    return value.tolist()
  return value.item() if isinstance(value, np.generic) else value


def result_entries(results, seed, weights='ema', by='training') -> list[dict]:
  """The results-file entries of `evaluate`'s results."""
  return [
      {
          'metric': name,
          'seed': seed,
          'weights': weights,
          'by': by,
          'num_samples': r['num_samples'],
          'values': {k: _plain(v) for k, v in r.items() if k not in ('num_samples', 'protocol')},
          'protocol': json.loads(json.dumps(r.get('protocol', {}), default=_plain)),
      }
      for name, r in results.items()
  ]


def write_results(workdir, step, seed, results, weights='ema', by='training'):
  """Adds `results` to <workdir>/eval/<step>.json (see the module docstring; safe while another
  process writes it: gan_jax.workdir.add_results); returns (path, lines saying which stored
  results were replaced by different numbers)."""
  path, replaced = add_results(workdir, step, result_entries(results, seed, weights, by))
  return path, [
      f"{new['metric']} of seed {seed} ({weights} weights, {new['num_samples']} samples, "
      f"by {old.get('by')}): {_format_values(old['values'])} -> {_format_values(new['values'])}"
      for old, new in replaced
  ]


def read_results(workdir) -> list[dict]:
  """Every result of a run: the entries of <workdir>/eval/*.json, each with its 'step',
  in step order (gan_jax.workdir.read_result_entries)."""
  return read_result_entries(workdir)


def log_scalars(workdir, step, prefix, results) -> None:
  """The scalar values of `results` to a TensorBoard event file of its own in `workdir`, as
  `<prefix>/<metric>/<value>` (a warning if it cannot be written)."""
  from tensorboardX import SummaryWriter  # pylint: disable=g-import-not-at-top

  try:
    with SummaryWriter(workdir, filename_suffix='.evaluate') as writer:
      for key, value in scalars(results).items():
        writer.add_scalar(f'{prefix}/{key}', value, step)
  except OSError as e:
    print(f'warning: cannot write the TensorBoard log: {e}', file=sys.stderr)


def _format_values(values) -> str:
  return ' '.join(f'{k}={v:.4g}' for k, v in values.items() if is_value(k, v))


def _format_count(values) -> str:
  resize = values.get('protocol', {}).get('resize')
  return f'{values["num_samples"]} samples' + (f', resize {resize}' if resize else '')


def format_results(step, results, source=None) -> str:
  """One line per metric: its scalar values (kid_std only where KID had >= 2 subsets), its
  sample count and Inception's resize where it has one; `source` (e.g. the samples' path)
  replaces 'step S' at the start."""
  where = f'step {step}' if source is None else source
  return '\n'.join(
      f'{where} {name}: {_format_values(values)} ({_format_count(values)})'
      for name, values in results.items()
  )


class PeriodicEval:
  """Runs `config.eval.metrics` every `config.eval.every_steps` steps of training, each metric
  at its own sample count and interval where `config.eval.per_metric` sets them
  (gan_jax.metrics.evaluation.metric_settings).

  With no metrics named, all that apply are run, except the Inception ones when
  their weights are missing (a warning says so); named metrics must be available.
  """

  def __init__(self, exp):
    c = exp.config.eval  # defaulted by build_experiment (older configs: off)
    self.names, self.data, self.settings, self._due = [], None, {}, (None, [])
    per_metric = {n: dict(own) for n, own in c.per_metric.items()}
    own_interval = [n for n, own in per_metric.items() if own['every_steps']]
    if not c.every_steps and not own_interval:
      return
    self.data = eval_data(  # Inception over 10k images takes long on a CPU: say how far
        exp, c.stats_dir, c.num_reference, c.reference_split, progress=Counter
    )
    self.exp = exp
    named = [m for m in c.metrics.split(',') if m]
    if not named and not c.every_steps:  # only the metrics with an interval of their own
      named = own_interval
    if named:
      self.names = checked_metrics(named, self.data, 'config.eval.metrics')
    else:
      self.names = self._available(applicable(self.data))
    self.settings = metric_settings(self.names, c.num_samples, c.every_steps, per_metric)

  def _available(self, names):
    for net in networks(names):
      try:
        self.data.load_features(net)
      except FileNotFoundError as e:
        off = [n for n in names if METRICS[n].features == net]
        print(f'warning: periodic {", ".join(off)} off: {e}', file=sys.stderr)
        names = [n for n in names if n not in off]
    return names

  def due(self, step, last_step) -> bool:
    self._due = (step, due(self.settings, step, last_step))
    return bool(self._due[1])

  def __call__(self, state, step, workdir, writer=None, names=None):
    """Evaluates `names` (default: the metrics `due` found due at `step`, else all of them)."""
    if names is None:
      names = self._due[1] if self._due[0] == step and self._due[1] else self.names
    counts = {n: self.settings[n][0] for n in names}
    draw = lambda n: sampling.draw(self.exp.generator, state, n, EVAL_SEED)
    results = evaluate(names, draw, self.data, counts)
    if jax.process_index() == 0:
      write_results(workdir, step, EVAL_SEED, results, by='training')
      print(format_results(step, results), flush=True)
      if writer:
        for key, value in scalars(results).items():
          writer.add_scalar(f'eval/{key}', value, step)
    return results
