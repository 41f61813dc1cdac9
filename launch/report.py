"""Turn a study's runs into tables and plots.

  python -m launch.report --workdir=runs/losses_2d [--metric=modes.modes,modes.reverse_kl]
      [--no_eval]

Reads every run of DIR (those DIR/sweep.json lists, else every subfolder with a config.json): its
config, its eval/<step>.json files and its TensorBoard scalars. A finished run with no results
at its final step is evaluated first (`experiments.evaluate --workdir=RUN`, the metrics that
apply to its data), unless --no_eval, which names it as missing. Writes into DIR:

- results.csv: one row per run: name, dataset, every swept field, seed, final step, status, and
  every metric of its final evaluation (`<metric>.<value>`, e.g. modes.reverse_kl);
- results.md: a table per dataset, one row per variant (the swept fields but the seed): mean ±
  std over seeds of each metric, the best seed, and the runs flagged as diverged (a non-finite
  loss or metric, or a run that stopped on a fault), collapsed (fewer than half of the modes of
  a mixture captured, or no high-quality sample) or unfinished;
- metrics_<dataset>.png: each metric against the training step, per variant (mean over seeds,
  shaded min-max); losses_<dataset>.png: D and G losses per variant from TensorBoard;
  samples_<dataset>.png: the final sample grid (a scatter plot for 2D data) of every run, one
  row per variant, one column per seed.

Exit codes: 0 written; 2 bad input (one `error:` line, nothing written).
"""

import csv
import io
import math
import os
import subprocess
import sys

from absl import app, flags

from configs.common import split_arg
from gan_jax import workdir as run_folder
from gan_jax.config import flatten
from gan_jax.errors import UserError

SEED_KEY = 'seed'
# The last part of a metric name -> lower is better (the others: higher is better).
LOWER_IS_BETTER = ('fid', 'kid', 'reverse_kl', 'kl', 'kid_std')
# Order in which a table's primary metric (the one that picks the best seed) is chosen.
PRIMARY = ('fid.fid', 'modes.modes', 'stacked_modes.modes', 'parzen.log_likelihood')
LOSS_TAGS = ('d_loss', 'g_loss')


# ------------------------------------------------------------------------------------- reading


def flat_metrics(record):
  """{'modes.reverse_kl': value, ...}: the scalar numbers of a results record (no counts)."""
  out = {}
  for metric, values in record.items():
    if not isinstance(values, dict) or metric == 'reference':
      continue
    for key, value in values.items():
      if key == 'num_samples' or isinstance(value, bool):
        continue
      if isinstance(value, (int, float)):
        out[f'{metric}.{key}'] = float(value)
  return out


def find_runs(root):
  """[(name, overrides)] from DIR/sweep.json, else every subfolder with a config.json."""
  from launch.sweep import read_sweep  # pylint: disable=g-import-not-at-top

  record = read_sweep(root)
  if record.get('runs'):
    return [
        (r['name'], dict(r.get('overrides') or {}), r.get('config_arg')) for r in record['runs']
    ]
  names = sorted(
      n for n in os.listdir(root) if os.path.isfile(os.path.join(root, n, run_folder.CONFIG_FILE))
  )
  configs = {n: flatten(run_folder.read_config(os.path.join(root, n))) for n in names}
  keys = sorted({k for c in configs.values() for k in c})
  swept = [k for k in keys if len({repr(c.get(k)) for c in configs.values()}) > 1]
  return [(n, {k: configs[n].get(k) for k in swept}, None) for n in names]


def _mode_count(record):
  counts = (record.get('modes') or {}).get('counts')
  return len(counts) if isinstance(counts, list) else None


def _dataset_label(config, presets):
  """The table a run goes in: its data's name, with the folder of a generic reader ('idx' of
  /usr/share/datasets/fashion-mnist reads 'idx:fashion-mnist'), else the sweep's first preset."""
  if not config:  # no config.json yet
    return presets[0] if presets else '?'
  folder = config.data.get('data_dir')
  if folder:
    return f'{config.data.name}:{os.path.basename(os.path.normpath(folder))}'
  return config.data.name


