"""The remedies' configs (plain_2d, pacgan, unrolled, fgan) and the collapse study's sweep:
every preset validates, args set dotted fields, the sweep's runs are the study's grid."""

import importlib

import pytest

from configs import common
from configs.sweeps import collapse_2d
from gan_jax.config import validate
from gan_jax.losses import DIVERGENCES

CONFIGS = {
    'plain_2d': [None, 'grid25', 'ring8', 'ring8,seed=3'],
    'pacgan': [None, 'ring8', 'pack4', 'ring8,pack4'],
    'unrolled': [None, 'grid25', 'ring8,train.unroll_steps=5'],
    'fgan': [None, 'mnist5k', 'grid25', 'ring8', *DIVERGENCES, 'grid25,pearson'],
}


@pytest.mark.parametrize('name,arg', [(n, a) for n, args in CONFIGS.items() for a in args])
def test_configs_validate(name, arg):
  validate(importlib.import_module(f'configs.{name}').get_config(arg), num_devices=1)


def test_the_settings():
  plain = importlib.import_module('configs.plain_2d').get_config()
  assert (plain.data.name, plain.loss.name, plain.reg.r1, plain.train.ema_decay) == (
      'grid25',
      'non_saturating',
      0.0,
      0.0,
  )
  assert (plain.d_input.pack, plain.train.unroll_steps, plain.d_input.diffaugment) == (1, 0, '')
  pac = importlib.import_module('configs.pacgan')
  assert pac.get_config().d_input.pack == 2 and pac.get_config('ring8,pack4').d_input.pack == 4
  assert pac.get_config('ring8').data.name == 'ring8'
  unrolled = importlib.import_module('configs.unrolled').get_config()
  assert (unrolled.data.name, unrolled.train.unroll_steps, unrolled.loss.name) == (
      'ring8',
      10,
      'minimax',
  )
  assert (unrolled.model.z_dim, unrolled.model.g_hidden, unrolled.model.d_hidden) == (
      256,
      (128, 128),
      (128,),
  )
  assert (unrolled.optim.d.lr, unrolled.train.batch_size) == (1e-4, 512)
  fgan = importlib.import_module('configs.fgan')
  c = fgan.get_config('ring8,reverse_kl,loss.g_loss=saturating')
  assert (c.data.name, c.model.g_output) == ('ring8', 'linear')
  assert dict(c.loss) == {'name': 'f_gan', 'divergence': 'reverse_kl', 'g_loss': 'saturating'}
  assert fgan.get_config().data.name == 'mnist5k' and fgan.get_config().loss.divergence == 'kl'


@pytest.mark.parametrize(
    'arg,message',
    [
        ('grid52', r"config arg 'grid52': allowed: grid25, ring8"),
        ('ring8,model.width=3', r"unknown field model.width; allowed: .*g_hidden"),
        ('ring8,train.unroll=3', r"unknown field train.unroll"),
        ('ring8,d_input.pack=two', r"config arg 'ring8,d_input.pack=two': d_input.pack=two: must"),
        ('ring8,loss.name=wgan', r"loss.name='wgan': allowed: minimax, .*f_gan"),
    ],
)
def test_bad_args_name_what_is_allowed(arg, message):
  with pytest.raises(ValueError, match=message):
    importlib.import_module('configs.plain_2d').get_config(arg)


def test_loss_name_in_an_arg_spells_out_the_loss_fields():
  c = importlib.import_module('configs.plain_2d').get_config('loss.name=f_gan,loss.divergence=gan')
  assert dict(c.loss) == {'name': 'f_gan', 'divergence': 'gan', 'g_loss': 'alternative'}
  assert common.entry(common.LOSSES, 'hinge').to_dict() == {'name': 'hinge'}


def test_the_sweep_is_the_study_grid_and_every_run_validates():
  calls = []
  collapse_2d.sweep(lambda **overrides: calls.append(overrides))
  assert len(calls) == 12 * 5 * 2
  module = importlib.import_module(collapse_2d.CONFIG[:-3].replace('/', '.'))
  seen = set()
  for overrides in calls:
    overrides = dict(overrides)
    config = module.get_config(overrides.pop('config_arg'))
    for key, value in overrides.items():
      common.apply_overrides(config, {key: value})
    validate(config, num_devices=1)
    seen.add(
        (
            config.data.name,
            config.seed,
            config.loss.name,
            config.loss.get('divergence'),
            config.train.unroll_steps,
            config.d_input.pack,
            config.d_input.instance_noise > 0,
        )
    )
  assert len(seen) == len(calls)  # no run twice
  assert {s[0] for s in seen} == {'grid25', 'ring8'} and {s[1] for s in seen} == set(range(5))
  assert {s[3] for s in seen} == {None, *DIVERGENCES}
  assert {s[4] for s in seen} == {0, 5, 10} and {s[5] for s in seen} == {1, 2, 4}
  ring8 = []
  collapse_2d.sweep(lambda **o: ring8.append(o), 'ring8')
  assert len(ring8) == 60 and all(o['config_arg'].startswith('ring8') for o in ring8)
  assert len(collapse_2d.commands()) == 120


@pytest.mark.parametrize(
    'args,message',
    [
        (
            ['--config=configs/fgan.py:grid25', '--config.loss.divergence=tv'],
            "error: config.loss.divergence='tv': allowed: kl, reverse_kl, pearson, "
            'squared_hellinger, jensen_shannon, gan',
        ),
        (
            ['--config=configs/pacgan.py:ring8', '--config.d_input.pack=3'],
            'error: config.train.batch_size=128: must be divisible by d_input.pack=3 (D judges '
            'packs of 3 samples)',
        ),
    ],
)
def test_cli_rejects_bad_remedy_fields_in_one_line(tmp_path, args, message):
  from tests.conftest import run_module  # pylint: disable=g-import-not-at-top

  workdir = tmp_path / 'run'
  result = run_module('experiments.main', *args, f'--workdir={workdir}')
  assert result.returncode == 2
  assert result.stderr.strip().splitlines()[-1] == message, result.stderr[-2000:]
  assert 'Traceback' not in result.stderr and not workdir.exists()


def test_older_configs_without_the_new_fields_resume_unchanged():
  import ml_collections  # pylint: disable=g-import-not-at-top

  from gan_jax.schema import config_diff, upgrade  # pylint: disable=g-import-not-at-top

  new = importlib.import_module('configs.nsgan').get_config()
  old = new.to_dict()  # the layout before d_input, and before the fields added since
  d_input = old.pop('d_input')
  old['reg'].update(
      instance_noise=d_input['instance_noise'],
      instance_noise_steps=d_input['instance_noise_steps'],
  )
  del old['train']['unroll_steps'], old['eval']['per_metric']
  old = ml_collections.ConfigDict(old)
  assert config_diff(old, new) == []
  new.d_input.pack = 2
  assert config_diff(old, new) == ['d_input.pack: 1 -> 2']
  filled = upgrade(old)
  assert (filled.d_input.pack, filled.train.unroll_steps, filled.d_input.diffaugment) == (1, 0, '')
  assert 'instance_noise' not in filled.reg
  validate(filled, num_devices=1)
