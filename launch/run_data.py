"""Reading a study's runs for the report: which runs there are, and per run its config, status,
results, TensorBoard scalars and flags (diverged, collapsed, unfinished).

A study's runs are those DIR/sweep.json lists (launch/study.py), with their overrides and their
config arg's presets and key=value fields as JSON; else every subfolder with a config.json.
"""

import math
import os
import subprocess
import sys

from configs.common import split_arg
from gan_jax import workdir as run_folder
from gan_jax.config import flatten
from launch.study import read_sweep

SEED_KEY = 'seed'
LOSS_TAGS = ('d_loss', 'g_loss')
WALL_TAG, TIME_KEY = 'wall_seconds', 'time.minutes'  # a run's training time, as a metric


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


def _arg_parts(run_record):
  """(presets, fields) of a sweep.json run's config arg: its JSON fields, or for a sweep.json of
  an earlier launcher without them None (RunData then reads the arg with configs.common)."""
  if 'arg_fields' not in run_record:
    return None
  return list(run_record.get('arg_presets') or []), dict(run_record['arg_fields'] or {})


def find_runs(root):
  """[(name, overrides, config_arg, arg_parts)] from DIR/sweep.json (arg_parts: see _arg_parts),
  else every subfolder with a config.json (its fields that differ between runs as overrides)."""
  record = read_sweep(root)
  if record.get('runs'):
    return [
        (r['name'], dict(r.get('overrides') or {}), r.get('config_arg'), _arg_parts(r))
        for r in record['runs']
    ]
  names = sorted(
      n for n in os.listdir(root) if os.path.isfile(os.path.join(root, n, run_folder.CONFIG_FILE))
  )
  configs = {n: flatten(run_folder.read_config(os.path.join(root, n))) for n in names}
  keys = sorted({k for c in configs.values() for k in c})
  swept = [k for k in keys if len({repr(c.get(k)) for c in configs.values()}) > 1]
  return [(n, {k: configs[n].get(k) for k in swept}, None, None) for n in names]


def _mode_count(record):
  counts = (record.get('modes') or {}).get('counts')
  return len(counts) if isinstance(counts, list) else None


def _dataset_label(config, presets):
  """The table a run goes in: its data's name, with the folder of a generic reader ('idx' of
  /usr/share/datasets/fashion-mnist reads 'idx:fashion-mnist'), else the sweep's first preset."""
  if not config:  # no config.json yet
    return presets[0] if presets else '?'
  folder = config.data.data_dir if 'data_dir' in config.data else None  # a dataset's own field
  if folder:
    return f'{config.data.name}:{os.path.basename(os.path.normpath(folder))}'
  return config.data.name


class RunData:
  """Everything the report needs of one run."""

  def __init__(self, root, name, overrides, config_arg, arg_parts=None):
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
    # those every run of a table shares). sweep.json holds both as JSON (`arg_parts`); one of
    # an earlier launcher only the string, read with the parser configs.common.with_arg uses.
    if arg_parts is None:
      self.presets, pairs = split_arg(config_arg)
      arg_parts = (self.presets, dict(pairs))
    self.presets, arg_fields = list(arg_parts[0]), dict(arg_parts[1])
    self.fields = {**arg_fields, **overrides}
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
    if self.metrics and self.scalars.get(WALL_TAG):  # minutes to its last log line
      self.metrics[TIME_KEY] = self.scalars[WALL_TAG][-1][1] / 60

  def in_progress(self):
    """Unfinished without a fault: still training, or stopped by hand. Its last evaluation is
    an earlier step's, not the run's result, so the tables leave it out of their means."""
    return self.status == 'unfinished' and 'diverged' not in self.flags()

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
