"""Evaluate a trained run: draw samples from a checkpoint and compute metrics.

  python -m experiments.evaluate --workdir=runs/grid25 [--step=S] [--num_samples=N]
      [--metrics=modes] [--seed=S]

Prints the metrics and writes them to DIR/eval/<step>.json. By default every
metric that applies to the run's dataset is computed (now: `modes` for the 2D
mixtures: modes captured, share of high-quality samples, reverse KL).
"""

import json
import os

import numpy as np
from absl import app, flags

from experiments.common import parse_flags, run_cli
from gan_jax import sampling
from gan_jax.experiment import UserError, restore
from gan_jax.metrics import METRICS

flags.DEFINE_string('workdir', None, 'A workdir written by experiments.main.')
flags.DEFINE_integer('step', None, 'Checkpoint step (default: the latest).')
flags.DEFINE_integer('num_samples', None, 'Samples to draw (default: the metric protocol).')
flags.DEFINE_list('metrics', None, f'Metrics to compute (default: all that apply): {list(METRICS)}')
flags.DEFINE_integer('seed', 0, 'Seed of the noise.')
flags.mark_flags_as_required(['workdir'])
FLAGS = flags.FLAGS


def _plain(value):
  return value.tolist() if isinstance(value, np.ndarray) else value


@run_cli
def main(argv):
  del argv
  unknown = [m for m in FLAGS.metrics or [] if m not in METRICS]
  if unknown:
    raise UserError(f'--metrics={",".join(unknown)}: allowed: {", ".join(METRICS)}')
  if FLAGS.num_samples is not None and FLAGS.num_samples < 1:
    raise UserError(f'--num_samples={FLAGS.num_samples}: must be >= 1')
  exp, state = restore(FLAGS.workdir, FLAGS.step)
  applicable = [n for n, m in METRICS.items() if m.applies(exp.source)]
  if not applicable:
    raise UserError(
        f'no metric applies to data {exp.config.data.name} yet (metrics: {", ".join(METRICS)})'
    )
  names = FLAGS.metrics or applicable
  if set(names) - set(applicable):
    raise UserError(
        f'--metrics={",".join(names)}: for data {exp.config.data.name} the metrics are: '
        f'{", ".join(applicable)}'
    )
  step, results = int(state.step), {}
  for name in names:
    num = FLAGS.num_samples or METRICS[name].default_samples
    samples = sampling.draw(exp.generator, state, num, FLAGS.seed)
    values = METRICS[name].compute(samples, exp.source)
    results[name] = {'num_samples': num, **{k: _plain(v) for k, v in values.items()}}
    shown = ' '.join(f'{k}={v:.4g}' for k, v in values.items() if np.ndim(v) == 0)
    print(f'step {step} {name}: {shown}')
  path = os.path.join(FLAGS.workdir, 'eval', f'{step}.json')
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with open(path, 'w') as f:
    json.dump({'step': step, 'seed': FLAGS.seed, **results}, f, indent=2)
  print(f'Wrote {path}')


if __name__ == '__main__':
  app.run(main, flags_parser=parse_flags)
