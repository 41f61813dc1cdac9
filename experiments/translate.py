"""Translate images with a trained translation run (pix2pix or CycleGAN).

  python -m experiments.translate --workdir=runs/p2p --input=edges.npy --out=digits.npy
  python -m experiments.translate --workdir=runs/p2p --split=test --num=16 --out=grid.png
  python -m experiments.translate --workdir=runs/cg --direction=b2a --split=test --out=grid.png

--direction: a CycleGAN run's a2b (G_AB: domain A to B, the default) or b2a (G_BA); a pix2pix
run translates its input domain to its target, a2b only (b2a is an error).
--input: images of the direction's source domain as its dataset stores them (a .npy / .npz
array or a folder of images, read as `experiments.evaluate --samples` reads them: uint8 0..255
or [-1, 1] floats, NHWC / NCHW / NHW), e.g. 28x28 edge maps for edges2mnist, 28x28 negatives
for mnist2negative's b2a; the training preprocessing (the data's background border) is applied
and the outputs come back at the input's size.
--split=test|train --num=N: N examples of that split spread evenly over it (every class), as
the run's samples pick them: pix2pix's pairs; CycleGAN's images of the source domain, with
their true counterparts as targets where the split is aligned (mnist2negative's test split);
their targets and labels are kept. --out: .npy (the outputs, uint8 (N, H, W, C)), .npz
('input', 'output', and 'target' / 'label' where the split has them), .png (a grid of rows
input | output [| target]), DIR/ (a PNG per output). The checkpoint is the newest valid one, or
--step (a step or 'best'); outputs are the EMA generator's (--noema: the live weights) in test
mode, as the run's own samples.
"""

import numpy as np
from absl import app, flags

from experiments.output_files import FOLDER, check_output, output_kind, write_whole
from gan_jax.cli import parse_flags, run_cli
from gan_jax.errors import UserError

# JAX is imported where it is used, after the flags are checked: a bad flag is answered at once.

flags.DEFINE_string('workdir', None, 'A workdir written by experiments.main (pix2pix, CycleGAN).')
flags.DEFINE_string('input', None, 'Images to translate: FILE.npy, FILE.npz or DIR.')
flags.DEFINE_enum('split', None, ('test', 'train'), "Or the run's own pairs of this split.")
flags.DEFINE_integer('num', 16, 'How many examples of --split (spread evenly over it).')
flags.DEFINE_enum('direction', None, ('a2b', 'b2a'), "CycleGAN's G_AB or G_BA (default a2b).")
flags.DEFINE_bool('ema', True, 'Use the EMA of the generator weights (--noema: the live ones).')
flags.DEFINE_string('out', None, 'Output: .npy, .npz, .png (a grid) or DIR/ (a PNG per output).')
flags.DEFINE_string('step', None, 'Checkpoint step or best (checkpoint.keep_best); default: newest')
flags.mark_flags_as_required(['workdir', 'out'])
FLAGS = flags.FLAGS
KINDS = ('.npy', '.npz', '.png')


def check_request():
  """UserError unless exactly one of --input / --split is given and --out can be written."""
  if (FLAGS.input is None) == (FLAGS.split is None):
    raise UserError('give one of --input=FILE|DIR or --split=test|train')
  if FLAGS.split is not None and FLAGS.num < 1:
    raise UserError(f'--num={FLAGS.num}: must be >= 1')
  kind = output_kind(FLAGS.out, KINDS)
  check_output(FLAGS.out, kind)
  return kind


def inputs_of(p, direction):
  """(images in [-1, 1] (N, H, W, C), targets or None, labels or None) to translate."""
  from gan_jax import translating  # pylint: disable=g-import-not-at-top
  from gan_jax.metrics.sample_files import read_samples  # pylint: disable=g-import-not-at-top

  if FLAGS.input is not None:
    try:
      read = read_samples(FLAGS.input, channels=p.input_shape[-1])
    except (ValueError, OSError) as e:
      raise UserError(f'--input={FLAGS.input}: {e}') from None
    return read.images, None, None
  pairs = translating.split_pairs(p, FLAGS.split, FLAGS.num, direction)
  return pairs.inputs, pairs.targets, pairs.labels


def write(kind, arrays):
  """arrays: uint8 'input', 'output' (and 'target', 'label') at the stored size -> --out."""
  from gan_jax import images  # pylint: disable=g-import-not-at-top

  out = FLAGS.out
  if kind == '.npy':
    write_whole(out, lambda path: np.save(path, arrays['output']))
  elif kind == '.npz':
    write_whole(out, lambda path: np.savez(path, **arrays))
  elif kind == FOLDER:
    try:
      images.save_image_folder(arrays['output'] / 127.5 - 1.0, out)
    except OSError as e:
      raise UserError(f'--out={out}: {e}') from None
  else:
    shown = [arrays[k] for k in ('input', 'output', 'target') if k in arrays]
    if shown[0].shape[-1] != shown[1].shape[-1]:  # e.g. a 1-channel input of a 3-channel output
      shown[0] = np.repeat(shown[0].mean(-1, keepdims=True), shown[1].shape[-1], -1)
    rows = np.stack(shown, axis=1).reshape(-1, *shown[1].shape[1:])
    grid = images.image_grid(rows.astype(np.float32) / 127.5 - 1.0, ncols=len(shown))
    write_whole(out, lambda path: images.save_png(grid, path))


@run_cli
def main(argv):
  del argv
  kind = check_request()
  from gan_jax import translating  # pylint: disable=g-import-not-at-top

  p, state = translating.restore_translator(FLAGS.workdir, FLAGS.step, FLAGS.direction)
  direction = translating.check_direction(p.config, FLAGS.direction)
  state = state if FLAGS.ema else translating.live_weights(state)
  x, targets, labels = inputs_of(p, direction)
  model_input, size = translating.to_model_input(x, p, direction)
  if FLAGS.split is not None:  # the split's pairs are stored padded: give them back as the digits
    size -= 2 * translating.data_pad(p)
  outputs = translating.translate(p, state, model_input, direction)
  arrays = {
      'input': translating.to_stored(model_input, p, size),
      'output': translating.to_stored(outputs, p, size),
  }
  if targets is not None:
    arrays['target'] = translating.to_stored(targets, p, size)
  if labels is not None:
    arrays['label'] = np.asarray(labels, np.int64)
  write(kind, arrays)
  print(f'Wrote {len(outputs)} translations of step {int(state.step)} to {FLAGS.out}')


if __name__ == '__main__':
  app.run(main, flags_parser=parse_flags)
