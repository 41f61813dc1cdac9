"""Draw samples from a trained run's checkpoint.

  python -m experiments.sample --workdir=runs/wgan_gp --num=64 --out=samples.png \
      [--step=S] [--seed=S] [--noema]

`.png` writes an image grid (a scatter plot for 2D data); `.npy` the raw array:
(N, H, W, C) in [-1, 1] for images, (N, 2) for 2D points. The generator's EMA
weights are used by default.
"""

import os

import numpy as np
from absl import app, flags

from experiments.common import parse_flags, run_cli
from gan_jax import sampling
from gan_jax.experiment import UserError, restore
from gan_jax.images import save_samples

flags.DEFINE_string('workdir', None, 'A workdir written by experiments.main.')
flags.DEFINE_integer('num', 64, 'How many samples.')
flags.DEFINE_string('out', None, 'Output file: .png or .npy.')
flags.DEFINE_integer('step', None, 'Checkpoint step (default: the latest).')
flags.DEFINE_integer('seed', 0, 'Seed of the noise.')
flags.DEFINE_bool('ema', True, 'Use the EMA of the generator weights.')
flags.mark_flags_as_required(['workdir', 'out'])
FLAGS = flags.FLAGS


@run_cli
def main(argv):
  del argv
  ext = os.path.splitext(FLAGS.out)[1]
  if ext not in ('.png', '.npy'):
    raise UserError(f'--out={FLAGS.out}: must end in .png or .npy')
  if FLAGS.num < 1:
    raise UserError(f'--num={FLAGS.num}: must be >= 1')
  exp, state = restore(FLAGS.workdir, FLAGS.step)
  samples = sampling.draw(exp.generator, state, FLAGS.num, FLAGS.seed, use_ema=FLAGS.ema)
  os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
  if ext == '.npy':
    np.save(FLAGS.out, samples)
  else:
    save_samples(samples, FLAGS.out, modes=getattr(exp.source, 'modes', None))
  print(f'Wrote {FLAGS.num} samples of step {int(state.step)} to {FLAGS.out}')


if __name__ == '__main__':
  app.run(main, flags_parser=parse_flags)
