"""Translating images with a trained translation run (pix2pix or CycleGAN): restore, preprocess,
translate, evaluate.

`restore_translator(workdir, step, direction)` -> (p, state): the run's parts, rebuilt from its
saved config as gan_jax/train.py picks its program (CycleGAN's programs/cyclegan_step.CycleGan for
the unpaired datasets, else programs/pix2pix_step's Pix2Pix), and a checkpoint's state
(experiment.restore's rules: newest valid, a step, or 'best'); UserError (one line, before any
checkpoint is read) for a run that is not a translation run and for a direction it does not
translate. Directions (DIRECTIONS): a CycleGAN run translates 'a2b' (G_AB) and 'b2a' (G_BA); a
pix2pix run its input domain to its target, 'a2b' only (None: 'a2b').

`to_model_input(images, p, direction)` applies the training preprocessing to images of the
direction's source domain as the dataset stores them (read by metrics/sample_files.read_samples
into [-1, 1]: e.g. edges2mnist's 28x28 edge maps; sr_mnist's bicubic-upsampled 28x28;
mnist2negative's negatives for b2a) or already at the model's size (+ 2 data.pad): padded by
data.pad with the domain's background (`background`); `translate(p, state, x, direction)` -> G(x)
with the EMA weights in test mode (the run's own samples' rule: dropout as model.dropout_at_test,
with the fixed key of the program's samples; `live_weights(state)` puts the live weights in their
place); `to_stored(outputs, p, size)` crops the padding back off and returns uint8 pixels at the
input's size. `split_pairs(p, split, n, direction)`: `n` examples of a split of the run's data
spread evenly over it, as its samples and metrics pick them.

`evaluate_run(p, state, metrics, num_samples)`: the metrics the run's program computes every
eval.every_steps (Pix2PixProgram.evaluate, CycleGanProgram.evaluate: the same functions), of
`state`: experiments.evaluate on a translation run.
"""

import copy
import dataclasses

import numpy as np

from gan_jax.data.unpaired import UNPAIRED
from gan_jax.errors import UserError
from gan_jax.experiment import restore, saved_config
from gan_jax.models.translation import TRANSLATION_MODELS
from gan_jax.programs import cyclegan, pix2pix
from gan_jax.programs.cyclegan_step import build_cyclegan
from gan_jax.programs.pix2pix_step import build_pix2pix

DIRECTIONS = tuple(cyclegan.DIRECTIONS)  # ('a2b', 'b2a'); a pix2pix run: 'a2b' only


def is_cyclegan(config) -> bool:
  """Whether a translation run's config trains CycleGAN (as gan_jax/train.py decides)."""
  return config.data.name in UNPAIRED


def is_translation_run(workdir) -> bool:
  """Whether `workdir`'s saved config trains a translation model (UserError if it has none)."""
  return saved_config(workdir).model.name in TRANSLATION_MODELS


def check_direction(config, direction, workdir='') -> str:
  """`direction` (None: 'a2b') if the run of `config` translates it; else a UserError."""
  if direction is None:
    return 'a2b'
  if direction not in DIRECTIONS:
    raise UserError(f'--direction={direction}: must be one of {", ".join(DIRECTIONS)}')
  if direction != 'a2b' and not is_cyclegan(config):
    raise UserError(
        f'--direction={direction}: --workdir={workdir} is a pix2pix run; it translates its '
        'input domain to its target, a2b, only'
    )
  return direction


def restore_translator(workdir, step=None, direction=None):
  """(the run's parts, state) of a pix2pix or CycleGAN workdir's checkpoint (module docstring);
  UserError for other workdirs or a direction the run does not translate."""

  def build(config):
    if config.model.name not in TRANSLATION_MODELS:
      raise UserError(
          f'--workdir={workdir}: a run of model {config.model.name!r}, not a translation run '
          '(experiments.sample draws from it)'
      )
    check_direction(config, direction, workdir)
    return (build_cyclegan if is_cyclegan(config) else build_pix2pix)(config, num_devices=1)

  return restore(workdir, step, build=build)


def live_weights(state):
  """`state` with G's live weights (and statistics) in the place of their EMA."""
  return state.replace(ema_params=state.g_params, ema_state=state.g_state)


def data_pad(p) -> int:
  """The background border the run's data put around each stored image (0 without `pad`)."""
  return int(p.config.data.pad) if 'pad' in p.config.data else 0


