"""A study's run config, built the one way the launcher checks it and the child trains it.

A run of a study (launch/) is a config file's `get_config(config_arg)` plus overrides: dotted
fields and values (`{'seed': 3, 'train.num_steps': 10000}`). The overrides reach the child
(`experiments.main`) as `--config.<field>=<value>` flags after `--config=FILE[:config_arg]`:
ml_collections applies them after get_config, whatever get_config does with its argument (as
big_vision does). `loss.name` is the exception: it replaces the loss section with that loss's
fields, which a flag cannot do, so it stays in the config argument with the loss fields given
beside it (`in_arg`); so does a None value, which a flag cannot spell. Whether those land depends
on get_config applying its argument: `mismatches` is the check that they did.

- `split_overrides(overrides) -> (in_arg, as_flags)`;
- `override_flags(as_flags) -> ['--config.seed=3', ...]`: the child's flags;
- `build_run_config(get_config, config_arg, as_flags) -> ConfigDict`: get_config(config_arg) with
  the flags applied by ml_collections' own parser, as the child's command line applies them
  (experiments.main, experiments.train_group);
- `mismatches(config, overrides) -> [(field, built, wanted)]`: the overrides the built config does
  not carry, compared as typed values (1 == 1.0, [64, 64] == (64, 64)).
"""

from absl import flags
import ml_collections
from ml_collections import config_flags

from gan_jax import schema

LOSS_NAME = 'loss.name'


PER_METRIC = 'eval.per_metric.'  # its entries may not exist yet: a flag cannot add a field


def split_overrides(overrides):
  """(in_arg, as_flags): the overrides that must go in the config argument (`loss.name` and the
  loss fields given with it, `eval.per_metric.<metric>.<field>` entries, None values), and those
  the child gets as --config.<field> flags."""
  in_arg, as_flags = {}, {}
  rebuilds_loss = LOSS_NAME in overrides
  for key, value in overrides.items():
    to_arg = value is None or (rebuilds_loss and key.startswith('loss.'))
    to_arg = to_arg or key.startswith(PER_METRIC)
    (in_arg if to_arg else as_flags)[key] = value
  return in_arg, as_flags


def flag_text(value) -> str:
  """A value as the text of a --config.<field>= flag (ml_collections parses it by the field's
  type): strings as they are, booleans 'true'/'false', sequences as a tuple literal."""
  if isinstance(value, bool):
    return 'true' if value else 'false'
  if isinstance(value, str):
    return value
  if isinstance(value, (list, tuple)):
    items = [flag_text(v) if not isinstance(v, str) else repr(v) for v in value]
    return '(' + ','.join(items) + (',)' if len(items) == 1 else ')')
  return repr(value)


def override_flags(as_flags):
  return [f'--config.{key}={flag_text(value)}' for key, value in as_flags.items()]


def build_run_config(get_config, config_arg, as_flags) -> ml_collections.ConfigDict:
  """`get_config(config_arg)` (get_config() without an argument) with `as_flags` applied as the
  child's --config.<field> flags are. ValueError (one line) for a field that does not exist or a
  value its field cannot take; what get_config raises passes through."""
  config = get_config(config_arg) if config_arg else get_config()
  if not as_flags:
    return config
  for key in as_flags:
    try:
      field_value(config, key)
    except KeyError:
      raise ValueError(f'unknown field {key}') from None
  argv = ['run', *override_flags(as_flags)]
  values = flags.FlagValues()
  try:
    config_flags.DEFINE_config_dict('config', config, flag_values=values, sys_argv=argv)
    values(argv)
  except (flags.Error, AttributeError, KeyError, TypeError) as e:
    raise ValueError(str(e).strip().splitlines()[0] if str(e).strip() else repr(e)) from None
  return values['config'].value


_MISSING = object()


def field_value(config, key):
  """config.<key> for a dotted key; KeyError if a part is missing."""
  value = schema.field_at(config, key, _MISSING)
  if value is _MISSING:
    raise KeyError(key)
  return value


def _typed(value):
  if isinstance(value, (list, tuple)):
    return tuple(_typed(v) for v in value)
  return value


def mismatches(config, overrides):
  """[(field, built value, wanted value)] of the overrides `config` does not carry (a missing
  field: built is the string '<missing>')."""
  out = []
  for key, wanted in overrides.items():
    try:
      built = field_value(config, key)
    except KeyError:
      out.append((key, '<missing>', wanted))
      continue
    if _typed(built) != _typed(wanted):
      out.append((key, built, wanted))
  return out
