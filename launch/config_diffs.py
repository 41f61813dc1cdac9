"""Each run's config against the study's base, for report.html.

The study's base is the config its runs' file builds without an argument or override,
`get_config()` of the file DIR/sweep.json names (`config`: the file each run's child gets as
--config; read from the current folder, else from this repository's root). Without a sweep.json,
or when that file is gone or raises, the base is the first run's config, and the label says so.
A run's diff is gan_jax.schema.config_diff of the two configs with nothing ignored:
['field: base value -> run value', ...], every field that differs (num_steps included).
"""

import importlib.util
import os

from gan_jax import run_config, schema
from launch.study import read_sweep

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _config_file(name):
  """The path of sweep.json's `config`, from the current folder or the repository root; None."""
  for path in (name, os.path.join(ROOT, name)):
    if path and path.endswith('.py') and os.path.isfile(path):
      return path
  return None


def _get_config_of(path):
  """get_config() of the Python file `path`, built as a run's child builds it."""
  spec = importlib.util.spec_from_file_location('study_base_config', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return run_config.build_run_config(module.get_config, None, {})


def study_base(root, runs):
  """(label, config) of the base the runs are compared with (see the module's docstring);
  config is None when no run has a readable config either."""
  name = read_sweep(root).get('config')
  why = 'no sweep.json names a config file'
  if name:
    path = _config_file(name)
    why = f'{name} is not found'
    if path:
      try:
        return f'get_config() of {name}', _get_config_of(path)
      except Exception as e:  # pylint: disable=broad-except (whatever the study's file raises)
        why = f'get_config() of {name} raised {type(e).__name__}: {e}'.splitlines()[0]
  first = next((r for r in runs if r.config is not None), None)
  if first is None:
    return f'none ({why}, and no run has a config.json)', None
  return f'the config of run {first.name} ({why})', first.config


def run_diffs(runs, base):
  """{run name: ['field: base -> run', ...]} (None for a run without a readable config)."""
  out = {}
  for run in runs:
    if run.config is None or base is None:
      out[run.name] = None
    else:
      out[run.name] = schema.config_diff(base, run.config, ignore=())
  return out
