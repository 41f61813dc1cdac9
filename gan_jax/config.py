"""Validation of a whole experiment config before anything compiles or writes.

`validate(config, num_devices)` raises `ConfigError` with one line that names
the field, its value and what is allowed. Names are checked against the
registries; a registry entry's keyword parameters are the fields it accepts.
"""

import inspect

from gan_jax.checks import check_number
from gan_jax.errors import FieldError
from gan_jax.data import DATASETS
from gan_jax.diffaugment import parse_policy
from gan_jax.losses import LOSSES, build_loss
from gan_jax.models import MODELS
from gan_jax.optimizers import OPTIMIZERS
from gan_jax.packing import check_pack
from gan_jax.regularizers import PENALTIES

REG_FIELDS = (*PENALTIES, 'clip', 'instance_noise', 'instance_noise_steps')


def _is_on(value):
  return value > 0


# The fields runs of one vectorized group may differ in (launch.sweep --vectorize): the step reads
# them as arrays, not as compile-time constants (gan_jax/step.py), and `seed` picks each run's
# initialisation, noise and data order. Each maps to the part of its value that does shape the
# program (None: nothing): a penalty's weight may vary between runs that all have it on, not
# between a run with it and one without. Every other field is the same across a group.
VECTORIZABLE = {
    'seed': None,
    'optim.g.lr': None,
    'optim.d.lr': None,
    'train.ema_decay': None,
    **{f'reg.{name}': _is_on for name in (*PENALTIES, 'clip', 'instance_noise')},
}
# Fields added after runs were already saved: a config without them means these values (older
# workdirs resume unchanged). `with_defaults` fills them in.
OPTIONAL_FIELDS = {
    'reg.acgan': 0.0,  # weight of ACGAN's class loss (a D with a class head)
    'reg.diffaugment': '',  # DiffAugment policy, e.g. 'color,translation,cutout'
    'train.fake_labels': 'uniform',  # labels of G's samples in conditional runs: or 'data'
    'train.unroll_steps': 0,  # unrolled GAN: D updates G looks through (0: the plain step)
    'train.on_nonfinite': 'stop',
    'model.pack': 1,  # PacGAN: samples D judges at once
    **{
        f'optim.{net}.{name}': value  # learning-rate schedules (gan_jax/optimizers.py)
        for net in 'gd'
        for name, value in (('schedule', 'none'), ('decay_steps', 0), ('decay_to', 0.0))
    },
}
FAKE_LABELS = ('uniform', 'data')
# model.* fields that belong to the step (the D-input transform), not to the model builder.
MODEL_STEP_FIELDS = ('pack',)
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


# (field, value) -> what the user probably meant: names of GANs that are a loss plus a
# regularizer here, not a loss.
HINTS = {
    ('loss.name', 'wgan_gp'): (
        "WGAN-GP is configs/wgan_gp.py: loss 'wasserstein' plus reg.gp=10 "
        '(--config.loss.name=wasserstein --config.reg.gp=10)'
    ),
    ('loss.name', 'wgan'): (
        "WGAN is configs/wgan.py: loss 'wasserstein' plus reg.clip=0.01 "
        '(--config.loss.name=wasserstein --config.reg.clip=0.01)'
    ),
    ('loss.name', 'sngan'): "SNGAN is loss 'hinge' plus model.d_sn=True (configs/hinge.py)",
    ('loss.name', 'dragan'): 'DRAGAN is a penalty: --config.reg.dragan=10 with any loss',
}
for _alias in ('wgan-gp', 'wgangp'):
  HINTS['loss.name', _alias] = HINTS['loss.name', 'wgan_gp']


def _fail(field, value, allowed):
  hint = HINTS.get((field, value)) if isinstance(value, str) else None
  raise ConfigError(f'config.{field}={value!r}: {allowed}' + (f'; {hint}' if hint else ''))


def registry_fields(builder):
  """The keyword fields a registry entry accepts (its parameters with defaults)."""
  return tuple(
      n
      for n, p in inspect.signature(builder).parameters.items()
      if p.default is not inspect.Parameter.empty
  )


def entry_fields(section, leave_out=()):
  """A `{name, field...}` section -> its fields without `name` (and `leave_out`), as plain values."""
  return {k: v for k, v in section.items() if k != 'name' and k not in leave_out}


def with_defaults(config):
  """A copy of `config` with every missing OPTIONAL_FIELDS field set to its default."""
  config = config.copy_and_resolve_references()
  with config.unlocked():
    for field, default in OPTIONAL_FIELDS.items():
      *path, name = field.split('.')
      section = config
      for key in path:
        section = section.get(key) if section is not None and key in section else None
      if section is not None and name not in section:
        section[name] = default
  return config


def hparams(config) -> dict:
  """{field: float} of the VECTORIZABLE fields the step reads (every one but `seed`)."""
  flat = flatten(config)
  return {k: float(flat[k]) for k in VECTORIZABLE if k != 'seed' and k in flat}


