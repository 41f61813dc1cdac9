"""A study file and its runs: load it, expand its sweep() into named runs, build and check each
run's config exactly as its child process will.

A sweep file is a config module with `get_config(arg=None)` (the base config) and
`sweep(add, arg=None)`, which calls `add(**overrides)` once per run: dotted config fields
(`add(**{'loss.name': 'hinge', 'seed': 3})`) plus `config_arg` (the preset passed to get_config).
A run's name is made of its config arg and overrides (`ring8,loss=hinge,r1=0,seed=3`); its child
gets `--config=FILE[:config_arg]` and each override as a `--config.<field>=<value>` flag, which
lands whatever get_config does with its argument (`loss.name` stays in the argument:
gan_jax/run_config.py). `build_configs` builds every run's config the child's way and refuses, in
one line naming the run and the field, a run whose config would not carry its overrides.
"""

import dataclasses
import fnmatch
import importlib.util
import json
import os
import shlex

from configs.common import split_arg
from gan_jax import run_config
from gan_jax import workdir as run_folder
from gan_jax.errors import UserError

SWEEP_FILE = 'sweep.json'
NAME_CHARS = set('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=,.+-_()')


def format_value(value) -> str:
  """A value as the config-arg parser (configs.common) reads it back."""
  if isinstance(value, bool):
    return 'true' if value else 'false'
  if isinstance(value, str):
    return repr(value) if any(c in value for c in ',()[]{}\'"= ') else value
  if isinstance(value, (list, tuple)):
    return '(' + ','.join(format_value(v) for v in value) + (',)' if len(value) == 1 else ')')
  return repr(value)


def join_arg(config_arg, fields) -> str:
  """'ring8,loss.name=hinge': a config arg, then `fields` as key=value pairs."""
  pairs = [f'{k}={format_value(v)}' for k, v in fields.items()]
  return ','.join(([config_arg] if config_arg else []) + pairs)


@dataclasses.dataclass
class Run:
  name: str
  overrides: dict  # dotted field -> value, in the order add() gave them
  config_arg: str | None
  arg: str  # config_arg then every override as k=v: the run spelled as one config arg

  @property
  def child_arg(self) -> str:
    """The config arg the child gets: config_arg, then the overrides a flag cannot set."""
    return join_arg(self.config_arg, run_config.split_overrides(self.overrides)[0])

  @property
  def flag_overrides(self) -> dict:
    """The overrides the child gets as --config.<field>=<value> flags."""
    return run_config.split_overrides(self.overrides)[1]

  def command(self, python, config_file, root):
    arg = self.child_arg
    return [
        python,
        '-m',
        'experiments.main',
        f'--config={config_file}:{arg}' if arg else f'--config={config_file}',
        *run_config.override_flags(self.flag_overrides),
        f'--workdir={os.path.join(root, self.name)}',
    ]

  def finished(self, root):
    return run_folder.is_finished(os.path.join(root, self.name))


def short_key(key, keys):
  """'loss.name' -> 'loss', 'reg.r1' -> 'r1': the shortest suffix no other key shares."""
  parts = key.split('.')
  if parts[-1] == 'name' and len(parts) > 1:
    parts = parts[:-1]
  others = [k for k in keys if k != key]
  for n in range(1, len(parts) + 1):
    short = '.'.join(parts[-n:])
    if not any(o == short or o.endswith('.' + short) for o in others):
      return short
  return key


def _name_part(text):
  text = text.replace('/', '_').replace(' ', '')
  return ''.join(c if c in NAME_CHARS else '_' for c in text)


def run_name(config_arg, overrides, all_keys) -> str:
  """'ring8,loss=hinge,r1=0.0,seed=3': the config arg, then each override (short key=value)."""
  parts = [_name_part(config_arg)] if config_arg else []
  for key, value in overrides.items():
    text = format_value(value).strip('\'"')
    parts.append(_name_part(f'{short_key(key, all_keys)}={text}'))
  return ','.join(parts) or 'default'


def arg_parts(config_arg):
  """'grid25,loss.name=f_gan,model.g_hidden=(64,64)' -> (['grid25'], {'loss.name': 'f_gan',
  'model.g_hidden': (64, 64)}): a config arg's presets and its key=value fields (values read as
  Python literals, else strings), for sweep.json and the report."""
  presets, pairs = split_arg(config_arg)  # the configs' own parser (configs/common.py)
  return presets, dict(pairs)


def _exec(path, spec):
  """The module of the Python file `path`; UserError if importing it raises."""
  module_spec = importlib.util.spec_from_file_location(f'sweep_{os.path.basename(path)[:-3]}', path)
  module = importlib.util.module_from_spec(module_spec)
  try:
    module_spec.loader.exec_module(module)
  except Exception as e:  # pylint: disable=broad-except (anything the file raises)
    raise UserError(f'--config={spec}: {path} raised {type(e).__name__}: {e}') from None
  return module


