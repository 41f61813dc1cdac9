"""Every config field and its default, in one place (the way the Flax examples' configs/default.py
spells a config).

A config has these sections, each field with its default below:
  seed        the run's seed
  data        a DATASETS entry: {name, the builder's keyword fields}
  model       a MODELS entry
  loss        a LOSSES entry
  d_input     the one transform of D's input (gan_jax/d_input.py): pack, instance_noise,
              instance_noise_steps, diffaugment, scale, shift
  reg         the penalties' weights (gan_jax/regularizers.py), WGAN's clip, ACGAN's class loss
  optim       {g, d}: OPTIMIZERS entries
  train       the loop and the step (TRAIN)
  checkpoint  how often and how many (CHECKPOINT)
  eval        metrics during training (EVAL; per_metric: {metric: {num_samples, every_steps}})
  progressive progressive growing's schedule and loss terms (PROGRESSIVE; model.name='progan')
  pix2pix     pix2pix's loss terms (PIX2PIX; a TRANSLATION_MODELS model.name)
  cyclegan    CycleGAN's loss terms and image pool (CYCLEGAN; an unpaired data.name)
A registry entry's fields and their defaults are its builder's keyword parameters (`entry`): one
place, the builder, read from its source (gan_jax/registries.py: configs import no JAX).
`defaults()` is the whole default config (configs/common.base starts there).

Saved configs of older versions: `upgrade(config)` moves the fields that changed section
(model.pack, reg.instance_noise, reg.instance_noise_steps, reg.diffaugment -> d_input.*) and
fills the fields added since (`with_defaults`: OPTIONAL, the eval section, registry fields), so
that an old run's config compares equal (`config_diff`) to the same config today.
`with_defaults` marks its result; a marked config is not defaulted again.
"""

import ml_collections

from gan_jax.registries import DATASETS, LOSSES, MODELS, OPTIMIZERS, PENALTIES, TRANSLATION_MODELS

