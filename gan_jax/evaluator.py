"""Evaluation at the edge: metrics of an experiment's samples, their results files,
and the periodic evaluation during training (`config.eval`).

Results go to `<workdir>/eval/<step>.json` (the same format from
experiments.evaluate and from training) and, during training, to TensorBoard as
`eval/<metric>/<value>`.
"""

import json
import sys

import jax
import numpy as np

from gan_jax import sampling
from gan_jax.config import entry_fields
from gan_jax.errors import UserError
from gan_jax.metrics import METRICS
from gan_jax.metrics.eval_data import EvalData
from gan_jax.metrics.evaluation import applicable, check, evaluate, networks, scalars
from gan_jax.workdir import eval_path, write_atomically

EVAL_SEED = 2024  # the noise of periodic evaluations (fixed, so that steps compare)


def eval_data(exp, stats_dir=None, num_reference=10000, reference_split=None):
  """The EvalData of an experiment's dataset."""
  if reference_split and 'split' not in exp.config.data:
    raise UserError(
        f'reference split {reference_split!r}: data {exp.config.data.name} has no splits'
    )
  return EvalData(
      exp.source,
      exp.config.data.name,
      entry_fields(exp.config.data),
      stats_dir=stats_dir or None,
      mesh=exp.mesh,
      num_reference=num_reference,
      reference_split=reference_split or None,
      num_classes=getattr(exp.generator, 'num_classes', 0),
  )


def checked_metrics(names, data, flag):
  """`names` (all that apply if empty) after checking them and loading what they need;
  UserError naming `flag` otherwise."""
  names = list(names) or applicable(data)
  if not names:
    raise UserError(f'{flag}: no metric applies to data {data.name}')
  try:
    check(names, data)
    for net in networks(names):
      data.load_features(net)
  except (ValueError, FileNotFoundError) as e:
    raise UserError(f'{flag}={",".join(names)}: {e}') from None
  return names


def _plain(value):
  return value.tolist() if isinstance(value, np.ndarray) else value


def write_results(workdir, step, seed, data, results) -> str:
  """<workdir>/eval/<step>.json with the reference protocol and every metric's values."""
  record = {'step': step, 'seed': seed, 'reference': data.describe(networks(results))}
  record.update({n: {k: _plain(v) for k, v in r.items()} for n, r in results.items()})
  return write_atomically(eval_path(workdir, step), json.dumps(record, indent=2))


def format_results(step, results) -> str:
  return '\n'.join(
      f'step {step} {name}: '
      + ' '.join(
          f'{k}={v:.4g}' for k, v in values.items() if np.ndim(v) == 0 and k != 'num_samples'
      )
      + f' ({values["num_samples"]} samples)'
      for name, values in results.items()
  )


class PeriodicEval:
  """Runs `config.eval.metrics` every `config.eval.every_steps` steps of training.

  With no metrics named, all that apply are run, except the Inception ones when
  their weights are missing (a warning says so); named metrics must be available.
  """

  def __init__(self, exp):
    c = exp.config.get('eval')
    self.names, self.data = [], None
    if not c or not c.every_steps:
      return
    self.every, self.num_samples = c.every_steps, c.num_samples
    self.data = eval_data(exp, c.stats_dir, c.num_reference, c.reference_split)
    self.exp = exp
    named = [m for m in c.metrics.split(',') if m]
    if named:
      self.names = checked_metrics(named, self.data, 'config.eval.metrics')
      return
    names = applicable(self.data)
    for net in networks(names):
      try:
        self.data.load_features(net)
      except FileNotFoundError as e:
        off = [n for n in names if METRICS[n].features == net]
        print(f'warning: periodic {", ".join(off)} off: {e}', file=sys.stderr)
        names = [n for n in names if n not in off]
    self.names = names

  def due(self, step, last_step) -> bool:
    """Every `every_steps`, and at the end of runs at least that long (a short trial run
    of a config does not pay for a full evaluation)."""
    if not self.names:
      return False
    return step % self.every == 0 or (step == last_step and last_step >= self.every)

  def __call__(self, state, step, workdir, writer=None):
    draw = lambda n: sampling.draw(self.exp.generator, state, n, EVAL_SEED)
    results = evaluate(self.names, draw, self.data, self.num_samples)
    if jax.process_index() == 0:
      write_results(workdir, step, EVAL_SEED, self.data, results)
      print(format_results(step, results), flush=True)
      if writer:
        for key, value in scalars(results).items():
          writer.add_scalar(f'eval/{key}', value, step)
    return results
