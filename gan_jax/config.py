"""Validation of a whole experiment config before anything compiles or writes.

`validate(config, num_devices)` raises `ConfigError` with one line that names
the field, its value and what is allowed. Names are checked against the
registries; a registry entry's keyword parameters are the fields it accepts.
"""

import inspect

from gan_jax.checks import FieldError, check_number
from gan_jax.data import DATASETS
from gan_jax.diffaugment import parse_policy
from gan_jax.losses import LOSSES, build_loss
from gan_jax.models import MODELS
from gan_jax.optimizers import OPTIMIZERS
from gan_jax.packing import check_pack
from gan_jax.regularizers import PENALTIES

REG_FIELDS = (*PENALTIES, 'clip', 'instance_noise', 'instance_noise_steps')
# Optional fields (absent in older configs) and the value their absence means.
OPTIONAL_DEFAULTS = {'model.pack': 1, 'train.unroll_steps': 0, 'reg.diffaugment': ''}
# model.* fields that the step reads, not the model builder.
STEP_MODEL_FIELDS = ('pack',)
TRAIN_FIELDS = (
    'num_steps',
    'batch_size',
    'd_steps',
    'ema_decay',
    'log_every',
    'sample_every',
    'num_samples',
    'steps_per_call',
)
# What training does when the step refuses a non-finite update (optional; absent in older
# configs: 'stop'): stop with an error naming the step, or skip the update and count it.
ON_NONFINITE = ('stop', 'skip')
CHECKPOINT_FIELDS = ('every_steps', 'keep')
EVAL_FIELDS = (
    'every_steps',
    'metrics',
    'num_samples',
    'num_reference',
    'reference_split',
    'stats_dir',
)
SECTIONS = ('seed', 'data', 'model', 'loss', 'reg', 'optim', 'train', 'checkpoint')


ConfigError = FieldError  # what `validate` raises: 'config.<field>=<value>: <rule>'


def _fail(field, value, allowed):
  raise ConfigError(f'config.{field}={value!r}: {allowed}')


def registry_fields(builder):
  """The keyword fields a registry entry accepts (its parameters with defaults)."""
  return tuple(
      n
      for n, p in inspect.signature(builder).parameters.items()
      if p.default is not inspect.Parameter.empty
  )


def entry_fields(section):
  """A `{name, field...}` section -> its fields without `name`, as plain values."""
  return {k: v for k, v in section.items() if k != 'name'}


def model_fields(section):
  """The `config.model` fields its builder takes (without `name` and the step's `pack`)."""
  return {k: v for k, v in entry_fields(section).items() if k not in STEP_MODEL_FIELDS}


def optional(config, field):
  """config.<field> ('section.key'), or the value its absence means (OPTIONAL_DEFAULTS)."""
  section, key = field.split('.')
  return config[section].get(key, OPTIONAL_DEFAULTS[field])


def _check_keys(prefix, section, allowed, required=()):
  for key in section.keys():
    if key not in allowed:
      _fail(
          f'{prefix}.{key}' if prefix else key,
          section[key],
          f'unknown field; allowed: {", ".join(allowed)}',
      )
  for key in required:
    if key not in section:
      raise ConfigError(f'config.{prefix}.{key}: missing; required: {", ".join(required)}')


def _check_entry(prefix, section, registry, extra=()):
  name = section.get('name')
  if name not in registry:
    _fail(f'{prefix}.name', name, f'allowed: {", ".join(sorted(registry))}')
  _check_keys(prefix, section, ('name', *registry_fields(registry[name]), *extra))


def _check_number(field, value, **bounds):
  check_number(f'config.{field}', value, **bounds)


