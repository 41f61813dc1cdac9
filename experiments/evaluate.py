"""Evaluate a trained run: draw samples from a checkpoint and compute metrics.

  python -m experiments.evaluate --workdir=runs/x [--step=S|best] [--num_samples=N]
      [--metrics=fid,kid,pr,parzen,modes] [--seed=S] [--stats_dir=DIR]
      [--num_reference=N] [--reference_split=SPLIT] [--noema] [--resize=bilinear|antialias]
  python -m experiments.evaluate --workdir=runs/x --save_ref_stats=ref.npz
  python -m experiments.evaluate (--workdir=runs/x | --ref_stats=ref.npz) --samples=DIR|X.npy|X.npz
      [--out=result.json]

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

--resize: how images reach Inception's 299x299 (bilinear: pytorch-fid's, the default;
antialias: clean-fid's), recorded in each result's protocol and printed beside the number.
--save_ref_stats=FILE.npz writes the Inception mean and covariance of the run's reference images
(--reference_split, --num_reference) in pytorch-fid's format and does nothing else.
--ref_stats=FILE.npz (pytorch-fid / TTUR: 'mu', 'sigma') replaces the run's reference images:
FID only (KID, PR if the file holds 'features'). --samples scores images made elsewhere instead
of drawing (gan_jax/metrics/sample_files.py: uint8 or [-1, 1] floats; a folder of images);
with --ref_stats no --workdir is needed and nothing is written but --out; with a --workdir the
results go to its eval file as 'files' results of the checkpoint's step.

A translation run (pix2pix, CycleGAN: gan_jax/translating.py) is scored as its program scores
it every eval.every_steps: its metrics (l1, psnr, ssim, accuracy, classifier_fid; CycleGAN's
'<metric>_a2b' / '_b2a', pixel_agreement, adaptation_accuracy) of the outputs of the test split
(--num_samples: how many; default eval.num_samples), written as the seed-2024 results the run
writes (the same numbers replace them); the flags of images drawn from noise and of Inception's
reference (--seed, --samples, --ref_stats, --save_ref_stats, --stats_dir, --num_reference,
--reference_split, --resize) are refused there.
"""

import json

from absl import app, flags

from gan_jax.cli import parse_flags, run_cli
from gan_jax import sampling, translating
from gan_jax.errors import UserError
from gan_jax.evaluator import (
    EVAL_SEED,
    FILES_BY,
    FILES_WEIGHTS,
    checked_metrics,
    eval_data,
    format_results,
    log_scalars,
    read_files,
    result_entries,
    score_samples,
    stats_eval_data,
    write_ref_stats,
    write_results,
)
from gan_jax.experiment import restore
from gan_jax.metrics import METRICS, REFUSED, allowed_names
from gan_jax.metrics.eval_data import DEFAULT_STATS_DIR
from gan_jax.metrics.evaluation import evaluate
from gan_jax.metrics.features import RESIZE_MODES
from gan_jax.metrics.inception import FEATURES as INCEPTION_DIMS
from gan_jax.metrics.ref_stats import load_ref_stats
from gan_jax.progress import Counter
from gan_jax.workdir import write_atomically

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
flags.DEFINE_enum(
    'resize', 'bilinear', RESIZE_MODES, "Inception's resize: pytorch-fid's or clean-fid's."
)
flags.DEFINE_string('ref_stats', None, "Reference statistics .npz ('mu', 'sigma': pytorch-fid).")
flags.DEFINE_string('save_ref_stats', None, "Write the run's reference statistics (.npz), only.")
flags.DEFINE_string('samples', None, 'Score these images (.npy, .npz or a folder), not a draw.')
flags.DEFINE_string('out', None, 'Also write the results to this .json file.')
FLAGS = flags.FLAGS


def _check_flags():
  unknown = [m for m in FLAGS.metrics or [] if m not in METRICS]
  if unknown:
    raise UserError(f'--metrics={",".join(unknown)}: allowed: {allowed_names()}')
  for flag in ('num_samples', 'num_reference'):
    if getattr(FLAGS, flag) is not None and getattr(FLAGS, flag) < 2:
      raise UserError(f'--{flag}={getattr(FLAGS, flag)}: must be >= 2')
  if not FLAGS.workdir and not (FLAGS.samples and FLAGS.ref_stats):
    raise UserError('--workdir: required, except with both --samples and --ref_stats')
  if FLAGS.save_ref_stats and (FLAGS.samples or FLAGS.ref_stats):
    raise UserError('--save_ref_stats: writes the statistics only (no --samples, --ref_stats)')
  for flag, ext in (('save_ref_stats', '.npz'), ('ref_stats', '.npz'), ('out', '.json')):
    if getattr(FLAGS, flag) and not getattr(FLAGS, flag).endswith(ext):
      raise UserError(f'--{flag}={getattr(FLAGS, flag)}: must end in {ext}')


