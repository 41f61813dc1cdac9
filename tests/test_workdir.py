"""gan_jax.workdir: the atomic writer and the readers of a run folder; config args (key=value)."""

import os

import numpy as np
import pytest
from tensorboardX import SummaryWriter

from configs import common, hinge, mixture_2d, nsgan
from gan_jax import workdir


def test_write_atomically_text_bytes_and_writer_functions(tmp_path):
  path = tmp_path / 'a' / 'b.json'
  assert workdir.write_atomically(path, '{"x": 1}') == str(path)
  assert path.read_text() == '{"x": 1}'
  workdir.write_atomically(path, b'{"x": 2}')
  assert path.read_text() == '{"x": 2}'
  npy = tmp_path / 'x.npy'
  workdir.write_atomically(npy, lambda tmp: np.save(tmp, np.arange(3)))
  assert np.load(npy).tolist() == [0, 1, 2]
  assert sorted(os.listdir(tmp_path)) == ['a', 'x.npy']


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
  path = tmp_path / 'r.json'
  path.write_text('old')

  def fail(tmp):
    with open(tmp, 'w') as f:
      f.write('half')
    raise OSError('disk full')

  with pytest.raises(OSError, match='disk full'):
    workdir.write_atomically(path, fail)
  assert path.read_text() == 'old'
  assert os.listdir(tmp_path) == ['r.json']


def test_readers_of_a_run_folder(tmp_path):
  run = str(tmp_path)
  config = mixture_2d.get_config('ring8,train.num_steps=20')
  workdir.write_config(run, config)
  assert workdir.read_config(run).train.num_steps == 20
  assert workdir.read_config(run).model.g_hidden == (128, 128, 128)
  workdir.write_json(workdir.eval_path(run, 10), {'step': 10, 'modes': {'modes': 3}})
  workdir.write_json(workdir.eval_path(run, 20), {'step': 20, 'modes': {'modes': 8}})
  (tmp_path / 'eval' / 'junk.json').write_text('{')
  assert list(workdir.read_results(run)) == [10, 20]
  writer = SummaryWriter(run)
  for step in (1, 2, 3):
    writer.add_scalar('d_loss', step / 10, step)
  writer.add_scalar('g_loss', 5.0, 3)
  writer.close()
  scalars = workdir.read_scalars(run)
  assert [s for s, _ in scalars['d_loss']] == [1, 2, 3]
  assert scalars['g_loss'][0][1] == pytest.approx(5.0)
  assert not workdir.is_finished(run)
  for step in (10, 20):
    os.makedirs(tmp_path / 'checkpoints' / str(step))
    (tmp_path / 'checkpoints' / str(step) / workdir.ORBAX_DONE_FILE).write_text('{}')
  os.makedirs(tmp_path / 'checkpoints' / f'30{workdir.UNFINISHED_MARK}')
  assert workdir.checkpoint_steps(run) == [10, 20]
  assert workdir.is_finished(run) and not workdir.is_finished(run, num_steps=30)


def test_config_args_take_a_preset_and_key_value_fields():
  c = mixture_2d.get_config('ring8,seed=3,train.num_steps=200,model.g_hidden=(64,64),reg.r1=0')
  assert (c.data.name, c.seed, c.train.num_steps) == ('ring8', 3, 200)
  assert c.model.g_hidden == (64, 64) and c.reg.r1 == 0.0 and isinstance(c.reg.r1, float)
  assert mixture_2d.get_config('seed=2').data.name == 'grid25'
  assert hinge.get_config('cifar10,model.d_sn=false').model.d_sn is False
  c = nsgan.get_config('fashion_mnist_idx,data.data_dir=/tmp/x,loss.name=hinge')
  assert (c.data.name, c.data.data_dir, c.loss.name) == ('idx', '/tmp/x', 'hinge')
  assert common.parse_arg("a,b.c='x,y',d=[1, 2]") == ('a', {'b.c': "'x,y'", 'd': '[1, 2]'})


@pytest.mark.parametrize(
    'arg, message',
    [
        ('sed=3', "config arg 'sed=3': unknown field sed"),
        ('train.nope=1', 'unknown field train.nope'),
        ('grid25,ring8', 'two presets'),
        ('seed=abc', 'seed=abc: must be of type int'),
        ('model.d_sn=maybe', 'must be true or false'),
        ('foo', "config arg 'foo': allowed: grid25, ring8"),
    ],
)
def test_bad_config_args_are_one_line_errors(arg, message):
  with pytest.raises(ValueError, match=message.replace('(', r'\(')) as e:
    mixture_2d.get_config(arg)
  assert '\n' not in str(e.value)