# Sections that are one registry entry each: dotted path -> (registry, default name).
ENTRIES = {
    'data': (DATASETS, 'mnist5k'),
    'model': (MODELS | TRANSLATION_MODELS, 'mlp'),  # translation: programs/pix2pix.py
    'loss': (LOSSES, 'non_saturating'),
    'optim.g': (OPTIMIZERS, 'adam'),
    'optim.d': (OPTIMIZERS, 'adam'),
}
# The defaults' own values of registry fields (the rest are the builders' defaults).
ENTRY_DEFAULTS = {
    'model': dict(z_dim=64, g_hidden=(256, 512), d_hidden=(512, 256), d_activation='leaky_relu'),
    'optim.g': dict(lr=2e-4, b1=0.5, b2=0.999),
    'optim.d': dict(lr=2e-4, b1=0.5, b2=0.999),
}
SEED = 0
D_INPUT = {
    'pack': 1,  # PacGAN: samples D judges at once (1: off)
    'instance_noise': 0.0,  # std of N(0, s^2) added to D's inputs (0: off)
    'instance_noise_steps': 0,  # steps to anneal it linearly to 0 (0: constant)
    'diffaugment': '',  # DiffAugment policy: comma-separated color, translation, cutout
    'scale': 1.0,  # D sees scale * x + shift (Metz et al. 2017: 1/4); 1 and 0: off
    'shift': 0.0,
}
REG = {
    **{n: 0.0 for n in PENALTIES},  # each penalty's weight (0: off)
    'clip': 0.0,  # WGAN's weight clipping bound (0: off)
    'acgan': 0.0,  # weight of ACGAN's class loss (model.conditioning='acgan')
}
TRAIN = {
    'num_steps': 5000,
    'batch_size': 64,
    'd_steps': 1,
    'ema_decay': 0.999,
    'log_every': 100,
    'sample_every': 1000,
    'num_samples': 64,
    'steps_per_call': 1,
    'on_nonfinite': 'stop',  # or 'skip': leave out (and count) updates that are not finite
    'unroll_steps': 0,  # unrolled GAN (Metz et al. 2017): D updates G's loss looks through
    'fake_labels': 'uniform',  # conditional runs: labels of G's samples, or 'data'
    'simultaneous': False,  # G's gradient at D before this iteration's D updates (2014 code)
}
CHECKPOINT = {
    'every_steps': 1000,
    'keep': 3,
    'keep_best': '',  # a metric of eval (gan_jax/best_checkpoint.py): its best step kept too
}
# Metrics during training (every_steps 0 = off; metrics '' = all that apply).
EVAL = {
    'every_steps': 0,
    'metrics': '',
    'num_samples': 10_000,
    'num_reference': 10_000,
    'reference_split': '',
    'stats_dir': '',
    'per_metric': {},  # {metric: {'num_samples': N, 'every_steps': K}} (0: the global value)
}
PER_METRIC_FIELDS = ('num_samples', 'every_steps')
# --- Progressive growing (model.name='progan', gan_jax/programs/progressive.py): the schedule
# (gan_jax/progressive_schedule.py: images per fade-in and per stable phase), the epsilon-drift
# weight of its WGAN-GP loss and whether the optimizers restart at each new stage. Read only by
# the progressive program; other runs carry the defaults. first_resolution: the stage training
# starts at (4: grow from 4x4; the model's resolution: the fixed-resolution baseline).
PROGRESSIVE = {
    'fade_images': 600_000,
    'stable_images': 600_000,
    'first_resolution': 4,
    'drift': 0.001,
    'reset_optimizer': True,
}
# --- end of progressive growing
# --- pix2pix (a model of TRANSLATION_MODELS, gan_jax/programs/pix2pix.py): G minimises
# gan_weight * GAN loss + lambda_l1 * mean |G(a) - b| (0 turns a term off); D judges (a, G(a))
# pairs (d_conditional) or G(a) alone. Read only by the pix2pix program.
PIX2PIX = {'lambda_l1': 100.0, 'gan_weight': 1.0, 'd_conditional': True}
# The plain sections: name -> {field: default}.
SECTIONS = {'d_input': D_INPUT, 'reg': REG, 'train': TRAIN, 'checkpoint': CHECKPOINT, 'eval': EVAL}
SECTIONS['progressive'] = PROGRESSIVE
ORDER = ('seed', 'data', 'model', 'loss', 'd_input', 'reg', 'optim', 'train', 'checkpoint', 'eval')
ORDER += ('progressive',)
SECTIONS['pix2pix'], ORDER = PIX2PIX, ORDER + ('pix2pix',)
# --- CycleGAN (programs/cyclegan_step.py, on unpaired data): G_AB, G_BA minimise gan_weight * GAN
# + lambda_forward |G_BA(G_AB(a)) - a| + lambda_backward |G_AB(G_BA(b)) - b| + identity_weight *
# (lambda_backward |G_AB(b) - b| + lambda_forward |G_BA(a) - a|) (means; 0 turns a term off);
# each D sees fakes through an image pool of pool_size (0: the batch). Read only by CycleGAN.
CYCLEGAN = dict(lambda_forward=10.0, lambda_backward=10.0, identity_weight=0.5, gan_weight=1.0)
CYCLEGAN['pool_size'] = 50
SECTIONS['cyclegan'], ORDER = CYCLEGAN, ORDER + ('cyclegan',)

# Fields added after runs were already saved: a config without them means these defaults (older
# run folders resume unchanged); `with_defaults` fills them in. Every other field of a plain
# section is required. (Registry fields missing from a saved config are their builder's
# defaults, filled in too.)
OPTIONAL = (
    'reg.acgan',
    *(f'd_input.{name}' for name in D_INPUT),
    'train.fake_labels',
    'train.unroll_steps',
    'train.on_nonfinite',
    'train.simultaneous',
    *(f'eval.{name}' for name in EVAL),
    'checkpoint.keep_best',
    *(f'progressive.{name}' for name in PROGRESSIVE),
    *(f'pix2pix.{name}' for name in PIX2PIX),
    *(f'cyclegan.{name}' for name in CYCLEGAN),
)
# Where fields of older layouts live today.
MOVED = {
    'model.pack': 'd_input.pack',
    'reg.instance_noise': 'd_input.instance_noise',
    'reg.instance_noise_steps': 'd_input.instance_noise_steps',
    'reg.diffaugment': 'd_input.diffaugment',
}


def _is_on(value):
  return value > 0


