"""Vectorized groups (gan_jax/group_train.py, launch/groups.py): a run trained in a group equals
the run trained alone, a diverging run stops alone, a group resumes bit for bit, groups are split
by the fields that shape the program, and bad input is one line."""

import os

import numpy as np
import pytest

from configs import common
from gan_jax import checkpoint, config as config_lib, train, workdir
from gan_jax.errors import RunFailed, UserError
from gan_jax.programs import gan as programs_gan
from gan_jax.experiment import restore
from gan_jax.losses import LOSSES
from gan_jax.group_train import check_group, row, train_group
from gan_jax.train import train_and_evaluate
from launch import groups, sweep
from tests.conftest import tiny_config
from tests.test_launch import TINY_SWEEP, env, launch, parse  # pylint: disable=unused-import (fixtures)
from tests.test_reliability import cache_dir, mini_config  # pylint: disable=unused-import


def run_config(seed, lr, steps=200, base=tiny_config):
  c = base(num_steps=steps, steps_per_call=25, log_every=50)
  c.checkpoint.every_steps = 100
  c.seed = seed
  c.optim.g.lr = c.optim.d.lr = lr
  return c


def arrays(state):
  return checkpoint.host_arrays(state)


def test_runs_in_a_group_equal_the_same_runs_alone(tmp_path):
  """Two seeds x two learning rates in one group, 200 steps of the MLP pair with BatchNorm,
  spectral norm and dropout; each run's own workdir reads back like a run trained alone."""
  runs = [(seed, lr) for seed in (0, 1) for lr in (1e-3, 3e-4)]
  dirs = [str(tmp_path / f'run{i}') for i in range(4)]
  states, stopped = train_group([run_config(*r) for r in runs], dirs, str(tmp_path / 'group'))
  assert not stopped
  for i in (0, 3):  # (seed 0, lr 1e-3) and (seed 1, lr 3e-4): both seeds, both rates
    alone, _ = train_and_evaluate(run_config(*runs[i]), str(tmp_path / f'alone{i}'))
    a, b = arrays(alone), arrays(row(states, i))
    assert a.keys() == b.keys()
    for name in a:
      np.testing.assert_allclose(b[name], a[name], rtol=1e-3, atol=1e-4, err_msg=name)
  assert not np.allclose(
      arrays(row(states, 0))['g_params.Dense_0.kernel'],
      arrays(row(states, 1))['g_params.Dense_0.kernel'],
  )  # the two learning rates of seed 0 did train differently
  for i, d in enumerate(dirs):  # every run looks like a run
    assert workdir.checkpoint_steps(d) == [100, 200]
    assert workdir.read_config(d).seed == runs[i][0]
    assert workdir.read_scalars(d)['g_loss'][-1][0] == 200
    exp, state = restore(d)
    for name, x in arrays(state).items():
      np.testing.assert_array_equal(x, arrays(row(states, i))[name])
  assert workdir.checkpoint_steps(str(tmp_path / 'group')) == [100, 200]


def remedies_config(seed, lr):
  """The collapse study's remedies in one program: unrolled D (2 steps), packs of 2, an
  f-GAN loss, annealed instance noise (its weight varies between the runs of a group)."""
  c = run_config(seed, lr, steps=60, base=mini_config)
  c.checkpoint.every_steps = 60
  c.train.unroll_steps = 2
  c.d_input.pack = 2
  c.loss = common.entry(LOSSES, 'f_gan', divergence='kl')
  c.reg.r1 = 0.0
  c.d_input.instance_noise, c.d_input.instance_noise_steps = 0.1 * (1 + seed), 40
  return c


@pytest.mark.slow  # ~110 s: every remedy as a group and alone; the plain group equality stays in CI
def test_a_group_of_the_collapse_studys_remedies_equals_the_runs_alone(tmp_path):
  """What configs/sweeps/collapse_2d.py runs vectorized: the unrolled copies of D take the
  run's own traced learning rate, packing and the noise act per run."""
  runs = [(0, 1e-3), (1, 3e-4)]
  states, stopped = train_group(
      [remedies_config(*r) for r in runs],
      [str(tmp_path / f'run{i}') for i in range(2)],
      str(tmp_path / 'group'),
  )
  assert not stopped
  for i, r in enumerate(runs):
    alone, _ = train_and_evaluate(remedies_config(*r), str(tmp_path / f'alone{i}'))
    a, b = arrays(alone), arrays(row(states, i))
    for name in a:
      np.testing.assert_allclose(b[name], a[name], rtol=1e-3, atol=1e-4, err_msg=name)


@pytest.fixture
def nan_data_for_seed(monkeypatch):
  """Run `seed`'s real data is NaN from iteration `at` on; the other runs' data is untouched."""

  def inject(seed, at):
    original = programs_gan.host_batches

    def with_nan(exp, step, n, seed_=None):
      local = original(exp, step, n, seed_)
      if seed_ == seed and step + n > at:
        x = np.array(local['x'])
        x[max(at - step, 0) :] = np.nan
        local = {**local, 'x': x}
      return local

    monkeypatch.setattr(programs_gan, 'host_batches', with_nan)

  return inject