def _ref_stats():
  if not FLAGS.ref_stats:
    return None
  try:
    return load_ref_stats(FLAGS.ref_stats, INCEPTION_DIMS)
  except ValueError as e:
    raise UserError(f'--ref_stats: {e}') from None


def _write_out(results, step, seed, weights, by):
  if FLAGS.out:
    record = {'step': step, 'results': result_entries(results, seed, weights, by)}
    print(f'Wrote {write_atomically(FLAGS.out, json.dumps(record, indent=2))}')


def _score_files(samples, data, step):
  """Scores --samples against `data`: prints the results (and --out); returns them."""
  names = checked_metrics(FLAGS.metrics or [], data, '--metrics', labels=False)
  results = score_samples(names, samples, data, FLAGS.num_samples)
  print(format_results(step, results, FLAGS.samples))
  _write_out(results, step, None, FILES_WEIGHTS, FILES_BY)
  return results


def _draw_and_score(exp, state, data):
  names = checked_metrics(FLAGS.metrics or [], data, '--metrics')
  step = int(state.step)

  def draw(n):
    report = Counter('Sampling', n, unit='samples')
    return sampling.draw(exp.generator, state, n, FLAGS.seed, FLAGS.ema, on_progress=report)

  results = evaluate(names, draw, data, FLAGS.num_samples)
  _record(results, step, FLAGS.seed)


def _record(results, step, seed):
  """Prints `results` and adds them to the workdir's eval/<step>.json (and --out, TensorBoard)."""
  print(format_results(step, results))
  weights = 'ema' if FLAGS.ema else 'live'
  _write_out(results, step, seed, weights, 'experiments.evaluate')
  path, replaced = write_results(
      FLAGS.workdir, step, seed, results, weights, by='experiments.evaluate'
  )
  for line in replaced:
    print(f'note: replaced in {path}: {line}')
  log_scalars(FLAGS.workdir, step, f'evaluate/seed{seed}_{weights}', results)
  print(f'Wrote {path} (seed {seed}, {weights} weights)')


# What a translation run refuses: its outputs draw no noise, its metrics no Inception reference.
GAN_ONLY_FLAGS = (
    'seed',
    'samples',
    'ref_stats',
    'save_ref_stats',
    'stats_dir',
    'num_reference',
    'reference_split',
    'resize',
)


def _evaluate_translation():
  """A pix2pix or CycleGAN run: its program's metrics (module docstring), seed EVAL_SEED."""
  for flag in GAN_ONLY_FLAGS:
    if FLAGS[flag].present:
      raise UserError(f'--{flag}: not for a translation run (scored on its test split)')
  p, state = translating.restore_translator(FLAGS.workdir, FLAGS.step)
  state = state if FLAGS.ema else translating.live_weights(state)
  results = translating.evaluate_run(p, state, FLAGS.metrics or [], FLAGS.num_samples)
  _record(results, int(state.step), EVAL_SEED)


@run_cli
def main(argv):
  del argv
  _check_flags()
  ref = _ref_stats()
  if not FLAGS.workdir:  # --samples against --ref_stats: nothing written but --out
    samples = read_files(FLAGS.samples, progress=Counter)
    _score_files(samples, stats_eval_data(samples.images.shape[1:], ref, FLAGS.resize), None)
    return None
  if translating.is_translation_run(FLAGS.workdir):
    return _evaluate_translation()
  exp, state = restore(FLAGS.workdir, FLAGS.step)
  data = eval_data(
      exp,
      FLAGS.stats_dir,
      FLAGS.num_reference,
      FLAGS.reference_split,
      progress=Counter,
      resize=FLAGS.resize,
      ref_stats=ref,
  )
  if FLAGS.save_ref_stats:
    path = write_ref_stats(data, FLAGS.save_ref_stats)
    print(f'Wrote {path} ({data.num_reference_used()} reference images, resize {FLAGS.resize})')
    return None
  if not FLAGS.samples:
    return _draw_and_score(exp, state, data)
  step = int(state.step)
  samples = read_files(FLAGS.samples, exp.source.is_image and exp.source.shape, Counter)
  results = _score_files(samples, data, step)
  path, _ = write_results(FLAGS.workdir, step, None, results, FILES_WEIGHTS, by=FILES_BY)
  print(f'Wrote {path} ({FILES_WEIGHTS} {FLAGS.samples})')
  return None


if __name__ == '__main__':
  app.run(main, flags_parser=parse_flags)
