"""Turn a study's runs into tables, plots and one page (report.html).

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
  row per variant, one column per seed; stages_<dataset>.png (progressively grown runs): the
  samples at each stage's end, a row per variant;
- report.html: one self-contained page (images embedded as data: URIs, no server needed): the
  tables of results.md, the plots, the sample sheets, and each run's config diff against the
  study's base (launch/html_report.py, launch/config_diffs.py).

Reading runs: launch/run_data.py; tables: launch/tables.py; plots: launch/plots.py; the page:
launch/html_report.py.

Exit codes: 0 written; 2 bad input (one `error:` line, nothing written).
"""

import os
import sys

from absl import app, flags

from gan_jax import workdir as run_folder
from gan_jax.cli import parse_flags, run_cli
from gan_jax.errors import UserError
from launch.config_diffs import run_diffs, study_base
from launch.html_report import write_html
from launch.plots import plot_losses, plot_metrics, plot_samples, plot_stages
from launch.run_data import (  # pylint: disable=unused-import (the names callers import from here)
    LOSS_TAGS,
    SEED_KEY,
    RunData,
    _dataset_label,
    evaluate_missing,
    find_runs,
    flat_metrics,
)
from launch.tables import (  # pylint: disable=unused-import (the names callers import from here)
    by_dataset_and_variant,
    fmt,
    lower_is_better,
    markdown,
    mean_std,
    primary_metric,
    write_csv,
)


def write_plots(variants, metrics, root, dataset):
  """{kind: path} of the plots written for one dataset's table (those with something to show)."""
  safe = ''.join(c if c.isalnum() or c in '-_' else '_' for c in str(dataset))
  made = {
      'metrics': plot_metrics(variants, metrics, os.path.join(root, f'metrics_{safe}.png')),
      'losses': plot_losses(variants, os.path.join(root, f'losses_{safe}.png')),
      'samples': plot_samples(variants, os.path.join(root, f'samples_{safe}.png')),
      'stages': plot_stages(variants, os.path.join(root, f'stages_{safe}.png')),
  }
  return {k: v for k, v in made.items() if v}


def notes(every, runs):
  """The lines after the tables: finished runs without metrics, runs never started."""
  out = []
  missing = [r for r in runs if r.status == 'finished' and not r.metrics]
  if missing:
    out.append('Runs without metrics: ' + ', '.join(r.name for r in missing))
  not_run = [r for r in every if r.status == 'missing']
  if not_run:
    names = ', '.join(r.name for r in not_run[:10]) + (', ...' if len(not_run) > 10 else '')
    out.append(f'Runs not started ({len(not_run)}): {names}')
  return out


def report(root, metrics=None, no_eval=False, python=sys.executable):
  """Writes results.csv, results.md, the plots and report.html into `root`; returns the runs
  read."""
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
  plots = {dataset: write_plots(table, chosen, root, dataset) for dataset, table in groups.items()}
  text = markdown(groups, chosen, root, plots)
  after = notes(every, runs)
  text += ''.join(f'\n{line}\n' for line in after)
  run_folder.write_atomically(os.path.join(root, 'results.md'), text)
  base_label, base = study_base(root, runs)
  write_html(root, groups, chosen, plots, base_label, run_diffs(runs, base), after)
  return runs


def check_workdir(root):
  """UserError unless `root` is a writable study folder with at least one started run."""
  if not root or not os.path.isdir(root):
    raise UserError(f'--workdir={root}: no such folder')
  if not os.access(root, os.W_OK):
    raise UserError(f'--workdir={root}: is not writable')
  found = find_runs(root)
  if not found:
    raise UserError(f'--workdir={root}: no runs (no sweep.json, no run folders)')
  if not any(os.path.isfile(os.path.join(root, r[0], run_folder.CONFIG_FILE)) for r in found):
    raise UserError(f'--workdir={root}: none of its {len(found)} runs has started')


@run_cli
def main(argv):
  del argv
  f = flags.FLAGS
  check_workdir(f.workdir)
  runs = report(f.workdir, f.metric, f.no_eval, f.python)
  print(
      f'Wrote {os.path.join(f.workdir, "results.csv")}, results.md and report.html '
      f'({len(runs)} runs)'
  )


def define_flags():
  """The command line's flags (defined on demand: the module's functions are importable)."""
  flags.DEFINE_string('workdir', None, 'The study folder (launch.sweep --workdir).')
  flags.DEFINE_list('metric', None, 'Metrics to report (default: every scalar metric found).')
  flags.DEFINE_bool('no_eval', False, 'Do not evaluate runs without results: list them as missing.')
  flags.DEFINE_string('python', sys.executable, 'Python that runs experiments.evaluate.')


if __name__ == '__main__':
  define_flags()
  app.run(main, flags_parser=parse_flags)