@pytest.mark.slow  # ~70 s: three groups; the group equality and its resumes stay in CI
def test_a_diverging_run_stops_alone_while_its_group_finishes(tmp_path, nan_data_for_seed, capsys):
  nan_data_for_seed(1, at=30)
  configs = [run_config(seed, 1e-3, steps=100, base=mini_config) for seed in (0, 1, 2)]
  for c in configs:
    c.checkpoint.every_steps = 25
  dirs = [str(tmp_path / f'seed{s}') for s in (0, 1, 2)]
  with pytest.raises(RunFailed, match=r'1 of 3 runs stopped on faults \(seed1; .*the other 2'):
    train_group(configs, dirs, str(tmp_path / 'group'))
  out = capsys.readouterr().out
  assert 'error: seed1: step 31: the discriminator' in out
  assert workdir.checkpoint_steps(dirs[1]) == [25]  # its fault came before the save of step 50
  assert workdir.checkpoint_steps(dirs[0]) == workdir.checkpoint_steps(dirs[2]) == [50, 75, 100]
  with open(os.path.join(dirs[1], workdir.LOG_FILE)) as f:
    log = f.read()
  assert 'error: step 31: ' in log and 'not finite' in log  # what launch.report flags
  exp, last_good = restore(dirs[1])
  assert all(np.all(np.isfinite(x)) for x in arrays(last_good).values())
  # The others trained exactly as without the faulty run: compare with a group of two.
  pair, _ = train_group(
      [configs[0], configs[2]], [str(tmp_path / 'p0'), str(tmp_path / 'p2')], str(tmp_path / 'pair')
  )
  for i, j in ((0, 0), (2, 1)):
    for name, x in arrays(row(pair, j)).items():
      np.testing.assert_array_equal(x, arrays(restore(dirs[i])[1])[name])
  # A rerun resumes the group at its end and reports the stopped run again.
  with pytest.raises(RunFailed, match='seed1'):
    train_group(configs, dirs, str(tmp_path / 'group'))


class Interrupted(Exception):
  pass


@pytest.mark.slow  # ~32 s: three group trainings; a group killed between saves resumes in CI
def test_an_interrupted_group_resumes_bit_identical(tmp_path):
  """Killed between checkpoints (as kill -9 would: nothing saved after step 50), the rerun
  resumes from the group's checkpoint and ends where an uninterrupted group ends."""
  configs = [
      run_config(seed, lr, steps=100, base=mini_config) for seed, lr in ((0, 1e-3), (1, 5e-4))
  ]
  for c in configs:
    c.checkpoint.every_steps = 50
  whole, _ = train_group(configs, [str(tmp_path / 'w0'), str(tmp_path / 'w1')], str(tmp_path / 'w'))
  calls = []

  def kill_at_75():
    calls.append(1)
    if len(calls) == 3:  # after the call that ends at step 75
      raise Interrupted()
    return False

  dirs, group = [str(tmp_path / 'k0'), str(tmp_path / 'k1')], str(tmp_path / 'k')
  with pytest.raises(Interrupted):
    train_group(configs, dirs, group, should_stop=kill_at_75)
  assert workdir.checkpoint_steps(group) == [50]
  resumed, _ = train_group(configs, dirs, group)
  a, b = arrays(whole), arrays(resumed)
  for name in a:
    np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_a_group_killed_between_its_runs_first_saves_and_its_own_resumes(tmp_path, monkeypatch):
  configs = [run_config(seed, 1e-3, steps=100, base=mini_config) for seed in (0, 1)]
  for c in configs:
    c.checkpoint.every_steps = 50
  dirs, group = [str(tmp_path / 'r0'), str(tmp_path / 'r1')], str(tmp_path / 'g')
  save = checkpoint.Checkpoints.save

  def killed_at_the_group_save(self, *args, **kwargs):
    if self.directory.startswith(os.path.abspath(group)):
      raise Interrupted()
    return save(self, *args, **kwargs)

  monkeypatch.setattr(checkpoint.Checkpoints, 'save', killed_at_the_group_save)
  with pytest.raises(Interrupted):
    train_group(configs, dirs, group)
  assert workdir.checkpoint_steps(dirs[0]) == [50] and not workdir.checkpoint_steps(group)
  monkeypatch.setattr(checkpoint.Checkpoints, 'save', save)
  states, _ = train_group(configs, dirs, group)  # starts over; the runs' step 50 is the same
  assert workdir.checkpoint_steps(group) == [50, 100]
  with pytest.raises(UserError, match='has checkpoints of its own'):
    train_group(configs, dirs, str(tmp_path / 'another_group'))


