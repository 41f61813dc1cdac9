"""Everything a config describes, built and checked before anything is written.

`build_experiment(config)` validates the config, opens the dataset, builds the
models and optimizers and traces the state's shapes (no compilation); any
problem surfaces here as a `UserError` with one line. `restore(workdir, step)`
rebuilds a trained run from its saved config and checkpoint.
"""

import dataclasses
import os
import sys
from functools import partial

import jax
import numpy as np

from gan_jax import rng
from gan_jax import best_checkpoint, checkpoint
from gan_jax import config as config_lib
from gan_jax.best_checkpoint import BEST, parse_step
from gan_jax.checkpoint import abstract_like
from gan_jax.data import get_dataset
from gan_jax.errors import FieldError, UserError  # UserError re-exported for older imports
from gan_jax.data.source import ShapeOnlySource
from gan_jax.diffaugment import check_policy
from gan_jax.models import MODELS, build_models
from gan_jax.optimizers import build_optimizer
from gan_jax.sharding import make_mesh, replicated
from gan_jax.state import create_state
from gan_jax.step import StepSpec


def check_creatable(path, flag, not_a_folder):
  """UserError unless `path` is, or can be created below, a writable folder; creates nothing.

  The nearest existing ancestor of `path` (itself included) decides. `flag` ('--out=x') starts
  the error; `not_a_folder` is the error where that ancestor is a file ('{}' names it).
  """
  existing = os.path.abspath(path)
  while not os.path.exists(existing):
    existing = os.path.dirname(existing)
  if not os.path.isdir(existing):
    raise UserError(f'{flag}: {not_a_folder.format(existing)}')
  if not os.access(existing, os.W_OK | os.X_OK):
    raise UserError(f'{flag}: {existing} is not writable')


@dataclasses.dataclass
class Experiment:
  config: object
  source: object  # gan_jax.data Source
  generator: object
  discriminator: object
  g_tx: object
  d_tx: object
  mesh: object
  init_state: object  # jitted rng -> TrainState, replicated over the mesh
  abstract_state: object  # its ShapeDtypeStructs with shardings
  num_classes: int = 0  # > 0: a conditional model of the data's classes
  step_spec: StepSpec | None = None  # what the train step computes (gan_jax/step.py)


def _built(section, name, build):
  """build() with its errors turned into one-line UserErrors naming config.<section>."""
  try:
    return build()
  except FieldError as e:
    raise UserError(f'config.{section}.{e}') from None
  except (ValueError, TypeError, ZeroDivisionError, OSError, RuntimeError, ImportError) as e:
    raise UserError(f'config.{section} ({name}): {e}') from None


def build_experiment(config, num_devices=None, source=None) -> Experiment:
  """Checks and builds everything; `num_devices` (default: all) must divide the batch.

  `source` replaces the dataset the config names (for restoring without the data).
  """
  try:  # defaults and validation, once (a config prepared before is not checked again)
    config = config_lib.prepare(config, num_devices or jax.device_count())
  except config_lib.ConfigError as e:
    raise UserError(str(e)) from None
  if config.model.name not in MODELS:  # a TRANSLATION_MODELS entry: G takes an image, not z
    raise UserError(
        f'config.model.name={config.model.name!r}: a translation model; pix2pix trains it '
        '(configs/pix2pix.py), not this G/D program'
    )
  source = source or _built(
      'data',
      config.data.name,
      lambda: get_dataset(config.data.name, **config_lib.entry_fields(config.data)),
  )
  _check_data_fits(config, source)
  shape = tuple(source.shape)
  num_classes = _num_classes(config, source)
  model_fields = config_lib.entry_fields(config.model)
  if num_classes:
    model_fields['num_classes'] = num_classes
  if 'data_means' in model_fields and model_fields['g_output_bias'] == 'marginals':  # mlp's G
    model_fields['data_means'] = _built('data', config.data.name, source.pixel_means)
  generator, discriminator = _built(
      'model',
      config.model.name,
      lambda: build_models(config.model.name, shape, **model_fields),
  )
  g_tx = _built('optim.g', config.optim.g.name, lambda: build_optimizer(**config.optim.g))
  d_tx = _built('optim.d', config.optim.d.name, lambda: build_optimizer(**config.optim.d))
  mesh = make_mesh()
  init = partial(
      create_state,
      generator=generator,
      discriminator=discriminator,
      g_tx=g_tx,
      d_tx=d_tx,
      example=_example(shape, num_classes, config.d_input.pack),
  )
  abstract = _built(
      'model',
      f'{config.model.name} on data of shape {shape}',
      lambda: abstract_like(jax.eval_shape(init, rng.key(0)), replicated(mesh)),
  )
  init_state = jax.jit(init, out_shardings=replicated(mesh))
  parts = (generator, discriminator, g_tx, d_tx, mesh, init_state, abstract, num_classes)
  return Experiment(config, source, *parts, StepSpec.from_config(config))


def _check_data_fits(config, source):
  """UserError if the model's output range or the DiffAugment policy does not fit the data, or
  the data hold fewer examples than one batch."""
  count, batch = source.num_examples, config.train.batch_size
  if count is not None and count < batch:
    raise UserError(
        f'config.data ({config.data.name}): {count} examples, fewer than one batch '
        f'(config.train.batch_size={batch}); add data or lower the batch size'
    )
  if 'g_output' in config.model and config.model.g_output == 'tanh' and not source.is_image:
    raise UserError(
        f"config.model.g_output='tanh': {config.data.name} is not in [-1, 1]; use 'linear'"
    )
  try:
    check_policy(config.d_input.diffaugment, source.is_image, config.data.name)
  except FieldError as e:
    raise UserError(str(e)) from None


