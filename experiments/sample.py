"""Draw samples from a trained run's checkpoint.

  python -m experiments.sample --workdir=runs/wgan_gp --num=64 --out=samples.png \\
      [--step=S] [--seed=S] [--noema] [--label=K]

`.png` writes an image grid (a scatter plot for 2D data); `.npy` the raw array:
(N, H, W, C) in [-1, 1] for images, (N, 2) for 2D points. For a class-conditional run,
`--label=K` draws `--num` samples of class K; without it the draw has one row of `--num`
samples per class (`--num` x K samples), and `.npy` output writes the labels (N,) beside the
samples (`x.npy` -> `x_labels.npy`). The generator's EMA
weights are used by default. Without --step, the newest checkpoint that is not
corrupt. The output's folder is created if missing; the file is written whole
or not at all (through a temporary file and a rename).
"""

import os

import numpy as np
from absl import app, flags

from gan_jax.cli import parse_flags, run_cli
from gan_jax import sampling
from gan_jax.errors import UserError
from gan_jax.experiment import check_creatable, restore
from gan_jax.images import save_samples
from gan_jax.workdir import write_atomically
from gan_jax.progress import Counter
from gan_jax.programs import progressive

flags.DEFINE_string('workdir', None, 'A workdir written by experiments.main.')
flags.DEFINE_integer('num', 64, 'How many samples.')
flags.DEFINE_string('out', None, 'Output file: .png or .npy.')
flags.DEFINE_integer('step', None, 'Checkpoint step (default: the latest).')
flags.DEFINE_integer('seed', 0, 'Seed of the noise.')
flags.DEFINE_bool('ema', True, 'Use the EMA of the generator weights.')
flags.DEFINE_integer('label', None, 'Class to draw (class-conditional runs; default: every class).')
flags.DEFINE_integer('resolution', None, 'Progressive runs: draw at this reached stage (8, 16 ...).')
flags.mark_flags_as_required(['workdir', 'out'])
FLAGS = flags.FLAGS


def check_output(out):
  """UserError unless `out` can be written as a file (its folder may still have to be created)."""
  if os.path.isdir(out):
    raise UserError(f'--out={out}: is a folder')
  check_creatable(
      os.path.dirname(os.path.abspath(out)), f'--out={out}', 'cannot be created: {} is a file'
  )


def write_whole(out, write):
  """write(path) to a temporary file beside `out`, then renames it: no partial `out` ever."""
  try:
    write_atomically(out, write)
  except OSError as e:
    raise UserError(f'--out={out}: {e}') from None


@run_cli
def main(argv):
  del argv
  ext = os.path.splitext(FLAGS.out)[1]
  if ext not in ('.png', '.npy'):
    raise UserError(f'--out={FLAGS.out}: must end in .png or .npy')
  if FLAGS.num < 1:
    raise UserError(f'--num={FLAGS.num}: must be >= 1')
  check_output(FLAGS.out)
  exp, state = restore(FLAGS.workdir, FLAGS.step)
  if FLAGS.resolution is not None:  # a progressively grown run at a stage it has reached
    exp.generator = progressive.generator_at(exp, int(state.step), FLAGS.resolution)
  classes = sampling.num_classes(exp.generator)
  labels = None
  if FLAGS.label is not None:
    if not classes:
      raise UserError(f'--label={FLAGS.label}: the run in {FLAGS.workdir} is unconditional')
    if not 0 <= FLAGS.label < classes:
      raise UserError(f'--label={FLAGS.label}: must be in [0, {classes})')
    labels = np.full((FLAGS.num,), FLAGS.label, np.int32)
  elif classes:
    labels = sampling.class_rows(classes, FLAGS.num)
  num = FLAGS.num if labels is None else len(labels)
  report = Counter('Sampling', num, unit='samples')  # prints only if it takes long
  drawn = sampling.draw(
      exp.generator, state, num, FLAGS.seed, use_ema=FLAGS.ema, labels=labels, on_progress=report
  )
  samples = drawn[0] if classes else drawn
  if ext == '.npy':
    write_whole(FLAGS.out, lambda path: np.save(path, samples))
    if classes:
      labels_out = os.path.splitext(FLAGS.out)[0] + '_labels.npy'
      write_whole(labels_out, lambda path: np.save(path, labels.astype(np.int64)))
  else:
    modes = getattr(exp.source, 'modes', None)
    ncols = FLAGS.num if classes else None
    write_whole(FLAGS.out, lambda path: save_samples(samples, path, modes=modes, ncols=ncols))
  what = f' of class {FLAGS.label}' if FLAGS.label is not None else ''
  what = what or (f' ({FLAGS.num} per class, {classes} classes)' if classes else '')
  print(f'Wrote {num} samples{what} of step {int(state.step)} to {FLAGS.out}')


if __name__ == '__main__':
  app.run(main, flags_parser=parse_flags)
