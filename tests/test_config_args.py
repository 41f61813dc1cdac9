"""Every config that takes an argument reads it with the one parser of configs/common.py: each
preset, key=value pairs typed by their field (a bracketed or quoted value with commas in it
too), `loss.name` rebuilding the loss section, and one-line errors for an unknown preset or
field; the documented --print_config example through the real CLI."""

import glob
import importlib
import os

import pytest

from benchmarks.compile_times import presets
from configs import common
from gan_jax.schema import flatten
from tests.conftest import ROOT, run_module


def _modules():
  paths = glob.glob(os.path.join(ROOT, 'configs', '*.py'))
  paths += glob.glob(os.path.join(ROOT, 'configs', 'sweeps', '*.py'))
  paths += glob.glob(os.path.join(ROOT, 'configs', 'papers', '*.py'))
  names = sorted(
      os.path.relpath(p, ROOT)[:-3].replace(os.sep, '.')
      for p in paths
      if not os.path.basename(p).startswith('_') and not p.endswith('common.py')
  )
  return [n for n in names if hasattr(importlib.import_module(n), 'get_config')]


MODULES = _modules()
CASES = [(m, p) for m in MODULES for p in presets(importlib.import_module(m))]


def test_every_config_is_covered():
  assert len(MODULES) >= 19
  assert 'configs.pacgan' in MODULES and 'configs.sweeps.losses_2d' in MODULES
  assert 'configs.papers.metz2017_ring' in MODULES
  assert len(CASES) > 50


def _tuple_field(config):
  """A field of `config` that holds a tuple of two or more numbers (None if there is none)."""
  found = [
      k
      for k, v in flatten(config).items()
      if isinstance(v, tuple) and len(v) > 1 and all(isinstance(x, int) for x in v)
  ]
  return found[0] if found else None


@pytest.mark.parametrize('module,preset', CASES)
def test_each_preset_takes_key_value_pairs_the_same_way(module, preset):
  get_config = importlib.import_module(module).get_config
  plain = get_config(preset)
  field = _tuple_field(plain)
  pairs = ["seed=7", "train.num_steps=123", "eval.stats_dir='/a,b'"]
  if field:
    pairs.append(f'{field}=(64,64)')
  config = get_config(','.join([preset, *pairs]))
  assert (config.seed, config.train.num_steps, config.eval.stats_dir) == (7, 123, '/a,b')
  assert isinstance(config.train.num_steps, int)
  if field:
    assert flatten(config)[field] == (64, 64)
  changed = {'seed', 'train.num_steps', 'eval.stats_dir', field}
  a, b = flatten(plain), flatten(config)
  assert {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)} <= changed
  # The pairs alone keep the config's default preset.
  assert get_config('seed=7').data.name == get_config(None).data.name


@pytest.mark.parametrize('module', MODULES)
def test_loss_name_rebuilds_the_loss_and_unknown_names_are_one_line_errors(module):
  get_config = importlib.import_module(module).get_config
  config = get_config('loss.name=f_gan,loss.divergence=pearson')
  assert dict(config.loss) == {'name': 'f_gan', 'divergence': 'pearson', 'g_loss': 'alternative'}
  for arg, message in [
      ('no_such_preset', "config arg 'no_such_preset': allowed: "),
      ('train.no_such_field=1', 'unknown field train.no_such_field'),
      ('no_such_section.x=1', 'unknown field no_such_section.x'),
      ('train.num_steps=many', 'train.num_steps=many: must be of type int'),
      ('loss.name=wgan', "loss.name='wgan': allowed: "),
  ]:
    with pytest.raises(ValueError, match=message) as e:
      get_config(arg)
    assert '\n' not in str(e.value)


def test_split_arg_and_apply_overrides():
  assert common.split_arg("ring8,pack4,model.g_hidden=(64,64),data.data_dir='/x,y',seed=3") == (
      ['ring8', 'pack4'],
      [('model.g_hidden', (64, 64)), ('data.data_dir', '/x,y'), ('seed', 3)],
  )
  assert common.split_arg(None) == ([], [])
  config = importlib.import_module('configs.mixture_2d').get_config()
  common.apply_overrides(
      config, {'reg.r1': '1', 'model.d_hidden': '[8, 8]', 'seed': 4, 'train.ema_decay': 0}
  )
  assert (config.reg.r1, config.model.d_hidden, config.seed) == (1.0, (8, 8), 4)
  assert isinstance(config.reg.r1, float) and isinstance(config.train.ema_decay, float)
  with pytest.raises(ValueError, match=r'^config override: unknown field model.pack; allowed: '):
    common.apply_overrides(config, {'model.pack': '2'})


def test_two_presets_of_one_kind_are_refused_and_of_two_kinds_combine():
  pacgan = importlib.import_module('configs.pacgan')
  config = pacgan.get_config('ring8,pack4')
  assert (config.data.name, config.d_input.pack) == ('ring8', 4)
  with pytest.raises(ValueError, match=r"two presets \(grid25, ring8\); name one"):
    pacgan.get_config('grid25,ring8')


def test_print_config_takes_a_bracketed_value_in_the_argument():
  arg = '--config=configs/pacgan.py:ring8,model.g_hidden=(64,64)'
  result = run_module('experiments.main', arg, '--print_config')
  assert result.returncode == 0, result.stderr[-2000:]
  lines = result.stdout.splitlines()
  assert 'model.g_hidden = (64, 64)' in lines
  assert "data.name = 'ring8'" in lines and 'd_input.pack = 2' in lines
  assert 'eval.per_metric = {}' in lines


def test_none_sets_a_field_that_may_be_none():
  """`data.data_dir=None` in an argument is None, not the string 'None' (a sweep's None override
  travels in the config argument, and the launcher checks it landed)."""
  from configs import nsgan  # pylint: disable=g-import-not-at-top

  assert nsgan.get_config('mnist,data.data_dir=/tmp/x').data.data_dir == '/tmp/x'
  assert nsgan.get_config('mnist,data.data_dir=None').data.data_dir is None
  assert nsgan.get_config("mnist,data.data_dir='None'").data.data_dir == 'None'