# The fields runs of one vectorized group may differ in (launch.sweep --vectorize): the steps read
# them as arrays, not constants (step.py, programs/*_step.py); `seed`: each run's init, noise, data.
# Each maps to what of its value shapes the program (None: nothing; _is_on: on or off, not weight).
VECTORIZABLE = {
    'seed': None,
    'optim.g.lr': None,
    'optim.d.lr': None,
    'train.ema_decay': None,
    **{f'reg.{name}': _is_on for name in (*PENALTIES, 'clip')},
    'd_input.instance_noise': _is_on,
    **{f'pix2pix.{n}': None for n in ('lambda_l1', 'gan_weight')},  # the translation loss weights
    **{f'cyclegan.{n}': None for n in ('lambda_forward', 'lambda_backward', 'gan_weight')},
    'cyclegan.identity_weight': _is_on,  # its forwards are skipped when off
}
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
    'checkpoint.keep_best',
    'data.data_dir',
    'data.download',
    'data.max_memory_gb',  # the folder dataset: how much may be held in memory
    'data.strict',  # the folder dataset: unreadable files refused (the data read are the same)
    *(f'eval.{name}' for name in EVAL),
)


def _default(param):
  """A parameter's default as a config field. A None default becomes a FieldReference typed by
  the annotation (`str | None` -> str), so that --config.x=value can set it: ml_collections
  refuses to set a plain None field from the command line."""
  if param.default is not None:
    return param.default
  annotation = param.annotation if isinstance(param.annotation, str) else str(param.annotation)
  kinds = [k for k in (str, int, float, bool) if annotation == f'{k.__name__} | None']
  return ml_collections.FieldReference(None, field_type=kinds[0]) if kinds else None


def entry_defaults(registry, name) -> dict:
  """{field: default} of the registry entry `name`: its builder's keyword parameters, read from
  its source (gan_jax/registry.py: the builder is not imported)."""
  return {n: _default(p) for n, p in registry.parameters(name).items()}


def entry(registry, name, **overrides) -> ml_collections.ConfigDict:
  """The section {name, every field of the entry} at the builder's defaults and `overrides`;
  ValueError naming the allowed fields for an unknown one."""
  fields = entry_defaults(registry, name)
  unknown = set(overrides) - set(fields)
  if unknown:
    raise ValueError(f'{name}: unknown fields {sorted(unknown)}; allowed: {sorted(fields)}')
  return ml_collections.ConfigDict({'name': name, **fields, **overrides})


def entry_fields(section, leave_out=()):
  """A `{name, field...}` section -> its fields without `name` (and `leave_out`), as plain
  values."""
  return {k: v for k, v in section.items() if k != 'name' and k not in leave_out}


_MARK = '_gan_jax_defaulted'  # an attribute (not a field) of a config with_defaults returned


def _mark(config):
  object.__setattr__(config, _MARK, True)
  return config


def is_defaulted(config) -> bool:
  return bool(config.__dict__.get(_MARK)) if hasattr(config, '__dict__') else False


def defaults(loss=None) -> ml_collections.ConfigDict:
  """The default config: every field of every section (`loss` names the LOSSES entry)."""
  c = ml_collections.ConfigDict()
  c.seed = SEED
  c.optim = ml_collections.ConfigDict()
  for path, (registry, name) in ENTRIES.items():
    name = loss if path == 'loss' and loss else name
    _set(c, path, entry(registry, name, **ENTRY_DEFAULTS.get(path, {})))
  for section, fields in SECTIONS.items():
    c[section] = ml_collections.ConfigDict(fields)
  ordered = ml_collections.ConfigDict()
  for key in ORDER:
    ordered[key] = c[key]
  return ordered


def _set(config, path, value):
  *parents, name = path.split('.')
  for key in parents:
    config = config[key]
  config[name] = value


def field_at(config, path, missing=None):
  """config.<path> for a dotted path (a section or a field), or `missing` where a part is
  absent."""
  node = config
  for key in path.split('.'):
    if not hasattr(node, 'keys') or key not in node:
      return missing
    node = node[key]
  return node