class RunData:
  """Everything the report needs of one run."""

  def __init__(self, root, name, overrides, config_arg):
    self.name = name
    self.path = os.path.join(root, name)
    self.config = None
    self.status = 'missing'
    if os.path.isfile(os.path.join(self.path, run_folder.CONFIG_FILE)):
      try:
        self.config = run_folder.read_config(self.path)
      except ValueError:
        pass
    # The fields that make this run a variant: the key=value pairs of its config argument
    # ('grid25,loss.name=f_gan,loss.divergence=kl') and the sweep's overrides; the argument's
    # presets are kept apart, since most only pick the dataset (by_dataset_and_variant drops
    # those every run of a table shares).
    self.presets, pairs = split_arg(config_arg)
    self.fields = {**dict(pairs), **overrides}
    self.dataset = _dataset_label(self.config, self.presets)
    self.seed = self.config.seed if self.config else self.fields.get(SEED_KEY)
    self.load()

  def load(self):
    self.steps = run_folder.checkpoint_steps(self.path)
    self.final_step = self.steps[-1] if self.steps else None
    self.results = run_folder.read_results(self.path)
    self.scalars = run_folder.read_scalars(self.path) if os.path.isdir(self.path) else {}
    num_steps = self.config.train.num_steps if self.config else None
    if self.config is None:
      self.status = 'missing'
    elif self.final_step is not None and self.final_step >= num_steps:
      self.status = 'finished'
    else:
      self.status = 'unfinished'
    final = self.results.get(self.final_step) if self.final_step is not None else None
    self.final_record = final
    self.metrics = flat_metrics(final) if final else {}

  def needs_eval(self):
    return self.status == 'finished' and self.final_record is None

  def flags(self):
    """'diverged' / 'collapsed' / 'unfinished' / 'no metrics' marks of this run."""
    marks = []
    losses = [self.scalars.get(t, [])[-1][1] for t in LOSS_TAGS if self.scalars.get(t)]
    log = os.path.join(self.path, run_folder.LOG_FILE)
    stopped_on_fault = False
    if os.path.isfile(log):
      with open(log, errors='replace') as f:
        stopped_on_fault = 'not finite' in f.read()[-4000:]
    bad_metric = any(
        not math.isfinite(v) for k, v in self.metrics.items() if not k.endswith('reverse_kl')
    )
    if stopped_on_fault or bad_metric or any(not math.isfinite(v) for v in losses):
      marks.append('diverged')
    total = _mode_count(self.final_record or {})
    if total:
      captured = self.metrics.get('modes.modes', 0)
      if captured < total / 2 or self.metrics.get('modes.high_quality', 0) == 0:
        marks.append('collapsed')
    if self.status != 'finished':
      marks.append(self.status)
    elif not self.metrics:
      marks.append('no metrics')
    return marks


def evaluate_missing(runs, python):
  """Runs experiments.evaluate on every finished run without results at its final step."""
  for run in runs:
    if not run.needs_eval():
      continue
    print(f'[report] evaluating {run.name} (step {run.final_step})', flush=True)
    proc = subprocess.run(
        [python, '-m', 'experiments.evaluate', f'--workdir={run.path}'],
        capture_output=True,
        text=True,
    )
    if proc.returncode:
      tail = (proc.stderr.strip().splitlines() or ['?'])[-1]
      print(f'[report] warning: cannot evaluate {run.name}: {tail}', file=sys.stderr, flush=True)
    run.load()


# ------------------------------------------------------------------------------------ numbers


def mean_std(values):
  values = [v for v in values if v is not None]
  if not values:
    return None, None
  mean = sum(values) / len(values)
  if len(values) < 2:
    return mean, 0.0
  if not all(math.isfinite(v) for v in values):
    return mean, None  # shown without a spread
  var = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
  return mean, math.sqrt(var)


def lower_is_better(metric):
  return metric.split('.')[-1] in LOWER_IS_BETTER


def fmt(value):
  if value is None:
    return '–'
  if not math.isfinite(value):
    return str(value)
  if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-3):
    return f'{value:.3g}'
  return f'{value:.4g}' if abs(value) < 100 else f'{value:.1f}'


def primary_metric(metrics):
  for name in PRIMARY:
    if name in metrics:
      return name
  return metrics[0] if metrics else None


def _field_label(key, value):
  """'loss.name' -> 'loss=...', other dotted keys by their last part: 'model.pack' -> 'pack=...'."""
  return f'{key.split(".")[-2] if key.endswith(".name") else key.split(".")[-1]}={value}'


def by_dataset_and_variant(runs):
  """{dataset: {variant label: [runs]}}; a variant is its presets (those not shared by the whole
  table) and its fields but the seed, '(base)' if none."""
  tables = {}
  for run in runs:
    tables.setdefault(run.dataset, []).append(run)
  groups = {}
  for dataset, table in tables.items():
    shared = set.intersection(*(set(r.presets) for r in table))
    for run in table:
      parts = [p for p in run.presets if p not in shared]
      parts += [_field_label(k, v) for k, v in run.fields.items() if k != SEED_KEY]
      groups.setdefault(dataset, {}).setdefault(','.join(parts) or '(base)', []).append(run)
  return groups