def background(p, direction='a2b') -> float:
  """The value in [-1, 1] the data pad `direction`'s source images with: -1 (pixel 0), +1 (255)
  for the negatives of mnist2negative (its domain B, data/unpaired.py)."""
  negative = is_cyclegan(p.config) and direction == 'b2a' and p.test_source.negative_b
  return 1.0 if negative else -1.0


def to_model_input(images, p, direction='a2b') -> tuple[np.ndarray, int]:
  """(float32 (N, H', W', C) in [-1, 1] at the model's input shape, the stored size H) of
  images (N, H, W, C) in [-1, 1] (metrics/sample_files.read_samples' form); UserError naming the
  sizes the run takes."""
  x = np.asarray(images, np.float32)
  h, _, c = p.input_shape
  pad = data_pad(p)
  sizes = sorted({h - 2 * pad, h})
  if x.ndim != 4 or x.shape[1] != x.shape[2] or x.shape[1] not in sizes or x.shape[3] != c:
    want = ' or '.join(f'{s}x{s}' for s in sizes)
    raise UserError(
        f'--input: images of shape {x.shape}: this run translates {want} images with {c} '
        'channel(s), as its dataset stores its inputs'
    )
  size = x.shape[1]
  if size != h:  # the dataset's background border
    pads = ((0, 0), (pad, pad), (pad, pad), (0, 0))
    x = np.pad(x, pads, constant_values=background(p, direction))
  return x, size


def translate(p, state, x, direction='a2b') -> np.ndarray:
  """G(x) in [-1, 1] (float32, the model's size) with the EMA weights, in test mode: pix2pix's
  G, or CycleGAN's G_AB (a2b) or G_BA (b2a)."""
  x = np.asarray(x, np.float32)
  if is_cyclegan(p.config):
    name = cyclegan.DIRECTIONS[direction][2]
    return cyclegan.translate_all(cyclegan.translator(p), state, name, x)
  return pix2pix.translate_all(pix2pix.translator(p), state, x)


def split_pairs(p, split, n, direction='a2b') -> pix2pix.TestPairs:
  """`n` examples of the run's `split` ('test' or 'train') spread evenly over it (every class of
  a split stored by class), as the run's samples and metrics pick them: pix2pix's pairs
  (pix2pix.test_pairs), CycleGAN's images of the source domain with their true counterparts
  where the split is aligned (mnist2negative's test split; else targets None) and labels
  (cyclegan.direction_pairs)."""
  source = p.test_source if split == 'test' else p.source
  if is_cyclegan(p.config):
    return cyclegan.direction_pairs(source, direction, n, p.config.data.name)
  return pix2pix.test_pairs(dataclasses.replace(p, test_source=source), n)


def to_stored(images, p, size) -> np.ndarray:
  """uint8 (N, size, size, C) of [-1, 1] images at the model's size (the padding cropped)."""
  x = np.asarray(images)
  crop = (x.shape[1] - size) // 2
  x = x[:, crop : crop + size, crop : crop + size]
  return np.clip(np.rint((x + 1.0) * 127.5), 0, 255).astype(np.uint8)


def _eval_config(config, metrics, num_samples):
  """`config` with eval.metrics (a non-empty `metrics`) and eval.num_samples (if given) set."""
  config = copy.deepcopy(config)
  if metrics:
    config.eval.metrics = ','.join(metrics)
  if num_samples is not None:
    config.eval.num_samples = int(num_samples)
  return config


def evaluate_run(p, state, metrics=(), num_samples=None) -> dict:
  """{metric: result} of `state` as the run's program evaluates it (module docstring):
  `metrics` (default: config.eval.metrics, or all that apply) on `num_samples` test examples
  (default: eval.num_samples); UserError naming --metrics for one the run does not compute."""
  config = _eval_config(p.config, metrics, num_samples)
  program = cyclegan if is_cyclegan(config) else pix2pix
  pairs = None
  try:
    if program is cyclegan:
      names = cyclegan.eval_names(config, p.test_source)
    else:
      pairs = pix2pix.test_pairs(p, config.eval.num_samples)
      names = pix2pix.eval_names(config, pairs)
  except UserError as e:
    if not metrics:
      raise
    why = str(e).split(': ', 1)[1]  # after config.eval.metrics='...'
    known = ', '.join(program.METRIC_NAMES)
    raise UserError(f'--metrics={",".join(metrics)}: {why} (this run computes {known})') from None
  if program is cyclegan:
    n = config.eval.num_samples
    return cyclegan.evaluate_all(p, cyclegan.translator(p), state, names, n)
  outputs = pix2pix.translate_all(pix2pix.translator(p), state, pairs.inputs)
  return pix2pix.evaluate(names, outputs, pairs)
