"""The host loop (gan_jax/loop.py): its cadence at the boundaries, the split into calls, and a
toy training program that is no GAN (a least-squares fit by SGD) driven end to end: what it
logs and saves, and that a resume from the middle ends where an uninterrupted run ends."""

import itertools
import os

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from gan_jax import checkpoint, loop
from gan_jax.programs import Program
from gan_jax.programs.gan import GanProgram
from gan_jax.programs.group import GroupProgram
from gan_jax.sharding import make_mesh, replicated

# --- cadence --------------------------------------------------------------------------------


def test_every_is_due_at_its_multiples_and_at_the_end():
  every = loop.Every(5)
  assert [s for s in range(1, 13) if every.due(s, 12)] == [5, 10, 12]
  assert every.due(3, 3)  # a run shorter than n still logs / saves at its end
  assert [every.next_due(s) for s in (0, 4, 5, 9)] == [5, 5, 10, 10]


def test_every_if_reached_skips_the_end_of_a_short_run():
  every = loop.Every(5, 'if_reached')
  assert not every.due(3, 3)  # a trial run shorter than n: no costly action at its end
  assert every.due(12, 12) and every.due(5, 5) and not every.due(11, 12)


def test_every_never_at_end_and_every_zero():
  assert [s for s in range(1, 13) if loop.Every(5, 'never').due(s, 12)] == [5, 10]
  off = loop.Every(0)
  assert not any(off.due(s, 12) for s in range(1, 13)) and off.next_due(3) is None


