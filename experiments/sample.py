"""Draw samples from a trained run's checkpoint.

  python -m experiments.sample --workdir=runs/wgan_gp --num=64 --out=samples.png \\
      [--step=S|best] [--seed=S] [--noema] [--label=K] [--truncation=PSI] \\
      [--interpolate=lerp|slerp --steps=8] [--resolution=R]

`.png` writes an image grid (a scatter plot for 2D data); `.npy` the raw array:
(N, H, W, C) in [-1, 1] for images, (N, 2) for 2D points. For a class-conditional run,
`--label=K` draws `--num` samples of class K; without it the draw has one row of `--num`
samples per class (`--num` x K samples), and `.npy` output writes the labels (N,) beside the
samples (`x.npy` -> `x_labels.npy`). `.npz` writes one file with `x` (the samples) and, for a
conditional run, `y` (int64 labels). `--out=DIR/` (ending in '/', or an existing folder) writes
one PNG per image sample, `00000.png`, ... (`00000_y7.png`: of class 7); an existing folder must
be empty (an error otherwise: a second run never mixes its files with the first one's).

`--truncation=PSI` (> 0): the truncation trick; z is N(0, I) and every coordinate outside
[-PSI, PSI] is drawn again until inside (resampling, as BigGAN), deterministic from --seed; the
smaller PSI, the closer every sample is to G(0). Several values (`--truncation=1,0.7,0.4`) make a
.png grid with one row of `--num` samples per value, the same noise in every row.

`--interpolate=lerp|slerp` draws `--num` pairs of noise vectors and writes rows of `--steps`
samples walking from one to the other (slerp: along the great circle), as a .png grid (a row per
walk) or, for `--out=X.gif`, an animated GIF (frame t: every walk's t-th sample; forward then
back). A conditional run has a row per class for each walk (the label fixed along the row, the
same walks in every class), or only class K with --label=K. 2D-point runs take no --interpolate.

The generator's EMA weights are used by default. Without --step, the newest checkpoint that is
not corrupt. The output's folder is created if missing; files and folders are written whole or
not at all (through a temporary file or folder and a rename).
"""

import os

import numpy as np
from absl import app, flags

from experiments.output_files import FOLDER, check_output, output_kind, write_whole
from gan_jax.cli import parse_flags, run_cli
from gan_jax import images, latents
from gan_jax.errors import UserError

# JAX (gan_jax.sampling, .experiment, .progress) is imported where it is used, after the flags
# are checked: a bad flag is answered at once.

flags.DEFINE_string('workdir', None, 'A workdir written by experiments.main.')
flags.DEFINE_integer('num', 64, 'How many samples (walks with --interpolate).')
flags.DEFINE_string(
    'out', None, 'Output: .png, .npy, .npz, DIR/ (a PNG per sample), .gif (--interpolate).'
)
flags.DEFINE_string('step', None, 'Checkpoint step or best (checkpoint.keep_best); default: newest')
flags.DEFINE_integer('seed', 0, 'Seed of the noise.')
flags.DEFINE_bool('ema', True, 'Use the EMA of the generator weights.')
flags.DEFINE_integer('label', None, 'Class to draw (class-conditional runs; default: every class).')
flags.DEFINE_list('truncation', None, 'Truncation psi > 0 (several: a .png grid, a row each).')
flags.DEFINE_enum('interpolate', None, latents.MODES, 'Rows of samples walking between z pairs.')
flags.DEFINE_integer('steps', 8, 'Samples per walk of --interpolate (>= 2).')
flags.DEFINE_integer('resolution', None, 'Progressive runs: draw at this reached stage (8, 16 ...).')
flags.mark_flags_as_required(['workdir', 'out'])
FLAGS = flags.FLAGS

FILE_KINDS = ('.png', '.npy', '.npz', '.gif')


def truncations():
  """The --truncation values as floats ([None] without the flag); UserError unless each > 0."""
  if FLAGS.truncation is None:
    return [None]
  try:
    return [latents.check_truncation(v) for v in FLAGS.truncation]
  except ValueError:
    raise UserError(f'--truncation={",".join(FLAGS.truncation)}: must be numbers > 0') from None


def check_request(kind):
  """UserError for flags that do not go together; returns the truncation values."""
  if FLAGS.num < 1:
    raise UserError(f'--num={FLAGS.num}: must be >= 1')
  psis = truncations()
  if len(psis) > 1 and (kind != '.png' or FLAGS.interpolate):
    raise UserError(
        f'--truncation={",".join(FLAGS.truncation)}: several values make one .png grid (a row '
        'each), without --interpolate'
    )
  if FLAGS.interpolate:
    if FLAGS.steps < 2:
      raise UserError(f'--steps={FLAGS.steps}: must be >= 2 (the two ends of a walk)')
    if kind not in ('.png', '.gif'):
      raise UserError(f'--interpolate: writes a .png grid or a .gif, not --out={FLAGS.out}')
  elif kind == '.gif':
    raise UserError(f'--out={FLAGS.out}: a .gif is written by --interpolate only')
  elif FLAGS['steps'].present:
    raise UserError(f'--steps={FLAGS.steps}: goes with --interpolate')
  return psis


def chosen_labels(classes):
  """The labels of a plain draw: None (unconditional), --num of class --label, or one row of
  --num per class; UserError for a --label the run does not have."""
  from gan_jax import sampling  # pylint: disable=g-import-not-at-top

  if FLAGS.label is not None:
    if not classes:
      raise UserError(f'--label={FLAGS.label}: the run in {FLAGS.workdir} is unconditional')
    if not 0 <= FLAGS.label < classes:
      raise UserError(f'--label={FLAGS.label}: must be in [0, {classes})')
    return np.full((FLAGS.num,), FLAGS.label, np.int32)
  return sampling.class_rows(classes, FLAGS.num) if classes else None


