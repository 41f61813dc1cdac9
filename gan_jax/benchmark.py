"""Timing the train step on random data: what `experiments.benchmark` measures.

The step is the one training runs (`build_experiment` + `build_train_step`); the
data are device-resident random arrays of the config's data shape, so no dataset
is read. Where the dataset cannot be opened (a TFDS set not prepared here), its
shape comes from the TFDS builder's features through `tfds.testing.mock_data`,
with the config's crop and resize applied by the dataset's own code.

One *iteration* is one train step: `train.d_steps` D updates and one G update;
one call of the compiled step runs `train.steps_per_call` iterations.

A translation config (the program gan_jax/train.py picks: CycleGAN on two unpaired domains,
pix2pix for another model of TRANSLATION_MODELS) is timed the same way on its own program's
step (`Pix2PixStep(p).jitted()`, `CycleGanStep(c).jitted()`, built from `build_pix2pix` /
`build_cyclegan` as the program builds them), on random batches of its host batches' shapes
(`random_pairs`); its iteration is one D update (both D's for CycleGAN) and one G update on
`train.batch_size` pairs (`d_steps` 1).
"""

import contextlib
import copy
import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from gan_jax import rng
from gan_jax.data import DATASETS, get_dataset
from gan_jax.data.source import ShapeOnlySource
from gan_jax.errors import UserError
from gan_jax.experiment import build_experiment
from gan_jax.programs.cyclegan_step import CycleGan, CycleGanStep
from gan_jax.programs.pix2pix_step import Pix2Pix, Pix2PixStep
from gan_jax.programs.translation_group import build_translation, translation_program
from gan_jax.sharding import batch_sharding
from gan_jax.step import build_train_step

# What build_pix2pix / build_cyclegan return -> (the program's name, its step class).
TRANSLATION_STEPS = {Pix2Pix: ('pix2pix', Pix2PixStep), CycleGan: ('cyclegan', CycleGanStep)}


@dataclasses.dataclass
class Compiled:
  """A compiled train step with the arguments it runs on."""

  experiment: object
  step: object  # jax.stages.Compiled: (state, batches, rng) -> (state, metrics)
  state: object
  batches: object  # (steps_per_call, d_steps, B, *data shape), split over the devices along B
  rng: object
  lowered: object  # jax.stages.Lowered of the same step
  lower_s: float
  compile_s: float  # lowering + compilation
  train_step: object  # the jitted step before lowering (flops_per_iteration lowers one row)


@contextlib.contextmanager
def _absl_verbosity(level):
  before = logging.get_verbosity()
  logging.set_verbosity(level)
  try:
    yield
  finally:
    logging.set_verbosity(before)


def shape_only_source(config):
  """ShapeOnlySource of the config's dataset read from TFDS's mock data (no files, no network)."""
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top

  fields = {k: v for k, v in config.data.items() if k not in ('name', 'download')}
  with tfds.testing.mock_data(num_examples=1, policy=tfds.testing.MockPolicy.USE_CODE):
    source = get_dataset(config.data.name, **fields, download=False)
  return ShapeOnlySource(source.shape, source.is_image, source.num_classes)


def build_offline(config, num_devices=None):
  """(build_experiment(config), note) without downloading anything: where the dataset cannot
  be opened, the experiment is built on its shape alone and `note` says so (None otherwise):
  the shape from TFDS's mock data, or the builder's `offline_shape` attribute (or the source
  its `offline_source(**fields)` stands in with)."""
  if translation_program(config):  # pix2pix's or CycleGAN's parts, as training builds them
    return build_translation(config, num_devices), None
  config = copy.deepcopy(config)
  if 'download' in config.data:
    config.data.download = False  # the benchmark reads no data
  try:
    with _absl_verbosity(logging.ERROR):  # TFDS warns about each data folder it does not find
      return build_experiment(config, num_devices), None
  except UserError as e:
    if not str(e).startswith('config.data'):
      raise
    shape = getattr(DATASETS.get(config.data.name), 'offline_shape', None)
    stand_in = getattr(DATASETS.get(config.data.name), 'offline_source', None)
    if stand_in is not None:  # a shape its fields decide (the folder dataset)
      source = stand_in(**{k: v for k, v in config.data.items() if k != 'name'})
    elif shape is not None:  # a dataset of one fixed shape (its builder says which)
      source = ShapeOnlySource(tuple(shape), True)
    elif 'download' not in config.data:
      raise
    else:
      try:
        with _absl_verbosity(logging.ERROR):
          source = shape_only_source(config)
      except Exception:  # noqa: BLE001 - no mock for it: the original error says more
        raise e from None
    note = f'{config.data.name} is not available here; timing random data of shape {source.shape}'
    return build_experiment(config, num_devices, source=source), note


