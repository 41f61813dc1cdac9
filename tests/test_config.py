"""Every shipped config validates; bad fields fail with one line, nothing written."""

import importlib
import os

import pytest

from gan_jax.config import ConfigError, validate
from tests.conftest import run_module

CONFIGS = {
    'gan': [None, 'mnist', 'fashion_mnist', 'fashion_mnist_idx', 'cifar10', 'celeb_a'],
    'nsgan': [None, 'cifar10'],
    'wgan': [None, 'cifar10'],
    'wgan_gp': [None, 'cifar10', 'celeb_a'],
    'lsgan': [None],
    'hinge': [None, 'cifar10'],
    'mixture_2d': [None, 'ring8', 'grid25'],
    'cgan': [None, 'mnist'],
    'acgan': [None, 'cifar10'],
    'sngan_projection': [None, 'mnist5k', 'cifar10'],
    'dcgan': [None, 'mnist5k', 'cifar10', 'celeb_a'],
}


@pytest.mark.parametrize('name,arg', [(n, a) for n, args in CONFIGS.items() for a in args])
def test_shipped_configs_validate(name, arg):
  config = importlib.import_module(f'configs.{name}').get_config(arg)
  validate(config, num_devices=1)
  for field in (
      'seed',
      'data.name',
      'loss.name',
      'train.num_steps',
      'train.batch_size',
      'train.d_steps',
      'checkpoint.every_steps',
  ):
    node = config
    for part in field.split('.'):
      node = node[part]  # the contract other tools rely on


def test_wgan_gp_cifar10_is_the_benchmarked_setting():
  c = importlib.import_module('configs.wgan_gp').get_config('cifar10')
  assert (c.data.name, c.model.name, c.loss.name) == ('cifar10', 'sngan_cnn', 'wasserstein')
  assert (c.train.batch_size, c.train.d_steps, c.reg.gp) == (64, 5, 10.0)
  assert (c.optim.d.name, c.optim.d.lr, c.optim.d.b1, c.optim.d.b2) == ('adam', 1e-4, 0.0, 0.9)
  assert c.optim.g == c.optim.d


def test_unknown_preset_names_the_allowed_ones():
  with pytest.raises(ValueError, match='allowed: .*cifar10'):
    importlib.import_module('configs.wgan_gp').get_config('cifar100')


@pytest.mark.parametrize(
    'field,value,message',
    [
        (
            'loss.name',
            'wgan',
            r"config.loss.name='wgan': allowed: f_gan, hinge, .*wasserstein",
        ),
        (
            'model.name',
            'resnet9',
            r"config.model.name='resnet9': allowed: dcgan, mlp, progan, resnet, sngan_cnn",
        ),
        ('data.name', 'imagenet', r"config.data.name='imagenet': allowed: .*mnist5k"),
        ('train.num_steps', 0, r'config.train.num_steps=0: must be >= 1'),
        ('train.num_steps', 2.5, r'config.train.num_steps=2.5: must be an integer'),
        ('train.batch_size', -4, r'config.train.batch_size=-4: must be >= 1'),
        ('train.d_steps', 0, r'config.train.d_steps=0: must be >= 1'),
        ('optim.d.lr', 0.0, r'config.optim.d.lr=0.0: must be > 0'),
        ('optim.g.lr', -1e-4, r'config.optim.g.lr=-0.0001: must be > 0'),
        ('optim.g.name', 'adamw', r"config.optim.g.name='adamw': allowed: adam, rmsprop, sgd"),
        ('reg.gp', -1.0, r'config.reg.gp=-1.0: must be >= 0'),
        ('train.ema_decay', 1.0, r'config.train.ema_decay=1.0: must be < 1'),
        ('checkpoint.every_steps', 0, r'config.checkpoint.every_steps=0: must be >= 1'),
        ('seed', 'zero', r"config.seed='zero': must be an integer"),
    ],
)
def test_bad_fields_name_the_field_and_allowed_values(make_config, field, value, message):
  config = make_config()
  section, _, key = field.rpartition('.')
  node = config
  for part in filter(None, section.split('.')):
    node = node[part]
  with node.ignore_type():
    node[key] = value
  with pytest.raises(ConfigError, match=message):
    validate(config, num_devices=1)


def test_unknown_model_field_lists_the_allowed_ones(make_config):
  config = make_config()
  config.model.width = 64  # a sngan_cnn field, not an mlp one
  with pytest.raises(
      ConfigError, match=r'config.model.width=64: unknown field; allowed: .*g_hidden'
  ):
    validate(config, num_devices=1)