def test_groups_hold_only_runs_of_one_program(make_config):
  base = make_config()
  other_lr, other_seed, other_weight = (
      base.copy_and_resolve_references(),
      base.copy_and_resolve_references(),
      base.copy_and_resolve_references(),
  )
  other_lr.optim.d.lr, other_seed.seed, other_weight.reg.r1 = 1e-2, 7, 3.0
  key = config_lib.program_key(base)
  assert key == config_lib.program_key(other_lr) == config_lib.program_key(other_seed)
  assert key == config_lib.program_key(other_weight)  # R1 on in both: its weight may differ
  check_group([base, other_lr, other_seed, other_weight])
  off, loss, width = (base.copy_and_resolve_references() for _ in range(3))
  off.reg.r1, loss.loss.name, width.model.g_hidden = 0.0, 'hinge', (8, 8)
  for changed, field in ((off, 'reg.r1'), (loss, 'loss.name'), (width, 'model.g_hidden')):
    assert config_lib.program_key(changed) != key
    with pytest.raises(UserError, match=rf'differ in config\.{field} .*not vectorizable'):
      check_group([base, changed])
  for field in config_lib.VECTORIZABLE:  # each declared field is a config field
    assert field in config_lib.flatten(config_lib.with_defaults(base)), field


SPLIT_SWEEP = """for lr in (1e-3, 3e-4):
    for seed in (0, 1):
      add(**{'optim.d.lr': lr, 'seed': seed})
  for seed in (0, 1):
    add(**{'loss.name': 'hinge', 'seed': seed})
  add(**{'reg.r1': 0.0, 'seed': 0})"""


def test_the_dry_run_prints_the_groups_split_by_what_shapes_the_program(tmp_path, parse, capsys):
  path = tmp_path / 'split.py'
  path.write_text(TINY_SWEEP.format(body=SPLIT_SWEEP))
  root = str(tmp_path / 'runs')
  code, out, err = parse(
      [f'--config={path}', f'--workdir={root}', '--vectorize', '--max_group=3', '--dry_run'], capsys
  )
  assert code == 0, err
  lines = out.strip().splitlines()
  assert lines[0] == (
      '# 7 runs: 2 vectorized group(s), 2 run(s) alone; groups split by loss.name, reg.r1'
  )
  plan = [l.split(': ')[2] for l in lines if l.startswith('# group')]
  assert plan == [
      'lr=0.001,seed=0, lr=0.001,seed=1, lr=0.0003,seed=0',  # at most 3 runs per group
      'loss=hinge,seed=0, loss=hinge,seed=1',
  ]
  alone = [l for l in lines if 'experiments.main' in l]  # the fourth lr run, and R1 off
  assert len(alone) == 2 and 'lr=0.0003,seed=1' in alone[0] and 'r1=0.0,seed=0' in alone[1]
  assert sum('experiments.train_group' in l for l in lines) == 2
  assert not os.path.exists(root)


def test_bad_vectorize_input_is_one_error_line_and_nothing_written(
    tmp_path, parse, capsys, make_config
):
  path = tmp_path / 'split.py'
  path.write_text(TINY_SWEEP.format(body=SPLIT_SWEEP))
  root = str(tmp_path / 'runs')
  code, out, err = parse(
      [f'--config={path}', f'--workdir={root}', '--vectorize', '--max_group=0'], capsys
  )
  assert code == 2 and err.strip() == 'error: --max_group=0: must be >= 1', err
  assert not os.path.exists(root)
  runs = [sweep.Run(f'seed={s}', {'seed': s}, None, f'seed={s}') for s in range(4)]
  configs = [make_config() for _ in runs]
  for s, c in enumerate(configs):
    c.seed = s
  jobs, _ = groups.plan(runs, configs, root, max_group=4)
  with pytest.raises(
      UserError, match=r'the group of seed=0 and 3 more needs ~0\.\d+ GiB, more than'
  ):
    groups.check_memory(jobs, {r.name: c for r, c in zip(runs, configs)}, limit=1000)
  groups.check_memory(jobs, {r.name: c for r, c in zip(runs, configs)})  # fits here


@pytest.mark.slow
def test_a_vectorized_sweep_trains_its_groups_then_reports_them(tmp_path, env):
  path = tmp_path / 'split.py'
  path.write_text(TINY_SWEEP.format(body=SPLIT_SWEEP))
  root = str(tmp_path / 'runs')
  result = launch([f'--config={path}', f'--workdir={root}', '--vectorize', '--parallel=2'], env)
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  assert '7 runs in 3 jobs' in result.stdout
  assert 'os.fork()' not in result.stderr  # JAX's fork warning, once per started job
  names = [r['name'] for r in sweep.read_sweep(root)['runs']]
  assert all(workdir.is_finished(os.path.join(root, n)) for n in names)
  from launch import report  # pylint: disable=g-import-not-at-top

  report.report(root, no_eval=True)
  with open(os.path.join(root, 'results.csv')) as f:
    rows = f.read().splitlines()
  assert len(rows) == 1 + 7 and all(',finished,' in r for r in rows[1:])
  again = launch([f'--config={path}', f'--workdir={root}', '--vectorize'], env)
  assert again.returncode == 0 and '3 of 3 jobs already finished: skipped' in again.stdout
