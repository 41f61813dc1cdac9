"""Translating images with a trained translation run (pix2pix): restore, preprocess, translate.

`restore_translator(workdir, step)` -> (p, state): the run's parts (programs/pix2pix_step's
Pix2Pix, rebuilt from its saved config) and a checkpoint's state (experiment.restore's rules:
newest valid, a step, or 'best'). `to_model_input(images, p)` applies the training
preprocessing to images of the task's input domain as the dataset stores them (read by
metrics/sample_files.read_samples into [-1, 1]: e.g. edges2mnist's 28x28 edge maps; sr_mnist's
bicubic-upsampled 28x28) or already at the model's size (+ 2 data.pad): padded with background
by data.pad; `translate(p, state, x)` -> G(x) with the EMA weights in test mode
(the run's own samples' rule: dropout as model.dropout_at_test, with the fixed key of the
program's samples); `to_stored(outputs, p, size)` crops the padding back off and returns uint8
pixels at the input's size.
"""

import numpy as np

from gan_jax.data.unpaired import UNPAIRED
from gan_jax.errors import UserError
from gan_jax.experiment import restore
from gan_jax.models.translation import TRANSLATION_MODELS
from gan_jax.programs.pix2pix import translate_all, translator
from gan_jax.programs.pix2pix_step import build_pix2pix


def restore_translator(workdir, step=None):
  """(Pix2Pix parts, state) of a pix2pix workdir's checkpoint; UserError for other workdirs."""

  def build(config):
    if config.model.name not in TRANSLATION_MODELS:
      raise UserError(
          f'--workdir={workdir}: a run of model {config.model.name!r}, not a translation run '
          '(experiments.sample draws from it)'
      )
    if config.data.name in UNPAIRED:
      raise UserError(
          f'--workdir={workdir}: a CycleGAN run; experiments.translate reads pix2pix runs only '
          '(a CycleGAN run writes its translations of both directions as samples)'
      )
    return build_pix2pix(config, num_devices=1)

  return restore(workdir, step, build=build)


def data_pad(p) -> int:
  """The background border the run's data put around each stored image (0 without `pad`)."""
  return int(p.config.data.pad) if 'pad' in p.config.data else 0


def to_model_input(images, p) -> tuple[np.ndarray, int]:
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
  if size != h:  # the dataset's background border (-1: pixel 0)
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), constant_values=-1.0)
  return x, size


def translate(p, state, x) -> np.ndarray:
  """G(x) in [-1, 1] (float32, the model's size) with the EMA weights, in test mode."""
  return translate_all(translator(p), state, np.asarray(x, np.float32))


def to_stored(images, p, size) -> np.ndarray:
  """uint8 (N, size, size, C) of [-1, 1] images at the model's size (the padding cropped)."""
  x = np.asarray(images)
  crop = (x.shape[1] - size) // 2
  x = x[:, crop : crop + size, crop : crop + size]
  return np.clip(np.rint((x + 1.0) * 127.5), 0, 255).astype(np.uint8)