def test_any_step_count_and_interval_works_with_any_steps_per_call(make_config):
  from gan_jax.train import call_sizes  # pylint: disable=g-import-not-at-top

  config = make_config(steps_per_call=100, num_steps=250, log_every=70)
  config.checkpoint.every_steps = 50
  validate(config, num_devices=1)
  calls = call_sizes(config, 0, 250)
  ends = [s + n for s, n in calls]
  assert all(n <= 100 for _, n in calls) and ends[-1] == 250
  for every in (50, 70):  # each log line and checkpoint falls at the end of a call
    assert all(m in ends for m in range(every, 250, every))
  # From any call boundary the rest of the calls are the same (bit-identical resumes).
  for s, _ in calls:
    assert call_sizes(config, s, 250) == [c for c in calls if c[0] >= s]


def test_batch_size_must_divide_over_devices(make_config):
  with pytest.raises(
      ConfigError, match=r'batch_size=16: must be divisible by the number of devices \(3\)'
  ):
    validate(make_config(), num_devices=3)
  validate(make_config(), num_devices=4)


def test_cli_rejects_a_bad_field_in_one_line_and_writes_nothing(tmp_path):
  workdir = tmp_path / 'run'
  result = run_module(
      'experiments.main',
      '--config=configs/wgan_gp.py',
      f'--workdir={workdir}',
      '--config.loss.name=wgan',
  )
  assert result.returncode == 2
  assert (
      result.stderr.strip().splitlines()[-1].startswith("error: config.loss.name='wgan': allowed:")
  )
  assert 'Traceback' not in result.stderr
  assert not workdir.exists()


def test_model_that_does_not_fit_the_data_is_a_user_error(make_config):
  from gan_jax.experiment import UserError, build_experiment

  config = make_config()
  config.model = {'name': 'sngan_cnn', 'width': 4}  # a CNN on 2D points
  with pytest.raises(
      UserError, match=r'config.model \(sngan_cnn\): sngan_cnn needs a square .* got \(2,\)'
  ):
    build_experiment(config)


@pytest.mark.parametrize(
    'args,message',
    [
        (
            ['--config.train.num_steps=abc'],
            'error: flag --config.train.num_steps=abc: invalid literal',
        ),
        (['--config.train.foo=1'], "error: unknown config field 'foo' in --config.train.foo=1"),
        (['--config=configs/nope.py'], 'error: --config: [Errno 2] No such file or directory'),
        (
            ['--config=configs/nsgan.py:cifar100'],
            "ValueError: config arg 'cifar100': allowed: celeb_a",
        ),
    ],
)
def test_cli_bad_flags_are_one_line(tmp_path, args, message):
  workdir = tmp_path / 'run'
  result = run_module(
      'experiments.main', '--config=configs/nsgan.py', f'--workdir={workdir}', *args
  )
  assert result.returncode == 2
  lines = [l for l in result.stderr.splitlines() if l.startswith('error: ')]
  assert len(lines) == 1 and message in lines[0], result.stderr[-2000:]
  assert 'Traceback' not in result.stderr
  assert not workdir.exists()


def test_a_missing_field_is_named(make_config):
  config = make_config()
  del config.train['steps_per_call']
  with pytest.raises(ConfigError, match=r'config.train.steps_per_call: missing'):
    validate(config, num_devices=1)


@pytest.mark.parametrize(
    'section,field,value,message',
    [
        ('model', 'd_dropout', 1.5, r'config.model.d_dropout=1.5: must be < 1'),
        ('model', 'z_dim', 0, r'config.model.z_dim=0: must be >= 1'),
        ('model', 'g_hidden', (32, 0), r'config.model.g_hidden\[1\]=0: must be >= 1'),
        ('model', 'g_output', 'tanh', r"config.model.g_output='tanh': grid25 is not in \[-1, 1\]"),
        ('data', 'std', -1.0, r'config.data.std=-1.0: must be > 0'),
    ],
)
def test_registry_fields_are_checked_before_anything_runs(
    make_config, section, field, value, message
):
  from gan_jax.experiment import UserError, build_experiment

  config = make_config()
  config[section][field] = value
  with pytest.raises(UserError, match=message):
    build_experiment(config)


def test_optimizer_fields_are_checked(make_config):
  from gan_jax.experiment import UserError, build_experiment

  config = make_config()
  config.optim.d.b1 = 1.5
  with pytest.raises(UserError, match=r'config.optim.d.b1=1.5: must be < 1'):
    build_experiment(config)