def random_batches(exp, rng):
  """A random batch pytree of one call's shape, on the devices: 'x' uniform in [-1, 1] for
  images, standard normal otherwise; 'y' uniform labels for conditional models."""
  t = exp.config.train
  lead = (t.steps_per_call, t.d_steps, t.batch_size)
  shape = (*lead, *exp.source.shape)

  def draw(k):
    k_x, k_y = jax.random.split(k)
    if exp.source.is_image:
      batch = {'x': jax.random.uniform(k_x, shape, minval=-1.0, maxval=1.0)}
    else:
      batch = {'x': jax.random.normal(k_x, shape)}
    if exp.num_classes:
      batch['y'] = jax.random.randint(k_y, lead, 0, exp.num_classes, jnp.int32)
    return batch

  return jax.jit(draw, out_shardings=batch_sharding(exp.mesh, 2))(rng)


def random_pairs(p, rng):
  """Random batches of a translation run `p` (Pix2Pix or CycleGan) in the structure, shapes and
  dtypes of its host batches (`p.source.batch`: {'a', 'b'} and the labels where its data have
  them), leaves (steps_per_call, B, ...) split over the devices along B: images uniform in
  [-1, 1], labels 0 (its step reads none)."""
  t = p.config.train
  leaves, tree = jax.tree_util.tree_flatten(p.source.batch(p.config.seed, 0, t.batch_size))

  def draw(k):
    out = []
    for key, x in zip(jax.random.split(k, len(leaves)), leaves):
      shape = (t.steps_per_call, *x.shape)
      if jnp.issubdtype(x.dtype, jnp.floating):
        out.append(jax.random.uniform(key, shape, x.dtype, minval=-1.0, maxval=1.0))
      else:
        out.append(jnp.zeros(shape, x.dtype))
    return jax.tree_util.tree_unflatten(tree, out)

  return jax.jit(draw, out_shardings=batch_sharding(p.mesh, 1))(rng)


def program_name(exp) -> str:
  """'pix2pix' or 'cyclegan' for what build_offline returns for a translation config, else
  'gan'."""
  return TRANSLATION_STEPS[type(exp)][0] if type(exp) in TRANSLATION_STEPS else 'gan'


def d_steps(exp) -> int:
  """D updates per iteration: train.d_steps of a GAN, 1 of a translation program."""
  return 1 if type(exp) in TRANSLATION_STEPS else exp.config.train.d_steps


def compile_step(exp, seed=0):
  """Builds the train step of `exp` (build_offline's) and compiles it for random data; times
  both phases."""
  k_init, k_data, k_train = jax.random.split(rng.key(seed), 3)
  state = exp.init_state(k_init)
  if type(exp) in TRANSLATION_STEPS:  # the step the program's begin() builds
    batches, train_step = random_pairs(exp, k_data), TRANSLATION_STEPS[type(exp)][1](exp).jitted()
  else:
    batches, train_step = random_batches(exp, k_data), build_train_step(exp)
  jax.block_until_ready((state, batches))
  start = time.perf_counter()
  lowered = train_step.lower(state, batches, k_train)
  lowered_at = time.perf_counter()
  step = lowered.compile()
  done = time.perf_counter()
  seconds = (lowered_at - start, done - start)
  return Compiled(exp, step, state, batches, k_train, lowered, *seconds, train_step)


def _flops(analysis):
  if isinstance(analysis, (list, tuple)):  # older jax: one dict per computation
    analysis = analysis[0] if analysis else None
  flops = (analysis or {}).get('flops')
  return float(flops) if flops and flops > 0 else None


def flops_per_iteration(compiled):
  """FLOPs of one iteration on all devices together, from XLA's cost analysis of the lowered
  step (before partitioning, which would count one device's share, and before optimization:
  within 0.2 % of the compiled count for wgan_gp:cifar10), or None where the backend has none.

  XLA counts a loop body once, so with steps_per_call > 1 a one-iteration step is lowered.
  """
  exp = compiled.experiment
  try:
    if exp.config.train.steps_per_call == 1:
      return _flops(compiled.lowered.cost_analysis())
    first = jax.tree_util.tree_map(lambda b: b[:1], compiled.batches)  # one row: one iteration
    return _flops(compiled.train_step.lower(compiled.state, first, compiled.rng).cost_analysis())
  except (NotImplementedError, RuntimeError, jax.errors.JaxRuntimeError):
    return None


def param_count(tree):
  return int(sum(np.prod(x.shape) for x in jax.tree_util.tree_leaves(tree)))


def time_calls(compiled, calls, warmup):
  """Runs `warmup` untimed calls, then `calls` timed ones back to back; returns their seconds.

  The state is fed from one call to the next (the step donates it), as in training.
  """
  state = compiled.state
  for _ in range(warmup):
    state, _ = compiled.step(state, compiled.batches, compiled.rng)
  jax.block_until_ready(state)
  start = time.perf_counter()
  for _ in range(calls):
    state, metrics = compiled.step(state, compiled.batches, compiled.rng)
  jax.block_until_ready((state, metrics))
  seconds = time.perf_counter() - start
  compiled.state = state
  return seconds
