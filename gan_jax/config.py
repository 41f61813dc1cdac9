"""Validation of a whole experiment config before anything compiles or writes.

`validate(config, num_devices)` raises `ConfigError` with one line that names the field, its
value and what is allowed. The fields and their defaults are gan_jax/schema.py's; names are
checked against the registries; a registry entry's keyword parameters are the fields it accepts.
`prepare(config, num_devices)` is what the edge (build_experiment) runs once: defaults, then
validation; a config validated before (unchanged since, for as many devices) is not checked
again.

The schema's names (`with_defaults`, `program_key`, `config_diff`, `flatten`, ...) are
re-exported here for the callers that import them from gan_jax.config.
"""

from gan_jax.checks import check_number
from gan_jax.data import DATASETS
from gan_jax.diffaugment import parse_policy
from gan_jax.errors import FieldError
from gan_jax.losses import LOSSES, build_loss
from gan_jax.models import MODELS
from gan_jax.models.progan import stage_of_resolution
from gan_jax.models.translation import TRANSLATION_MODELS
from gan_jax.optimizers import OPTIMIZERS
from gan_jax.packing import check_pack
from gan_jax import schema
from gan_jax.schema import (  # pylint: disable=unused-import (re-exported)
    OPTIONAL,
    RESUMABLE_FIELDS,
    VECTORIZABLE,
    config_diff,
    entry_fields,
    flatten,
    format_config,
    hparams,
    program_key,
    upgrade,
    with_defaults,
)

FAKE_LABELS = ('uniform', 'data')
# What training does when the step refuses a non-finite update: stop with an error naming the
# step, or skip the update and count it.
ON_NONFINITE = ('stop', 'skip')

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
  if field in schema.MOVED:
    hint = f'the field is config.{schema.MOVED[field]} now'
  value = value.to_dict() if hasattr(value, 'to_dict') else value  # a section: on one line
  raise ConfigError(f'config.{field}={value!r}: {allowed}' + (f'; {hint}' if hint else ''))


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


def _check_section(name, section):
  """A plain section's fields: those of the schema, the non-OPTIONAL ones required."""
  fields = schema.SECTIONS[name]
  required = [f for f in fields if f'{name}.{f}' not in schema.OPTIONAL]
  _check_keys(name, section, tuple(fields), required=required)


def _check_entry(prefix, section, registry):
  name = section.name if 'name' in section else None
  if name not in registry:
    _fail(f'{prefix}.name', name, f'allowed: {", ".join(sorted(registry))}')
  _check_keys(prefix, section, ('name', *registry.fields(name)))  # gan_jax/registry.py


def _check_model(section):
  """config.model: an entry of MODELS or of TRANSLATION_MODELS (pix2pix)."""
  name = section.name if 'name' in section else None
  if name in TRANSLATION_MODELS:
    _check_entry('model', section, TRANSLATION_MODELS)
  elif name not in MODELS:
    translation = ', '.join(sorted(TRANSLATION_MODELS))
    _fail('model.name', name, f'allowed: {", ".join(sorted(MODELS))} (translation: {translation})')
  else:
    _check_entry('model', section, MODELS)


def _check_number(field, value, **bounds):
  check_number(f'config.{field}', value, **bounds)


def _check_choice(field, value, allowed):
  if value not in allowed:
    _fail(field, value, f'allowed: {", ".join(allowed)}')


def validate(config, num_devices: int) -> None:
  """Raise ConfigError for the first field that is not runnable as it stands. A config that
  passes is marked (`prepare` does not check it again while it stays as it is)."""
  _check_fields(config, num_devices)
  object.__setattr__(config, _VALIDATED, _fingerprint(config, num_devices))


def _check_fields(config, num_devices):
  _check_keys('', config, schema.ORDER)
  for section in schema.ORDER[1:]:
    defaulted = ('d_input', 'eval', 'progressive', 'pix2pix', 'cyclegan')
    if section not in config and section not in defaulted:
      _fail(section, None, 'missing section')
  _check_number('seed', config.seed, integer=True, low=0)
  _check_entry('data', config.data, DATASETS)
  _check_model(config.model)
  _check_entry('loss', config.loss, LOSSES)
  try:
    build_loss(config.loss)  # pure and cheap: the builder checks its fields' values
  except ConfigError as e:
    raise ConfigError(f'config.loss.{e}') from None

  _check_section('reg', config.reg)
  for name in schema.REG:
    if name in config.reg:
      _check_number(f'reg.{name}', config.reg[name], low=0)
  if 'd_input' in config:
    _check_d_input(config)

  _check_keys('optim', config.optim, ('g', 'd'))
  for net in ('g', 'd'):
    _check_entry(f'optim.{net}', config.optim[net], OPTIMIZERS)
    if 'lr' in config.optim[net]:
      _check_number(f'optim.{net}.lr', config.optim[net].lr, low=0, low_open=True)

  _check_train(config.train, num_devices)
  _check_section('checkpoint', config.checkpoint)
  _check_number('checkpoint.every_steps', config.checkpoint.every_steps, integer=True, low=1)
  _check_number('checkpoint.keep', config.checkpoint.keep, integer=True, low=1)
  if 'eval' in config:
    _check_eval(config.eval)
  if 'keep_best' in config.checkpoint:
    _check_keep_best(config)
  if 'progressive' in config:
    _check_progressive(config.progressive)
  if 'pix2pix' in config:
    _check_section('pix2pix', config.pix2pix)
    for name in ('lambda_l1', 'gan_weight'):
      _check_number(f'pix2pix.{name}', config.pix2pix[name], low=0)
    _check_choice('pix2pix.d_conditional', config.pix2pix.d_conditional, (True, False))
  if 'cyclegan' in config:
    _check_section('cyclegan', config.cyclegan)
    for name in ('lambda_forward', 'lambda_backward', 'identity_weight', 'gan_weight'):
      _check_number(f'cyclegan.{name}', config.cyclegan[name], low=0)
    _check_number('cyclegan.pool_size', config.cyclegan.pool_size, integer=True, low=0)


