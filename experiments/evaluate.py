"""Evaluate a trained run: draw samples from a checkpoint and compute metrics.

  python -m experiments.evaluate --workdir=runs/x [--step=S] [--num_samples=N]
      [--metrics=fid,kid,pr,parzen,modes] [--seed=S] [--stats_dir=DIR]
      [--num_reference=N] [--reference_split=SPLIT] [--noema]

Prints the metrics and adds them to DIR/eval/<step>.json, beside the results of other
seeds, weights or protocols (training's periodic evaluation, seed 2024, among them); the
same evaluation run again replaces its entry, and a line says so when the numbers changed
(gan_jax/evaluator.py: the format and `read_results`), and logs the scalars to the
workdir's TensorBoard as `evaluate/seed<S>_<ema|live>/<metric>/<value>`. By default every
metric that applies to the run's dataset is computed: `modes` on 2D mixtures;
`fid`, `kid`, `pr` (precision/recall in Inception space) on images; `parzen` on
MNIST-like data with held-out splits; `stacked_modes` on stacked MNIST;
`class_agreement` (the shipped MNIST classifier's class against the class asked
for) and `intra_fid` (FID per class, mean over the classes) for class-conditional
runs. The features of the real reference images are cached in --stats_dir. Sampling and
feature computations that take long print their progress (N / total, rate, ETA) to stderr.
"""

from absl import app, flags

from gan_jax.cli import parse_flags, run_cli
from gan_jax import sampling
from gan_jax.errors import UserError
from gan_jax.evaluator import (
    checked_metrics,
    eval_data,
    format_results,
    log_scalars,
    write_results,
)
from gan_jax.experiment import restore
from gan_jax.metrics import METRICS, REFUSED, allowed_names
from gan_jax.metrics.eval_data import DEFAULT_STATS_DIR
from gan_jax.metrics.evaluation import evaluate
from gan_jax.progress import Counter

flags.DEFINE_string('workdir', None, 'A workdir written by experiments.main.')
flags.DEFINE_string('step', None, 'Checkpoint step or best (checkpoint.keep_best); default: newest')
flags.DEFINE_integer('num_samples', None, 'Samples per metric (default: each metric protocol).')
flags.DEFINE_list(
    'metrics',
    None,
    'Metrics to compute (default: all that apply): '
    + ', '.join(m for m in METRICS if m not in REFUSED),
)
flags.DEFINE_integer('seed', 0, 'Seed of the noise.')
flags.DEFINE_string(
    'stats_dir', None, f'Cache of reference features (default {DEFAULT_STATS_DIR}).'
)
flags.DEFINE_integer('num_reference', 10000, 'Real reference examples (capped by the split size).')
flags.DEFINE_string('reference_split', None, 'Split of the reference examples (default: training).')
flags.DEFINE_bool('ema', True, 'Use the EMA of the generator weights (--noema: the live ones).')
flags.mark_flags_as_required(['workdir'])
FLAGS = flags.FLAGS


@run_cli
def main(argv):
  del argv
  unknown = [m for m in FLAGS.metrics or [] if m not in METRICS]
  if unknown:
    raise UserError(f'--metrics={",".join(unknown)}: allowed: {allowed_names()}')
  for flag in ('num_samples', 'num_reference'):
    if getattr(FLAGS, flag) is not None and getattr(FLAGS, flag) < 2:
      raise UserError(f'--{flag}={getattr(FLAGS, flag)}: must be >= 2')
  exp, state = restore(FLAGS.workdir, FLAGS.step)
  data = eval_data(
      exp, FLAGS.stats_dir, FLAGS.num_reference, FLAGS.reference_split, progress=Counter
  )
  names = checked_metrics(FLAGS.metrics or [], data, '--metrics')
  step = int(state.step)

  def draw(n):
    report = Counter('Sampling', n, unit='samples')
    return sampling.draw(exp.generator, state, n, FLAGS.seed, FLAGS.ema, on_progress=report)

  results = evaluate(names, draw, data, FLAGS.num_samples)
  print(format_results(step, results))
  weights = 'ema' if FLAGS.ema else 'live'
  path, replaced = write_results(
      FLAGS.workdir, step, FLAGS.seed, results, weights, by='experiments.evaluate'
  )
  for line in replaced:
    print(f'note: replaced in {path}: {line}')
  log_scalars(FLAGS.workdir, step, f'evaluate/seed{FLAGS.seed}_{weights}', results)
  print(f'Wrote {path} (seed {FLAGS.seed}, {weights} weights)')


if __name__ == '__main__':
  app.run(main, flags_parser=parse_flags)