def _old_call_sizes(config, start, stop):
  """call_sizes as gan_jax/train.py wrote it before the loop existed (the reference)."""
  t = config.train
  every = [t.log_every, t.sample_every, config.checkpoint.every_steps]
  every.append(config.eval.every_steps if 'eval' in config else 0)
  every = [e for e in every if e]
  step, out = start, []
  while step < stop:
    due = min([stop] + [(step // e + 1) * e for e in every])
    n = min(t.steps_per_call, due - step)
    out.append((step, n))
    step += n
  return out


def _cadence_config(log, sample, ckpt, ev, per_call, with_eval=True):
  c = ml_collections.ConfigDict()
  c.train = dict(log_every=log, sample_every=sample, steps_per_call=per_call)
  c.checkpoint = dict(every_steps=ckpt)
  if with_eval:
    c.eval = dict(every_steps=ev)
  return c


def test_call_sizes_are_what_they_were():
  for log, sample, ckpt, ev, per_call, with_eval in itertools.product(
      (1, 7, 50), (0, 6), (5, 25), (0, 9), (1, 4, 100), (True, False)
  ):
    config = _cadence_config(log, sample, ckpt, ev, per_call, with_eval)
    for start, stop in ((0, 60), (25, 61), (60, 60)):
      assert loop.call_sizes(config, start, stop) == _old_call_sizes(config, start, stop)


def test_calls_end_at_each_metrics_own_interval():
  """eval.per_metric intervals are due like eval.every_steps: a call of the step ends there."""
  config = _cadence_config(100, 0, 100, 0, 100)
  config.eval.per_metric = {'kid': {'num_samples': 0, 'every_steps': 30}}
  config.eval.every_steps = 40
  calls = [(0, 30), (30, 10), (40, 20), (60, 20), (80, 10), (90, 10)]
  assert loop.call_sizes(config, 0, 100) == calls
  evaluate = loop.cadence(config)['eval']
  assert [s for s in range(1, 101) if evaluate.due(s, 100)] == [30, 40, 60, 80, 90, 100]
  assert not evaluate.due(25, 25)  # a run shorter than every interval skips the end's evaluation


def test_split_calls_end_where_any_action_is_due():
  calls = loop.split_calls(0, 20, 6, [loop.Every(8), loop.Every(0), loop.Every(5)])
  assert calls == [(0, 5), (5, 3), (8, 2), (10, 5), (15, 1), (16, 4)]


def test_prefetch_yields_every_call_in_order_placed():
  loaded = []

  def load(step, n):
    loaded.append(step)
    return np.full((n, 2), step)

  out = list(loop.prefetch([(0, 2), (2, 1), (3, 3)], load, lambda x: x.sum(), depth=2))
  assert [(s, n, int(v)) for s, n, v in out] == [(0, 2, 0), (2, 1, 4), (3, 3, 18)]
  assert sorted(loaded) == [0, 2, 3]


# --- a toy program ----------------------------------------------------------------------------

TRUE_W = np.array([2.0, -3.0], np.float32)


class LeastSquares:
  """A training program that is no GAN: w fit to y = x @ TRUE_W by SGD, B examples a step, the
  data of step k a function of (seed, k). Its state is a dict with a step counter."""

  batch_axis = 1  # batches: (iterations, B, 2)

  def __init__(self, workdir, num_steps=20, per_call=3, lr=0.2, seed=0, batch=8):
    self.workdir, self.seed, self.batch = workdir, seed, batch
    self.num_steps, self.steps_per_call = num_steps, per_call
    self.cadence = {
        'log': loop.Every(4),
        'sample': loop.Every(10),
        'eval': loop.Every(0, 'if_reached'),
        'checkpoint': loop.Every(5),
    }
    self.mesh = make_mesh()
    self.where, self.subject = f'--workdir={workdir}', workdir
    self.saved_where = f'checkpoint saved in {workdir}'
    self.lines, self.resumed = [], None

    def one(w, x):
      loss, g = jax.value_and_grad(lambda w: jnp.mean((x @ w - x @ TRUE_W) ** 2))(w)
      return w - lr * g, loss

    def step(state, xs):
      w, losses = jax.lax.scan(one, state['w'], xs)
      return {'w': w, 'step': state['step'] + xs.shape[0]}, {'loss': jnp.mean(losses)}

    self._step = jax.jit(step)

  def checkpoints(self):
    self.ckpts = checkpoint.Checkpoints(self.workdir, keep=2)
    return self.ckpts

  def abstract_state(self):
    rep = replicated(self.mesh)
    return {
        'w': jax.ShapeDtypeStruct((2,), jnp.float32, sharding=rep),
        'step': jax.ShapeDtypeStruct((), jnp.int32, sharding=rep),
    }

  def restored(self, step, state, metadata):
    self.resumed = (step, metadata['note'])
    return state

  def init_state(self):
    return {'w': jnp.zeros(2, jnp.float32), 'step': jnp.zeros((), jnp.int32)}

  def begin(self):
    pass

  def host_batches(self, step, n):
    rngs = [np.random.default_rng([self.seed, k]) for k in range(step, step + n)]
    return np.stack([r.normal(size=(self.batch, 2)).astype(np.float32) for r in rngs])

  def step(self, state, batches, first_step):
    del first_step
    return self._step(state, batches)

  def running(self):
    return True

  def check_faults(self, step):
    pass

  def log(self, step, metrics, rate, progress):
    self.lines.append(progress.line(step, None, metrics))

  def sample(self, state, step):
    with open(os.path.join(self.workdir, f'w_{step}.txt'), 'w') as f:
      f.write(str(np.asarray(state['w'])))

  def evaluate(self, state, step):
    raise AssertionError('eval is never due')

  def save(self, state, step):
    self.ckpts.save(state, step, metadata={'note': f'toy {step}'})

  def close(self):
    self.ckpts.close()

  def end(self, stopped):
    pass


def test_the_programs_provide_every_method_of_the_interface():
  methods = {n for n, v in vars(Program).items() if callable(v) and not n.startswith('_')}
  assert {'step', 'host_batches', 'restored', 'save', 'check_faults', 'end'} <= methods
  for program in (GanProgram, GroupProgram, LeastSquares):
    assert not methods - set(dir(program)), (program.__name__, methods - set(dir(program)))


def test_a_toy_program_trains_logs_and_saves_at_its_cadence(tmp_path, capsys):
  program = LeastSquares(str(tmp_path))
  state, stopped = loop.train(program)
  assert not stopped and int(state['step']) == 20
  assert [line.split()[1] for line in program.lines] == ['4/20', '8/20', '12/20', '16/20', '20/20']
  assert checkpoint.Checkpoints(str(tmp_path), read_only=True).all_steps() == [15, 20]  # keep=2
  assert sorted(f for f in os.listdir(tmp_path) if f.startswith('w_')) == ['w_10.txt', 'w_20.txt']
  np.testing.assert_allclose(state['w'], TRUE_W, atol=0.05)  # it did learn
  assert 'Compiled and ran step 3 in' in capsys.readouterr().out
  again = LeastSquares(str(tmp_path))
  loop.train(again)
  assert again.resumed == (20, 'toy 20') and again.lines == []
  assert f'Nothing to do: {tmp_path} is already at step 20 of 20.' in capsys.readouterr().out


def test_a_toy_program_resumed_from_the_middle_ends_as_an_uninterrupted_one(tmp_path, capsys):
  whole, _ = loop.train(LeastSquares(str(tmp_path / 'whole')))
  calls = iter(range(100))
  first = LeastSquares(str(tmp_path / 'split'))
  _, stopped = loop.train(first, should_stop=lambda: next(calls) == 2)  # after the third call
  assert stopped and first.lines == ['step 4/20 loss=' + first.lines[0].split('loss=')[1]]
  assert f'Stopped at step 5; checkpoint saved in {tmp_path / "split"}.' in capsys.readouterr().out
  second = LeastSquares(str(tmp_path / 'split'))
  resumed, stopped = loop.train(second)
  assert not stopped and second.resumed == (5, 'toy 5')
  assert [line.split()[1] for line in second.lines] == ['8/20', '12/20', '16/20', '20/20']
  np.testing.assert_array_equal(np.asarray(resumed['w']), np.asarray(whole['w']))
  assert int(resumed['step']) == 20


def test_a_failure_in_the_program_still_closes_it(tmp_path):
  program = LeastSquares(str(tmp_path))
  closed = []
  program.close = lambda: (closed.append(True), program.ckpts.close())

  def fail(*args):
    raise RuntimeError('boom')

  program.sample = fail
  with pytest.raises(RuntimeError, match='boom'):
    loop.train(program)
  assert closed == [True]