def test_every_none_field_of_every_preset_can_be_set_from_the_command_line():
  """config_flags refuses to override a plain None (`--config.data.data_dir=DIR` on the TFDS
  presets did): configs.common.entry types each None default from its annotation."""
  from benchmarks.compile_times import config_modules, presets  # pylint: disable=g-import-not-at-top

  none_fields = 0
  for name, module in config_modules().items():
    for arg in presets(module):
      config = module.get_config(arg)
      for section in ('data', 'model'):
        for key, value in config[section].items():
          if value is None:
            none_fields += 1
            assert config[section].get_type(key) is not type(None), f'{name}:{arg} {section}.{key}'
  assert none_fields > 10  # data_dir and image_size of the TFDS presets, among others
  config = importlib.import_module('configs.nsgan').get_config('cifar10')
  config.data.data_dir, config.data.image_size = '/data/tfds', 16
  validate(config, num_devices=1)


def test_a_saved_config_of_the_layout_before_d_input_loads_unchanged(tmp_path):
  """tests/data/config_before_d_input.json: configs/pacgan.py:ring8 with instance noise, as
  main wrote it before the d_input section (model.pack, reg.instance_noise*). Read back, it is
  today's config (no difference), in today's layout; so is one older still, without the fields
  added since (OPTIONAL, the eval section)."""
  import json  # pylint: disable=g-import-not-at-top
  import shutil  # pylint: disable=g-import-not-at-top

  from gan_jax import workdir  # pylint: disable=g-import-not-at-top
  from gan_jax.config import config_diff  # pylint: disable=g-import-not-at-top
  from tests.conftest import ROOT  # pylint: disable=g-import-not-at-top

  today = importlib.import_module('configs.pacgan').get_config('ring8')
  today.d_input.instance_noise, today.d_input.instance_noise_steps = 0.2, 10_000
  saved = os.path.join(ROOT, 'tests', 'data', 'config_before_d_input.json')
  run = tmp_path / 'run'
  run.mkdir()
  shutil.copy(saved, run / workdir.CONFIG_FILE)
  config = workdir.read_config(str(run))
  assert 'pack' not in config.model and 'instance_noise' not in config.reg
  assert (config.d_input.pack, config.d_input.instance_noise) == (2, 0.2)
  assert config_diff(config, today) == []
  validate(config, num_devices=1)
  today.d_input.pack = 4
  assert config_diff(config, today) == ['d_input.pack: 2 -> 4']

  with open(saved) as f:
    older = json.load(f)
  del older['eval'], older['train']['on_nonfinite'], older['train']['unroll_steps']
  del older['train']['fake_labels'], older['reg']['acgan'], older['reg']['diffaugment']
  for net in 'gd':
    del older['optim'][net]['schedule'], older['optim'][net]['decay_to']
  (run / workdir.CONFIG_FILE).write_text(json.dumps(older))
  config = workdir.read_config(str(run))
  today.d_input.pack = 2
  assert config_diff(config, today) == []
  assert config.eval.every_steps == 0 and config.optim.g.schedule == 'none'


def test_with_defaults_marks_its_result_and_leaves_it_alone_after():
  from gan_jax import schema  # pylint: disable=g-import-not-at-top

  config = importlib.import_module('configs.nsgan').get_config()
  del config.train['on_nonfinite']
  filled = schema.with_defaults(config)
  assert filled is not config and filled.train.on_nonfinite == 'stop'
  assert schema.with_defaults(filled) is filled and schema.upgrade(filled) is filled
  assert schema.program_key(filled) == schema.program_key(config)


def test_a_config_is_defaulted_and_validated_once_at_the_edge(make_config, monkeypatch):
  """A group validates each of its configs, then builds the experiment of the first: that
  config is not checked a second time, unless it changed since."""
  from gan_jax import config as config_lib  # pylint: disable=g-import-not-at-top
  from gan_jax.experiment import UserError, build_experiment  # pylint: disable=g-import-not-at-top

  checks = []
  check = config_lib._check_fields  # pylint: disable=protected-access
  monkeypatch.setattr(config_lib, '_check_fields', lambda c, n: (checks.append(n), check(c, n)))
  config = config_lib.with_defaults(make_config())
  validate(config, num_devices=1)
  exp = build_experiment(config, num_devices=1)
  assert exp.config is config and len(checks) == 1  # not defaulted (a copy) nor checked again
  assert config_lib.program_key(exp.config) == config_lib.program_key(make_config())
  config.train.num_steps = 0
  with pytest.raises(UserError, match='config.train.num_steps=0'):
    build_experiment(config, num_devices=1)
  assert len(checks) == 2