def program_key(config) -> tuple:
  """What must be equal for two runs to share one compiled group step: every field of the
  config (defaults filled in), the VECTORIZABLE ones reduced to their structure."""
  key = []
  for field, value in sorted(flatten(with_defaults(config)).items()):
    if field in VECTORIZABLE:
      structure = VECTORIZABLE[field]
      if structure is None:
        continue
      value = ('on', structure(value))
    key.append((field, value if value.__hash__ else repr(value)))
  return tuple(key)


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
  _check_entry('model', config.model, MODELS, extra=MODEL_STEP_FIELDS)
  _check_entry('loss', config.loss, LOSSES)
  try:
    build_loss(config.loss)  # pure and cheap: the builder checks its fields' values
  except ConfigError as e:
    raise ConfigError(f'config.loss.{e}') from None

  _check_keys('reg', config.reg, (*REG_FIELDS, 'acgan', 'diffaugment'), required=REG_FIELDS)
  for name in (*REG_FIELDS, 'acgan'):
    _check_number(f'reg.{name}', config.reg.get(name, 0.0), low=0)
  _check_number('reg.instance_noise_steps', config.reg.instance_noise_steps, integer=True, low=0)
  _check_d_input(config)

  _check_keys('optim', config.optim, ('g', 'd'))
  for net in ('g', 'd'):
    _check_entry(f'optim.{net}', config.optim[net], OPTIMIZERS)
    if 'lr' in config.optim[net]:
      _check_number(f'optim.{net}.lr', config.optim[net].lr, low=0, low_open=True)

  train = config.train
  optional = ('on_nonfinite', 'fake_labels', 'unroll_steps')
  _check_keys('train', train, (*TRAIN_FIELDS, *optional), required=TRAIN_FIELDS)
  if train.get('on_nonfinite', 'stop') not in ON_NONFINITE:
    _fail('train.on_nonfinite', train.on_nonfinite, f'allowed: {", ".join(ON_NONFINITE)}')
  if train.get('fake_labels', 'uniform') not in FAKE_LABELS:
    _fail('train.fake_labels', train.fake_labels, f'allowed: {", ".join(FAKE_LABELS)}')
  _check_number('train.unroll_steps', train.get('unroll_steps', 0), integer=True, low=0)
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

  _check_keys('checkpoint', config.checkpoint, CHECKPOINT_FIELDS, required=CHECKPOINT_FIELDS)
  _check_number('checkpoint.every_steps', config.checkpoint.every_steps, integer=True, low=1)
  _check_number('checkpoint.keep', config.checkpoint.keep, integer=True, low=1)

  if 'eval' in config:
    _check_eval(config.eval)


def _check_d_input(config):
  """The D-input transform's fields: packing, DiffAugment (see gan_jax/d_input.py).

  Whether the data are images (DiffAugment's other condition) is checked by build_experiment.
  """
  pack = config.model.get('pack', 1)
  check_pack(config.train.batch_size, pack)
  if pack > 1 and config.model.get('conditioning', 'none') != 'none':
    _fail('model.pack', pack, 'packing is for unconditional models (model.conditioning=none)')
  parse_policy(config.reg.get('diffaugment', ''))


def _check_eval(ev):
  _check_keys('eval', ev, EVAL_FIELDS, required=EVAL_FIELDS)
  _check_number('eval.every_steps', ev.every_steps, integer=True, low=0)
  for name in ('num_samples', 'num_reference'):
    _check_number(f'eval.{name}', ev[name], integer=True, low=2)
  for name in ('metrics', 'reference_split', 'stats_dir'):
    if not isinstance(ev[name], str):
      _fail(f'eval.{name}', ev[name], 'must be a string')
  from gan_jax.metrics import METRICS, allowed_names  # pylint: disable=g-import-not-at-top

  unknown = [m for m in ev.metrics.split(',') if m and m not in METRICS]
  if unknown:
    _fail('eval.metrics', ev.metrics, f'allowed: comma-separated names of {allowed_names()}')


def _lipschitz_constraints(config):
  """The config fields that keep a Wasserstein critic bounded, set to a nonzero value."""
  on = [f'reg.{n}' for n in ('clip', 'gp', 'dragan') if config.reg.get(n)]
  return on + ['model.d_sn'] * bool(config.model.get('d_sn'))


def config_warnings(config) -> list[str]:
  """Runnable configs that are probably a mistake: one line each, printed at the start."""
  found = []
  if config.loss.get('name') == 'wasserstein' and not _lipschitz_constraints(config):
    found.append(
        "warning: config.loss.name='wasserstein' with no constraint on D (reg.clip, reg.gp, "
        'reg.dragan and model.d_sn are all off): the critic is unbounded and the losses '
        'diverge. WGAN-GP is configs/wgan_gp.py (reg.gp=10), WGAN configs/wgan.py '
        '(reg.clip=0.01)'
    )
  return found


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


def flatten(tree, prefix=''):
  """{'section.field': value} of a (nested) config; lists become tuples."""
  if hasattr(tree, 'items'):
    out = {}
    for key, value in tree.items():
      out.update(flatten(value, f'{prefix}{key}.'))
    return out
  return {prefix[:-1]: tuple(tree) if isinstance(tree, list) else tree}


def format_config(config) -> str:
  """Every field of `config`, one `field = value` line each, in the config's order: the names
  that `--config.<field>=<value>` overrides."""
  return '\n'.join(f'{k} = {v!r}' for k, v in flatten(config).items())


def config_diff(old, new, ignore=RESUMABLE_FIELDS):
  """['field: old -> new', ...] for the fields that differ, except those in `ignore` (a field
  missing from an older config counts as its default)."""
  a, b = flatten(with_defaults(old)), flatten(with_defaults(new))
  return [
      f'{k}: {a.get(k, "<unset>")!r} -> {b.get(k, "<unset>")!r}'
      for k in sorted(set(a) | set(b))
      if k not in ignore and a.get(k, '<unset>') != b.get(k, '<unset>')
  ]