def load_module(spec):
  """(module, config file, arg) of 'path/to/file.py[:arg]'; UserError if it cannot be loaded.

  A sweep file may leave the base config to another file, `CONFIG = 'configs/x.py'`: the runs
  then train that file's get_config.
  """
  path, _, arg = spec.partition(':')
  if not path.endswith('.py') or not os.path.isfile(path):
    raise UserError(f'--config={spec}: no such sweep file {path}')

  module = _exec(path, spec)
  if not callable(getattr(module, 'sweep', None)):
    raise UserError(f'--config={spec}: {path} defines no sweep() (see launch/sweep.py)')
  if not callable(getattr(module, 'get_config', None)):
    base = getattr(module, 'CONFIG', None)  # a study of another config file
    if not base:
      raise UserError(f'--config={spec}: {path} defines neither get_config() nor CONFIG')
    if not os.path.isfile(base):
      raise UserError(f'--config={spec}: CONFIG={base}: no such file')
    base_module, path = _exec(base, spec), base
    if not callable(getattr(base_module, 'get_config', None)):
      raise UserError(f'--config={spec}: CONFIG={base} defines no get_config()')
    module.get_config = base_module.get_config
  return module, path, arg or None


def expand(module, arg, flag='--config'):
  """The runs a sweep function declares, named and checked for duplicates."""
  declared = []

  def add(config_arg=None, **overrides):
    declared.append((config_arg, dict(overrides)))

  try:
    module.sweep(add, arg)
  except Exception as e:  # pylint: disable=broad-except
    raise UserError(f'{flag}: sweep() raised {type(e).__name__}: {e}') from None
  if not declared:
    raise UserError(f'{flag}: sweep() added no run')
  all_keys = sorted({k for _, o in declared for k in o})
  runs, seen = [], {}
  for config_arg, overrides in declared:
    name = run_name(config_arg, overrides, all_keys)
    if name in seen:
      raise UserError(f'{flag}: two runs with the same overrides ({name})')
    seen[name] = True
    runs.append(Run(name, overrides, config_arg, join_arg(config_arg, overrides)))
  return runs


def _first_line(e):
  return str(e).splitlines()[0] if str(e) else repr(e)


def _check_landed(run, config):
  """UserError naming the run and the field if `config` does not carry one of its overrides."""
  for field, built, wanted in run_config.mismatches(config, run.overrides):
    if field in run.flag_overrides:
      why = f'the --config.{field} flag did not set it'
    else:
      why = f"get_config('{run.child_arg}') does not apply {field} of its argument"
    raise UserError(
        f'run {run.name}: config.{field} is {built!r}, not the {wanted!r} its name says ({why})'
    )


def build_configs(module, runs):
  """Every run's config, built as its child builds it (gan_jax.run_config), checked to carry
  its overrides and validated. UserError naming the run and the field."""
  from gan_jax import config as config_lib  # pylint: disable=g-import-not-at-top (JAX: only here)

  configs = []
  for run in runs:
    try:
      config = run_config.build_run_config(module.get_config, run.child_arg, run.flag_overrides)
    except (ValueError, TypeError, AttributeError, KeyError) as e:
      raise UserError(f'run {run.name}: {_first_line(e)}') from None
    _check_landed(run, config)
    try:
      config_lib.validate(config, 1)
    except (ValueError, TypeError, AttributeError, KeyError) as e:
      raise UserError(f'run {run.name}: {_first_line(e)}') from None
    configs.append(config)
  return configs


def select(runs, pattern):
  if not pattern:
    return runs
  glob = pattern if any(c in pattern for c in '*?[') else f'*{pattern}*'
  chosen = [r for r in runs if fnmatch.fnmatchcase(r.name, glob)]
  if not chosen:
    raise UserError(f'--only={pattern}: matches none of the {len(runs)} runs')
  return chosen


def sweep_record(config_file, arg, runs, python, root):
  """DIR/sweep.json: per run its name, config arg (and that arg's presets and key=value fields
  as JSON), overrides (JSON) and command."""
  records = []
  for r in runs:
    presets, fields = arg_parts(r.config_arg)
    records.append(
        {
            'name': r.name,
            'config_arg': r.config_arg,
            'arg_presets': presets,
            'arg_fields': fields,
            'overrides': r.overrides,
            'command': shlex.join(r.command(python, config_file, root)),
        }
    )
  return {'config': config_file, 'arg': arg, 'runs': records}


def read_sweep(root) -> dict:
  """DIR/sweep.json, or {} if it is missing or unreadable."""
  try:
    with open(os.path.join(root, SWEEP_FILE)) as f:
      return json.load(f)
  except (OSError, ValueError):
    return {}