def write_csv(runs, metrics, path):
  keys = []
  for run in runs:
    keys += [k for k in run.fields if k != SEED_KEY and k not in keys]
  out = io.StringIO()
  w = csv.writer(out)
  w.writerow(['name', 'dataset', *keys, 'seed', 'final_step', 'status', 'flags', *metrics])
  for run in runs:
    w.writerow(
        [run.name, run.dataset]
        + [run.fields.get(k, '') for k in keys]
        + [run.seed, run.final_step if run.final_step is not None else '', run.status]
        + [';'.join(run.flags())]
        + [run.metrics.get(m, '') for m in metrics]
    )
  run_folder.write_atomically(path, out.getvalue())


def markdown(groups, metrics, root, plots):
  lines = [f'# Results of {os.path.abspath(root)}', '']
  lines.append(
      "Mean ± std over seeds of each run's final evaluation (eval/<step>.json at its last "
      'checkpoint); n = seeds with results; flags: diverged (non-finite loss or metric, or '
      'stopped on a non-finite update), collapsed (fewer than half of the modes captured), '
      'unfinished.'
  )
  for dataset, variants in groups.items():
    shown = [m for m in metrics if any(m in r.metrics for rs in variants.values() for r in rs)]
    primary = primary_metric(shown)
    lines += ['', f'## {dataset}', '']
    if primary:
      better = 'lowest' if lower_is_better(primary) else 'highest'
      lines.append(f'Best seed: {better} `{primary}`.')
      lines.append('')
    lines.append('| variant | n | ' + ' | '.join(shown) + ' | best seed | flagged |')
    lines.append('|---|---|' + '---|' * len(shown) + '---|---|')
    for variant, runs in variants.items():
      cells = []
      for m in shown:
        mean, std = mean_std([r.metrics.get(m) for r in runs if m in r.metrics])
        cells.append(
            '–' if mean is None else fmt(mean) if std is None else f'{fmt(mean)} ± {fmt(std)}'
        )
      scored = [r for r in runs if primary in r.metrics and math.isfinite(r.metrics[primary])]
      best = ''
      if scored:
        pick = (min if lower_is_better(primary) else max)(scored, key=lambda r: r.metrics[primary])
        best = f'{pick.seed} ({fmt(pick.metrics[primary])})'
      flagged = '; '.join(f'seed {r.seed}: {", ".join(r.flags())}' for r in runs if r.flags())
      n = sum(1 for r in runs if r.metrics)
      lines.append(f'| {variant} | {n} | ' + ' | '.join(cells) + f' | {best} | {flagged} |')
    for kind, path in plots.get(dataset, {}).items():
      lines += ['', f'![{kind} {dataset}]({os.path.basename(path)})']
  lines.append('')
  return '\n'.join(lines)


# -------------------------------------------------------------------------------------- plots


def _series_by_step(series_list):
  """{step: [values]} over runs."""
  steps = {}
  for series in series_list:
    for step, value in series:
      if math.isfinite(value):
        steps.setdefault(step, []).append(value)
  return dict(sorted(steps.items()))


def _plot_lines(ax, variants, get_series, label_variants=True):
  for variant, runs in variants.items():
    steps = _series_by_step([get_series(r) for r in runs])
    if not steps:
      continue
    xs = list(steps)
    mean = [sum(v) / len(v) for v in steps.values()]
    ax.plot(xs, mean, label=variant if label_variants else None, linewidth=1.2)
    ax.fill_between(
        xs, [min(v) for v in steps.values()], [max(v) for v in steps.values()], alpha=0.15
    )


def plot_metrics(variants, metrics, path):
  import matplotlib  # pylint: disable=g-import-not-at-top

  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  shown = [
      m
      for m in metrics
      if any(
          m in flat_metrics(rec)
          for rs in variants.values()
          for r in rs
          for rec in r.results.values()
      )
  ]
  if not shown:
    return None
  fig, axes = plt.subplots(1, len(shown), figsize=(5 * len(shown), 4), squeeze=False)
  for ax, metric in zip(axes[0], shown):
    _plot_lines(
        ax,
        variants,
        lambda r, m=metric: [
            (s, flat_metrics(rec)[m]) for s, rec in r.results.items() if m in flat_metrics(rec)
        ],
    )
    ax.set_title(metric)
    ax.set_xlabel('step')
  axes[0][0].legend(fontsize=6)
  fig.tight_layout()
  run_folder.write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=80))
  plt.close(fig)
  return path


def plot_losses(variants, path):
  import matplotlib  # pylint: disable=g-import-not-at-top

  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  if not any(r.scalars.get(t) for rs in variants.values() for r in rs for t in LOSS_TAGS):
    return None
  fig, axes = plt.subplots(1, 2, figsize=(10, 4), squeeze=False)
  for ax, tag in zip(axes[0], LOSS_TAGS):
    _plot_lines(ax, variants, lambda r, t=tag: r.scalars.get(t, []))
    ax.set_title(tag)
    ax.set_xlabel('step')
  axes[0][0].legend(fontsize=6)
  fig.tight_layout()
  run_folder.write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=80))
  plt.close(fig)
  return path