def with_defaults(config):
  """`config` with every missing OPTIONAL field at its default (the whole eval section, if
  absent), each registry entry's missing fields at its builder's defaults and each
  eval.per_metric entry's at 0 (the global value): a copy, marked (a marked config comes back as
  it is)."""
  if is_defaulted(config):
    return config
  config = config.copy_and_resolve_references()
  with config.unlocked():
    if 'eval' not in config:
      config.eval = ml_collections.ConfigDict()
    if 'd_input' not in config:
      config.d_input = ml_collections.ConfigDict()
    if 'progressive' not in config:
      config.progressive = ml_collections.ConfigDict()
    if 'pix2pix' not in config:
      config.pix2pix = ml_collections.ConfigDict()
    if 'cyclegan' not in config:
      config.cyclegan = ml_collections.ConfigDict()
    for field in OPTIONAL:
      section_path, name = field.rsplit('.', 1)
      section = field_at(config, section_path)
      if section is not None and name not in section:
        section[name] = SECTIONS[section_path][name]
    for path, (registry, _) in ENTRIES.items():
      section = field_at(config, path)
      if section is not None and 'name' in section and section.name in registry:
        for name, value in entry_defaults(registry, section.name).items():
          if name not in section:
            section[name] = value
    per_metric = field_at(config, 'eval.per_metric')
    for own in per_metric.values() if hasattr(per_metric, 'values') else ():
      for name in PER_METRIC_FIELDS:
        if hasattr(own, 'keys') and name not in own:
          own[name] = 0
  return _mark(config)


def upgrade(config):
  """A saved config of any earlier version in today's layout, defaulted (`with_defaults`): the
  MOVED fields in their new section. Today's configs come back defaulted; a config already
  defaulted, as it is."""
  if is_defaulted(config):
    return config
  config = config.copy_and_resolve_references()
  with config.unlocked():
    for old, new in MOVED.items():
      old_section, name = old.rsplit('.', 1)
      section = field_at(config, old_section)
      if section is None or name not in section:
        continue
      value = section[name]
      del section[name]
      new_section, new_name = new.rsplit('.', 1)
      if new_section not in config:
        config[new_section] = ml_collections.ConfigDict()
      config[new_section][new_name] = value
  return with_defaults(config)


def flatten(tree, prefix='', keep_empty=False):
  """{'section.field': value} of a (nested) config; lists become tuples (`keep_empty`: an empty
  section as the value {})."""
  if hasattr(tree, 'items'):
    if keep_empty and prefix and not tree:
      return {prefix[:-1]: {}}
    out = {}
    for key, value in tree.items():
      out.update(flatten(value, f'{prefix}{key}.', keep_empty))
    return out
  return {prefix[:-1]: tuple(tree) if isinstance(tree, list) else tree}


def format_config(config) -> str:
  """Every field of `config` with the defaults of those it lacks (`with_defaults`), one
  `field = value` line each, in the config's order: the names that `--config.<field>=<value>`
  overrides."""
  flat = flatten(with_defaults(config), keep_empty=True)
  return '\n'.join(f'{k} = {v!r}' for k, v in flat.items())


def eval_intervals(config) -> list[int]:
  """The distinct step intervals of periodic evaluation: eval.every_steps and each metric's own
  (eval.per_metric), 0s left out; where the loop must end a call of the step."""
  ev = with_defaults(config).eval
  own = [m['every_steps'] for m in ev.per_metric.values()]
  return sorted({e for e in (ev.every_steps, *own) if e})


def hparams(config) -> dict:
  """{field: float} of the VECTORIZABLE fields the step reads (every one but `seed`)."""
  flat = flatten(with_defaults(config))
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


def config_diff(old, new, ignore=RESUMABLE_FIELDS):
  """['field: old -> new', ...] for the fields that differ, except those in `ignore` (both
  configs upgraded first, unless they are defaulted already: a field missing from an older
  config counts as its default, a moved field as its new name)."""
  a, b = flatten(upgrade(old)), flatten(upgrade(new))
  ignored = lambda k: k in ignore or any(k.startswith(f'{i}.') for i in ignore)
  return [
      f'{k}: {a.get(k, "<unset>")!r} -> {b.get(k, "<unset>")!r}'
      for k in sorted(set(a) | set(b))
      if not ignored(k) and a.get(k, '<unset>') != b.get(k, '<unset>')
  ]