def validate(config, num_devices: int) -> None:
  """Raise ConfigError for the first field that is not runnable as it stands."""
  _check_keys('', config, (*SECTIONS, 'eval'))  # eval is optional (older runs have none)
  for section in SECTIONS[1:]:
    if section not in config:
      _fail(section, None, 'missing section')
  _check_number('seed', config.seed, integer=True, low=0)
  _check_entry('data', config.data, DATASETS)
  _check_entry('model', config.model, MODELS, extra=STEP_MODEL_FIELDS)
  _check_number('model.pack', optional(config, 'model.pack'), integer=True, low=1)
  _check_entry('loss', config.loss, LOSSES)
  try:
    build_loss(config.loss)  # pure and cheap: the builder checks its fields' values
  except ConfigError as e:
    raise ConfigError(f'config.loss.{e}') from None

  _check_keys('reg', config.reg, (*REG_FIELDS, 'diffaugment'), required=REG_FIELDS)
  for name in REG_FIELDS:
    _check_number(f'reg.{name}', config.reg[name], low=0)
  _check_number('reg.instance_noise_steps', config.reg.instance_noise_steps, integer=True, low=0)
  parse_policy(optional(config, 'reg.diffaugment'))  # names only; images only: build_experiment

  _check_keys('optim', config.optim, ('g', 'd'))
  for net in ('g', 'd'):
    _check_entry(f'optim.{net}', config.optim[net], OPTIMIZERS)
    if 'lr' in config.optim[net]:
      _check_number(f'optim.{net}.lr', config.optim[net].lr, low=0, low_open=True)

  train = config.train
  _check_keys(
      'train', train, (*TRAIN_FIELDS, 'on_nonfinite', 'unroll_steps'), required=TRAIN_FIELDS
  )
  _check_number('train.unroll_steps', optional(config, 'train.unroll_steps'), integer=True, low=0)
  if train.get('on_nonfinite', 'stop') not in ON_NONFINITE:
    _fail('train.on_nonfinite', train.on_nonfinite, f'allowed: {", ".join(ON_NONFINITE)}')
  for name in ('num_steps', 'batch_size', 'd_steps', 'log_every', 'num_samples', 'steps_per_call'):
    _check_number(f'train.{name}', train[name], integer=True, low=1)
  _check_number('train.sample_every', train.sample_every, integer=True, low=0)
  _check_number('train.ema_decay', train.ema_decay, low=0, high_open=1)
  if train.batch_size % num_devices:
    _fail(
        'train.batch_size',
        train.batch_size,
        f'must be divisible by the number of devices ({num_devices})',
    )
  check_pack(train.batch_size, optional(config, 'model.pack'), num_devices)

  _check_keys('checkpoint', config.checkpoint, CHECKPOINT_FIELDS, required=CHECKPOINT_FIELDS)
  _check_number('checkpoint.every_steps', config.checkpoint.every_steps, integer=True, low=1)
  _check_number('checkpoint.keep', config.checkpoint.keep, integer=True, low=1)

  if 'eval' in config:
    _check_eval(config.eval)

  # Logging, samples, evaluations and checkpoints happen between calls of the compiled step.
  for field, value in (
      ('eval.every_steps', config.eval.every_steps if 'eval' in config else 0),
      ('train.num_steps', train.num_steps),
      ('train.log_every', train.log_every),
      ('train.sample_every', train.sample_every),
      ('checkpoint.every_steps', config.checkpoint.every_steps),
  ):
    if value % train.steps_per_call:
      _fail(field, value, f'must be a multiple of train.steps_per_call ({train.steps_per_call})')


def _check_eval(ev):
  _check_keys('eval', ev, EVAL_FIELDS, required=EVAL_FIELDS)
  _check_number('eval.every_steps', ev.every_steps, integer=True, low=0)
  for name in ('num_samples', 'num_reference'):
    _check_number(f'eval.{name}', ev[name], integer=True, low=2)
  for name in ('metrics', 'reference_split', 'stats_dir'):
    if not isinstance(ev[name], str):
      _fail(f'eval.{name}', ev[name], 'must be a string')
  from gan_jax.metrics import METRICS  # pylint: disable=g-import-not-at-top (heavy, only here)

  unknown = [m for m in ev.metrics.split(',') if m and m not in METRICS]
  if unknown:
    _fail('eval.metrics', ev.metrics, f'allowed: comma-separated names of {", ".join(METRICS)}')


# Fields a resumed run may change: how long it runs and how it reports, not what it computes
# (the step refuses non-finite updates whatever on_nonfinite says; only the host reacts to it).
RESUMABLE_FIELDS = (
    'train.num_steps',
    'train.on_nonfinite',
    'train.log_every',
    'train.sample_every',
    'train.num_samples',
    'train.steps_per_call',
    'checkpoint.every_steps',
    'checkpoint.keep',
    'data.data_dir',
    'data.download',
    *(f'eval.{name}' for name in EVAL_FIELDS),
)


def _flatten(tree, prefix=''):
  if hasattr(tree, 'items'):
    out = {}
    for key, value in tree.items():
      out.update(_flatten(value, f'{prefix}{key}.'))
    return out
  return {prefix[:-1]: tuple(tree) if isinstance(tree, list) else tree}


def config_diff(old, new, ignore=RESUMABLE_FIELDS):
  """['field: old -> new', ...] for the fields that differ, except those in `ignore`."""
  a, b = _flatten(old), _flatten(new)
  for flat in (a, b):  # an optional field's absence (an older config) means its default
    for field, default in OPTIONAL_DEFAULTS.items():
      flat.setdefault(field, default)
  return [
      f'{k}: {a.get(k, "<unset>")!r} -> {b.get(k, "<unset>")!r}'
      for k in sorted(set(a) | set(b))
      if k not in ignore and a.get(k, '<unset>') != b.get(k, '<unset>')
  ]