def plot_samples(variants, path):
  import matplotlib  # pylint: disable=g-import-not-at-top

  matplotlib.use('Agg')
  import matplotlib.image as mpimg  # pylint: disable=g-import-not-at-top
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  rows = [(v, sorted(rs, key=lambda r: (r.seed is None, r.seed))) for v, rs in variants.items()]
  cols = max(len(rs) for _, rs in rows)
  if not any(run_folder.latest_sample(r.path) for _, rs in rows for r in rs):
    return None
  fig, axes = plt.subplots(len(rows), cols, figsize=(2.2 * cols, 2.2 * len(rows)), squeeze=False)
  for i, (variant, runs) in enumerate(rows):
    for j in range(cols):
      ax = axes[i][j]
      ax.axis('off')
      if j >= len(runs):
        continue
      sample = run_folder.latest_sample(runs[j].path)
      if sample:
        ax.imshow(mpimg.imread(sample))
      ax.set_title(
          f'{variant}\nseed {runs[j].seed}' if j == 0 else f'seed {runs[j].seed}', fontsize=6
      )
  fig.tight_layout()
  run_folder.write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=100))
  plt.close(fig)
  return path


# ---------------------------------------------------------------------------------------- main


def report(root, metrics=None, no_eval=False, python=sys.executable):
  """Writes results.csv, results.md and the plots into `root`; returns the runs read."""
  every = [RunData(root, *r) for r in find_runs(root)]
  runs = [r for r in every if r.status != 'missing']  # those never started: named at the end
  if not no_eval:
    evaluate_missing(runs, python)
  found = []
  for run in runs:
    found += [m for m in run.metrics if m not in found]
  chosen = metrics or found
  write_csv(runs, chosen, os.path.join(root, 'results.csv'))
  groups = by_dataset_and_variant(runs)
  plots = {}
  for dataset, variants in groups.items():
    safe = ''.join(c if c.isalnum() or c in '-_' else '_' for c in str(dataset))
    made = {
        'metrics': plot_metrics(variants, chosen, os.path.join(root, f'metrics_{safe}.png')),
        'losses': plot_losses(variants, os.path.join(root, f'losses_{safe}.png')),
        'samples': plot_samples(variants, os.path.join(root, f'samples_{safe}.png')),
    }
    plots[dataset] = {k: v for k, v in made.items() if v}
  text = markdown(groups, chosen, root, plots)
  missing = [r for r in runs if r.status == 'finished' and not r.metrics]
  if missing:
    text += '\nRuns without metrics: ' + ', '.join(r.name for r in missing) + '\n'
  not_run = [r for r in every if r.status == 'missing']
  if not_run:
    names = ', '.join(r.name for r in not_run[:10]) + (', ...' if len(not_run) > 10 else '')
    text += f'\nRuns not started ({len(not_run)}): {names}\n'
  run_folder.write_atomically(os.path.join(root, 'results.md'), text)
  return runs


def main(argv):
  from experiments.common import _fail  # pylint: disable=g-import-not-at-top

  if len(argv) > 1:
    _fail(f'unexpected arguments: {" ".join(argv[1:])}')
  f = flags.FLAGS
  try:
    if not f.workdir or not os.path.isdir(f.workdir):
      raise UserError(f'--workdir={f.workdir}: no such folder')
    if not os.access(f.workdir, os.W_OK):
      raise UserError(f'--workdir={f.workdir}: is not writable')
    found = find_runs(f.workdir)
    if not found:
      raise UserError(f'--workdir={f.workdir}: no runs (no sweep.json, no run folders)')
    if not any(
        os.path.isfile(os.path.join(f.workdir, r[0], run_folder.CONFIG_FILE)) for r in found
    ):
      raise UserError(f'--workdir={f.workdir}: none of its {len(found)} runs has started')
  except UserError as e:
    _fail(e)
  runs = report(f.workdir, f.metric, f.no_eval, f.python)
  print(f'Wrote {os.path.join(f.workdir, "results.csv")} and results.md ({len(runs)} runs)')


def _parse(argv):
  from experiments.common import _fail  # pylint: disable=g-import-not-at-top

  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    _fail(e)


def define_flags():
  """The command line's flags (defined on demand: the module's functions are importable)."""
  flags.DEFINE_string('workdir', None, 'The study folder (launch.sweep --workdir).')
  flags.DEFINE_list('metric', None, 'Metrics to report (default: every scalar metric found).')
  flags.DEFINE_bool('no_eval', False, 'Do not evaluate runs without results: list them as missing.')
  flags.DEFINE_string('python', sys.executable, 'Python that runs experiments.evaluate.')


if __name__ == '__main__':
  define_flags()
  app.run(main, flags_parser=_parse)