def _num_classes(config, source):
  """The classes a conditional model is built for (0: unconditional); UserError if the data
  cannot condition it."""
  conditioning = config.model.conditioning if 'conditioning' in config.model else 'none'
  acgan = config.reg.acgan
  if (acgan > 0) != (conditioning == 'acgan'):
    raise UserError(
        f'config.reg.acgan={acgan}: the class loss goes with model.conditioning=acgan (and needs '
        f'a weight > 0 there), not with conditioning={conditioning!r}'
    )
  if conditioning == 'none':
    return 0
  have = source.num_classes
  if not have:
    raise UserError(
        f'config.model.conditioning={conditioning!r}: data {config.data.name} has no labels; '
        'use conditioning=none'
    )
  want = config.model.num_classes if 'num_classes' in config.model else 0
  if want and want != have:
    raise UserError(
        f'config.model.num_classes={want}: data {config.data.name} has {have} classes '
        '(0 takes them from the data)'
    )
  return have


def _example(shape, num_classes, pack):
  """A batch of two examples as D sees them (packed), for tracing the models' variables."""
  from gan_jax.packing import pack as pack_examples  # pylint: disable=g-import-not-at-top

  example = {'x': pack_examples(np.zeros((2 * pack, *shape), np.float32), pack)}
  if num_classes:
    example['y'] = np.zeros((2,), np.int32)
  return example


def restore(workdir, step=None, build=None):
  """(experiment, state) of a checkpoint of `workdir`: `step` None (the newest valid one), a
  step (an int or its digits), or 'best' (the best by checkpoint.keep_best,
  gan_jax/best_checkpoint.py); `parse_step` reads the --step flags. `build(config)` builds what
  the run's saved config trains (anything with `config` and `abstract_state`; default: the GAN
  Experiment, with the data shape saved beside the config when the data are not at hand).

  Corrupt checkpoints are passed over with a warning (left in place) when `step` is None (for
  the previous one) or 'best' (for the next best); a corrupt, missing or unfitting step is a
  UserError.
  """
  step = parse_step(step)
  exp = _experiment_of(workdir) if build is None else build(saved_config(workdir))
  ckpts = checkpoint.Checkpoints(workdir, read_only=True)
  steps = ckpts.all_steps()
  if not steps:
    raise UserError(f'--workdir={workdir}: has no checkpoint yet')
  if step not in (None, BEST) and step not in steps:
    raise UserError(f'--step={step}: no such checkpoint; available: {", ".join(map(str, steps))}')
  try:
    if step not in (None, BEST):
      return exp, ckpts.restore(exp.abstract_state, step)
    if step is None:
      found = checkpoint.restore_newest_valid(ckpts, exp.abstract_state)
    else:
      order = _best_first(exp.config, workdir, steps)
      found = checkpoint.restore_first_valid(ckpts, exp.abstract_state, order, then='next best')
  except checkpoint.Corrupt as e:
    raise UserError(f'--step={step}: {e}') from None
  except checkpoint.Mismatch as e:
    raise UserError(f'--workdir={workdir}: {e}') from None
  if found is None:
    which = 'every checkpoint' if step is None else 'every evaluated checkpoint'
    raise UserError(f'--workdir={workdir}: {which} is corrupt (see the warnings above)')
  if step == BEST:
    keep_best = exp.config.checkpoint.keep_best
    value = best_checkpoint.step_values(workdir, keep_best)[found[0]]
    print(f'note: --step=best is step {found[0]} ({keep_best} {value:.6g})', file=sys.stderr)
  return exp, found[1]


def saved_config(workdir):
  """The config a training workdir saved (data.download off: reading a run never starts a
  dataset download); UserError if it is not a training workdir."""
  if not os.path.isfile(os.path.join(workdir, checkpoint.CONFIG_FILE)):
    raise UserError(f'--workdir={workdir}: no {checkpoint.CONFIG_FILE}; not a training workdir')
  try:
    config = checkpoint.load_config(workdir)
  except ValueError as e:
    raise UserError(f'--workdir={workdir}: {e}') from None
  if 'download' in config.data:
    config.data.download = False
  return config


def _experiment_of(workdir):
  """The Experiment of a training workdir's saved config (the data shape saved beside it when
  the data are not at hand)."""
  config = saved_config(workdir)
  try:
    return build_experiment(config, num_devices=1)  # the training batch size does not matter
  except UserError as e:
    info = checkpoint.load_data_info(workdir)
    if not str(e).startswith('config.data') or info is None:
      raise
    print(f'warning: {e}; using the data shape saved in {workdir}', file=sys.stderr)
    return build_experiment(config, num_devices=1, source=ShapeOnlySource(**info))


def _best_first(config, workdir, steps):
  """The checkpoint `steps` ranked by checkpoint.keep_best, best first; UserError if the run
  has none to rank."""
  keep_best = config.checkpoint.keep_best
  if not keep_best:
    raise UserError(
        f'--step=best: {workdir} was trained without checkpoint.keep_best; train it with '
        '--config.checkpoint.keep_best=<metric> (e.g. fid, modes) or pass --step=<step>'
    )
  order = best_checkpoint.best_first(workdir, keep_best, steps)
  if not order:
    raise UserError(
        f'--step=best: no checkpoint of {workdir} has a periodic evaluation of {keep_best} yet'
    )
  return order
