"""A study's tables: results.csv (one row per run) and results.md (per dataset, one row per
variant: mean ± std over seeds, the best seed, the flagged runs).

Which values are better lower and which one picks the best seed come from the metric registry
(gan_jax.metrics.METRICS: each metric's `lower_is_better` and `primary`).
"""

import csv
import io
import math
import os

from gan_jax import metrics as metrics_lib
from gan_jax import workdir as run_folder
from launch.run_data import SEED_KEY
from launch.study import short_key


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
  """Whether lower is better for 'metric.value' (the metric registry's direction; time: yes)."""
  return metric.startswith('time.') or metrics_lib.lower_is_better(metric)


def fmt(value):
  if value is None:
    return '–'
  if not math.isfinite(value):
    return str(value)
  if value != 0 and (abs(value) >= 1e4 or abs(value) < 1e-3):
    return f'{value:.3g}'
  return f'{value:.4g}' if abs(value) < 100 else f'{value:.1f}'


def primary_metric(metrics):
  """The value that picks a table's best seed: the first of the registry's primary values
  shown, else the first value shown."""
  for name in metrics_lib.primary_keys():
    if name in metrics:
      return name
  return metrics[0] if metrics else None


def by_dataset_and_variant(runs):
  """{dataset: {variant label: [runs]}}; a variant is its presets and its fields but the seed,
  each left out where the whole table shares it (the preset that picks the dataset, a sweep's
  num_steps), '(base)' if none. A field shows by the shortest end of its key no other field of
  the table shares ('loss.name' -> 'loss', 'd_input.pack' -> 'pack'; 'checkpoint.every_steps'
  and 'eval.every_steps' in full)."""
  tables = {}
  for run in runs:
    tables.setdefault(run.dataset, []).append(run)
  groups = {}
  for dataset, table in tables.items():
    shared = set.intersection(*(set(r.presets) for r in table))
    common = set.intersection(*({(k, repr(v)) for k, v in r.fields.items()} for r in table))
    keys = sorted({k for r in table for k in r.fields if k != SEED_KEY})
    for run in table:
      parts = [p for p in run.presets if p not in shared]
      parts += [
          f'{short_key(k, keys)}={v}'
          for k, v in run.fields.items()
          if k != SEED_KEY and (k, repr(v)) not in common
      ]
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


def _cell(runs, metric):
  mean, std = mean_std([r.metrics.get(metric) for r in runs if metric in r.metrics])
  return '–' if mean is None else fmt(mean) if std is None else f'{fmt(mean)} ± {fmt(std)}'


def _best_seed(runs, primary):
  scored = [r for r in runs if primary in r.metrics and math.isfinite(r.metrics[primary])]
  if not scored:
    return ''
  pick = (min if lower_is_better(primary) else max)(scored, key=lambda r: r.metrics[primary])
  return f'{pick.seed} ({fmt(pick.metrics[primary])})'


def variant_table(variants, metrics):
  """(header, rows, note) of one dataset's table, every cell a string: one row per variant (its
  label, n = seeds with results, mean ± std of each metric shown, the best seed by the primary
  metric, the flagged runs; runs still in progress are flagged only); the note says which metric
  picks the best seed ('' if none). results.md and report.html both show it."""
  shown = [m for m in metrics if any(m in r.metrics for rs in variants.values() for r in rs)]
  primary = primary_metric(shown)
  note = ''
  if primary:
    note = f'Best seed: {"lowest" if lower_is_better(primary) else "highest"} `{primary}`.'
  header = ['variant', 'n', *shown, 'best seed', 'flagged']
  rows = []
  for variant, runs in variants.items():
    flagged = '; '.join(f'seed {r.seed}: {", ".join(r.flags())}' for r in runs if r.flags())
    counted = [r for r in runs if not r.in_progress()]  # a run still training has no result
    n = sum(1 for r in counted if r.metrics)
    rows.append([variant, str(n), *(_cell(counted, m) for m in shown),
                 _best_seed(counted, primary), flagged])
  return header, rows, note


INTRO = (
    "Mean ± std over seeds of each run's final evaluation (eval/<step>.json at its last "
    'checkpoint); n = seeds with results; flags: diverged (non-finite loss or metric, or '
    'stopped on a non-finite update), collapsed (fewer than half of the modes captured), '
    'unfinished (still training or stopped by hand: left out of n, the means and the best seed '
    'until it finishes).'
)


def markdown(groups, metrics, root, plots):
  lines = [f'# Results of {os.path.abspath(root)}', '', INTRO]
  for dataset, variants in groups.items():
    header, rows, note = variant_table(variants, metrics)
    lines += ['', f'## {dataset}', '']
    if note:
      lines += [note, '']
    lines.append('| ' + ' | '.join(header) + ' |')
    lines.append('|' + '---|' * len(header))
    lines += ['| ' + ' | '.join(row) + ' |' for row in rows]
    for kind, path in plots.get(dataset, {}).items():
      lines += ['', f'![{kind} {dataset}]({os.path.basename(path)})']
  lines.append('')
  return '\n'.join(lines)
