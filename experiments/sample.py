"""Draw samples from a trained run's checkpoint.

  python -m experiments.sample --workdir=runs/wgan_gp --num=64 --out=samples.png \\
      [--step=S] [--seed=S] [--noema]

`.png` writes an image grid (a scatter plot for 2D data); `.npy` the raw array:
(N, H, W, C) in [-1, 1] for images, (N, 2) for 2D points. The generator's EMA
weights are used by default. Without --step, the newest checkpoint that is not
corrupt. The output's folder is created if missing; the file is written whole
or not at all (through a temporary file and a rename).
"""

import os

import numpy as np
from absl import app, flags

from experiments.common import parse_flags, run_cli
from gan_jax import sampling
from gan_jax.experiment import UserError, check_creatable, restore
from gan_jax.images import save_samples
from gan_jax.progress import Counter

flags.DEFINE_string('workdir', None, 'A workdir written by experiments.main.')
flags.DEFINE_integer('num', 64, 'How many samples.')
flags.DEFINE_string('out', None, 'Output file: .png or .npy.')
flags.DEFINE_integer('step', None, 'Checkpoint step (default: the latest).')
flags.DEFINE_integer('seed', 0, 'Seed of the noise.')
flags.DEFINE_bool('ema', True, 'Use the EMA of the generator weights.')
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
  os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
  root, ext = os.path.splitext(out)
  partial = f'{root}.partial{ext}'
  try:
    write(partial)
    os.replace(partial, out)
  except OSError as e:
    if os.path.exists(partial):
      os.remove(partial)
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
  report = Counter('Sampling', FLAGS.num, unit='samples')  # prints only if it takes long
  samples = sampling.draw(
      exp.generator, state, FLAGS.num, FLAGS.seed, use_ema=FLAGS.ema, on_progress=report
  )
  if ext == '.npy':
    write_whole(FLAGS.out, lambda path: np.save(path, samples))
  else:
    modes = getattr(exp.source, 'modes', None)
    write_whole(FLAGS.out, lambda path: save_samples(samples, path, modes=modes))
  print(f'Wrote {FLAGS.num} samples of step {int(state.step)} to {FLAGS.out}')


if __name__ == '__main__':
  app.run(main, flags_parser=parse_flags)
