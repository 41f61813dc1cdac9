"""The rough edges a new user meets first: --help, --print_config, what runs where, hints for
loss names, the unconstrained-Wasserstein warning, Orbax's read-only notice."""

import ast
import glob
import logging
import os
import re

import pytest

from gan_jax.checkpoint import Checkpoints
from gan_jax.config import ConfigError, config_warnings, format_config, validate
from gan_jax.sharding import describe, make_mesh
from tests.conftest import ROOT, run_module, tiny_config


def test_help_exits_0_and_shows_the_usage():
  result = run_module('experiments.main', '--help')
  assert result.returncode == 0, result.stderr[-2000:]
  assert '--workdir=runs/wgan_gp \\\n      [--config.train.num_steps=2000 ...]' in result.stdout
  assert '--print_config' in result.stdout and 'Try --helpfull' in result.stdout


@pytest.mark.parametrize(
    'path',
    sorted(
        glob.glob(os.path.join(ROOT, 'experiments', '*.py'))
        + glob.glob(os.path.join(ROOT, 'launch', '*.py'))
        + glob.glob(os.path.join(ROOT, 'benchmarks', '*.py'))
    ),
)
def test_usage_texts_keep_their_line_breaks(path):
  """A backslash at the end of a docstring line joins it with the next one in --help."""
  with open(path) as f:
    doc = ast.get_docstring(ast.parse(f.read()), clean=False) or ''
  assert not re.search(r'\S {4,}\[--', doc), doc


def test_print_config_lists_every_field_with_overrides_applied():
  result = run_module(
      'experiments.main', '--config=configs/wgan_gp.py', '--print_config', '--config.reg.gp=5'
  )
  assert result.returncode == 0, result.stderr[-2000:]
  lines = result.stdout.splitlines()
  assert "loss.name = 'wasserstein'" in lines and 'reg.gp = 5.0' in lines
  assert 'train.num_steps = 5000' in lines and 'model.g_hidden = (256, 512)' in lines


def test_format_config_is_one_line_per_field():
  config = tiny_config()
  lines = format_config(config).splitlines()
  assert 'train.num_steps = 10' in lines and "data.name = 'grid25'" in lines
  assert len(lines) == sum(1 for line in lines if ' = ' in line)


def test_devices_and_the_mesh_are_described_and_forced_host_devices_get_a_hint():
  mesh = make_mesh()
  (line,) = describe(mesh, 1, '')
  assert line.startswith('Devices: 1 x cpu in 1 process; mesh data=1')
  forced = describe(mesh, 2, '--foo --xla_force_host_platform_device_count=4')
  assert 'in 2 processes' in forced[0]
  assert 'splits this CPU into 4 devices' in forced[1] and 'slower' in forced[1]


@pytest.mark.parametrize('name', ['wgan_gp', 'wgan-gp', 'wgan'])
def test_a_wgan_loss_name_says_which_config_it_is(name):
  config = tiny_config()
  config.loss.name = name
  with pytest.raises(
      ConfigError, match=r'allowed: .*wasserstein; WGAN.* is configs/wgan(_gp)?\.py'
  ):
    validate(config, 1)


def test_a_wasserstein_loss_without_a_constraint_on_d_is_warned_about():
  config = tiny_config()
  config.model.d_sn = False
  config.loss.name = 'wasserstein'
  (warning,) = config_warnings(config)
  assert warning.startswith("warning: config.loss.name='wasserstein' with no constraint on D")
  for field, value in (('gp', 10.0), ('clip', 0.01)):
    config.reg[field] = value
    assert config_warnings(config) == []
    config.reg[field] = 0.0
  config.model.d_sn = True
  assert config_warnings(config) == []
  config.loss.name = 'non_saturating'
  config.model.d_sn = False
  assert config_warnings(config) == []


def test_opening_checkpoints_read_only_logs_nothing(tmp_path, caplog):
  (tmp_path / 'checkpoints').mkdir()
  with caplog.at_level(logging.INFO):
    Checkpoints(str(tmp_path), read_only=True).close()
  assert 'read only' not in caplog.text