def write_samples(kind, samples, labels, modes, ncols):
  """Samples (with their labels, None if unconditional) to --out, as `kind` says."""
  out = FLAGS.out
  if kind == '.npy':
    write_whole(out, lambda path: np.save(path, samples))
    if labels is not None:
      labels_out = os.path.splitext(out)[0] + '_labels.npy'
      write_whole(labels_out, lambda path: np.save(path, labels.astype(np.int64)))
  elif kind == '.npz':
    arrays = {'x': samples} if labels is None else {'x': samples, 'y': labels.astype(np.int64)}
    write_whole(out, lambda path: np.savez(path, **arrays))
  elif kind == FOLDER:
    try:
      images.save_image_folder(samples, out, labels)
    except OSError as e:
      raise UserError(f'--out={out}: {e}') from None
  else:
    write_whole(out, lambda path: images.save_samples(samples, path, modes=modes, ncols=ncols))


def draw_samples(exp, state, labels, psis):
  """The draw of --num (per class) samples, one per truncation value, rows stacked."""
  from gan_jax import sampling  # pylint: disable=g-import-not-at-top
  from gan_jax.progress import Counter  # pylint: disable=g-import-not-at-top

  classes = exp.num_classes
  num = FLAGS.num if labels is None else len(labels)
  report = Counter('Sampling', num * len(psis), unit='samples')  # prints only if it takes long
  parts = []
  for i, psi in enumerate(psis):
    progress = lambda done, i=i: report(i * num + done)
    drawn = sampling.draw(
        exp.generator,
        state,
        num,
        FLAGS.seed,
        FLAGS.ema,
        labels=labels,
        on_progress=progress,
        truncation=psi,
    )
    parts.append(drawn[0] if classes else drawn)
  return np.concatenate(parts)


def sample(exp, state, kind, psis):
  """Draws --num samples (per class, per truncation value) and writes them; the summary line."""
  classes = exp.num_classes
  labels = chosen_labels(classes)
  if kind == FOLDER and not exp.source.is_image:
    raise UserError(f'--out={FLAGS.out}: the run draws 2D points; write .png, .npy or .npz')
  if len(psis) > 1 and not exp.source.is_image:
    raise UserError(f'--truncation={",".join(FLAGS.truncation)}: 2D points take one value')
  samples = draw_samples(exp, state, labels, psis)
  rows = len(psis) > 1
  ncols = FLAGS.num if classes or rows else None
  all_labels = None if labels is None else np.tile(labels, len(psis))
  write_samples(kind, samples, all_labels, getattr(exp.source, 'modes', None), ncols)
  what = f' of class {FLAGS.label}' if FLAGS.label is not None else ''
  what = what or (f' ({FLAGS.num} per class, {classes} classes)' if classes else '')
  what += f' (truncation {", ".join(map(str, psis))})' if psis[0] is not None else ''
  return f'{len(samples)} samples{what}'


def interpolate(exp, state, kind, psi):
  """Draws and writes --num walks of --steps samples (per class); the summary line."""
  from gan_jax import sampling  # pylint: disable=g-import-not-at-top

  classes = exp.num_classes
  chosen_labels(classes)  # checks --label
  if not exp.source.is_image:
    raise UserError(f'--interpolate: the run in {FLAGS.workdir} draws 2D points, not images')
  samples, _ = sampling.draw_walks(
      exp.generator,
      state,
      FLAGS.num,
      FLAGS.steps,
      FLAGS.seed,
      FLAGS.interpolate,
      label=FLAGS.label,
      use_ema=FLAGS.ema,
      truncation=psi,
  )
  walks = len(samples) // FLAGS.steps
  if kind == '.gif':
    ncols = FLAGS.num if classes and FLAGS.label is None else None  # a row per class
    rows = samples.reshape(walks, FLAGS.steps, *samples.shape[1:])
    write_whole(FLAGS.out, lambda path: images.save_gif(images.walk_frames(rows, ncols), path))
  else:
    write_whole(FLAGS.out, lambda path: images.save_image_grid(samples, path, FLAGS.steps))
  what = f' of class {FLAGS.label}' if FLAGS.label is not None else ''
  what += f' (truncation {psi})' if psi is not None else ''
  return f'{walks} {FLAGS.interpolate} walks of {FLAGS.steps} samples{what}'


@run_cli
def main(argv):
  del argv
  kind = output_kind(FLAGS.out, FILE_KINDS, ' (--interpolate)')
  psis = check_request(kind)
  check_output(FLAGS.out, kind)
  from gan_jax.experiment import restore  # pylint: disable=g-import-not-at-top

  exp, state = restore(FLAGS.workdir, FLAGS.step)
  if FLAGS.resolution is not None:  # a progressively grown run at a stage it has reached
    from gan_jax.programs import progressive  # pylint: disable=g-import-not-at-top

    exp.generator = progressive.generator_at(exp, int(state.step), FLAGS.resolution)
  if FLAGS.interpolate:
    what = interpolate(exp, state, kind, psis[0])
  else:
    what = sample(exp, state, kind, psis)
  print(f'Wrote {what} of step {int(state.step)} to {FLAGS.out}')


if __name__ == '__main__':
  app.run(main, flags_parser=parse_flags)