def _check_keep_best(config):
  """checkpoint.keep_best: a metric the run's periodic evaluation computes (or '')."""
  from gan_jax import best_checkpoint  # pylint: disable=g-import-not-at-top

  try:
    best_checkpoint.check_config(with_defaults(config))
  except FieldError as e:
    raise ConfigError(f'config.{e}') from None


def _check_train(train, num_devices):
  _check_section('train', train)
  if 'on_nonfinite' in train:
    _check_choice('train.on_nonfinite', train.on_nonfinite, ON_NONFINITE)
  if 'fake_labels' in train:
    _check_choice('train.fake_labels', train.fake_labels, FAKE_LABELS)
  if 'unroll_steps' in train:
    _check_number('train.unroll_steps', train.unroll_steps, integer=True, low=0)
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


def _check_d_input(config):
  """The D-input transform's fields: packing, instance noise, DiffAugment (gan_jax/d_input.py).

  Whether the data are images (DiffAugment's other condition) is checked by build_experiment.
  """
  d_input = config.d_input
  _check_section('d_input', d_input)
  if 'instance_noise' in d_input:
    _check_number('d_input.instance_noise', d_input.instance_noise, low=0)
  if 'instance_noise_steps' in d_input:
    _check_number(
        'd_input.instance_noise_steps', d_input.instance_noise_steps, integer=True, low=0
    )
  if 'pack' in d_input:
    check_pack(config.train.batch_size, d_input.pack)
    if d_input.pack > 1 and _model_field(config, 'conditioning', 'none') != 'none':
      why = 'packing is for unconditional models (model.conditioning=none)'
      _fail('d_input.pack', d_input.pack, why)
  if 'diffaugment' in d_input:
    parse_policy(d_input.diffaugment, field='config.d_input.diffaugment')


def _check_progressive(section):
  _check_section('progressive', section)
  _check_number('progressive.fade_images', section.fade_images, integer=True, low=0)
  _check_number('progressive.stable_images', section.stable_images, integer=True, low=1)
  r = section.first_resolution
  _check_number('progressive.first_resolution', r, integer=True, low=4)
  if stage_of_resolution(r) is None:
    _fail('progressive.first_resolution', r, 'must be a power of two times 4')
  _check_number('progressive.drift', section.drift, low=0)
  _check_choice('progressive.reset_optimizer', section.reset_optimizer, (True, False))


def _check_eval(ev):
  _check_section('eval', ev)
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
  per_metric = ev.per_metric if 'per_metric' in ev else {}
  if not hasattr(per_metric, 'items'):
    _fail('eval.per_metric', per_metric, 'must be {metric: {num_samples, every_steps}}')
  for name, own in per_metric.items():
    if name not in METRICS:
      _fail(f'eval.per_metric.{name}', own, f'unknown metric; allowed: {allowed_names()}')
    if not hasattr(own, 'items'):
      _fail(f'eval.per_metric.{name}', own, 'must be {num_samples: N, every_steps: K}')
    _check_keys(f'eval.per_metric.{name}', own, schema.PER_METRIC_FIELDS)
    for key, value in own.items():
      _check_number(f'eval.per_metric.{name}.{key}', value, integer=True, low=0)


def _model_field(config, name, absent):
  """config.model.<name>, or `absent` for a model whose builder has no such field."""
  return config.model[name] if name in config.model else absent


_VALIDATED = '_gan_jax_validated'  # an attribute (not a field): what validate last passed


def _fingerprint(config, num_devices):
  return (num_devices, repr(sorted((k, repr(v)) for k, v in flatten(config).items())))


def prepare(config, num_devices: int):
  """`config` defaulted (`with_defaults`) and validated for `num_devices`: what the edge runs
  once. ConfigError as `validate`. A config prepared before and unchanged since comes back
  without a second check."""
  config = with_defaults(config)
  if vars(config).get(_VALIDATED) != _fingerprint(config, num_devices):
    validate(config, num_devices)
  return config


def _lipschitz_constraints(config):
  """The config fields that keep a Wasserstein critic bounded, set to a nonzero value."""
  on = [f'reg.{n}' for n in ('clip', 'gp', 'dragan') if config.reg[n]]
  return on + ['model.d_sn'] * bool(_model_field(config, 'd_sn', False))


def config_warnings(config) -> list[str]:
  """Runnable configs that are probably a mistake: one line each, printed at the start."""
  found = []
  if config.loss.name == 'wasserstein' and not _lipschitz_constraints(config):
    found.append(
        "warning: config.loss.name='wasserstein' with no constraint on D (reg.clip, reg.gp, "
        'reg.dragan and model.d_sn are all off): the critic is unbounded and the losses '
        'diverge. WGAN-GP is configs/wgan_gp.py (reg.gp=10), WGAN configs/wgan.py '
        '(reg.clip=0.01)'
    )
  return found
