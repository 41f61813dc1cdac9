"""launch/: sweeps end to end (local backend, rerun, resume after Ctrl-C, a failing run, bad
input), the report, the Slurm script, and a real two-process jax.distributed run.

Every process shares one persistent compilation cache, so that each step function compiles once.
"""

import csv
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from absl import flags

from gan_jax import checkpoint, workdir
from launch import pool, report, sweep
from tests.conftest import ROOT, run_module

TINY_SWEEP = """
from configs import common, mixture_2d

def get_config(arg=None):
  preset, overrides = common.parse_arg(arg)
  c = mixture_2d.get_config(preset or 'ring8')
  c.model.g_hidden = (16, 16)
  c.model.d_hidden = (16, 16)
  c.train.update(dict(num_steps=40, batch_size=16, log_every=10, sample_every=40,
                      steps_per_call=10, num_samples=64))
  c.checkpoint.every_steps = 20
  c.eval.every_steps = 20
  c.eval.num_samples = 200
  return common.apply_overrides(c, overrides, arg)

def sweep(add, arg=None):
  {body}
"""

THREE_BY_TWO = """for loss in ('non_saturating', 'hinge', 'least_squares'):
    for seed in (0, 1):
      add(**{'loss.name': loss, 'seed': seed})"""


@pytest.fixture(scope='module')
def env():
  """Subprocess environment: this repository, and the session's compilation cache (conftest.py):
  the sweeps here and in test_group_train compile the same tiny programs."""
  return {
      **os.environ,
      'PYTHONPATH': ROOT,
      'JAX_PLATFORMS': 'cpu',
      'JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS': '0',
  }


def sweep_file(folder, body, name='tiny_sweep.py'):
  path = folder / name
  path.write_text(TINY_SWEEP.format(body=body))
  return str(path)


def launch(args, env, timeout=600):
  return subprocess.run(
      [sys.executable, '-m', 'launch.sweep', *args],
      cwd=ROOT,
      env=env,
      capture_output=True,
      text=True,
      timeout=timeout,
  )


def final_arrays(run):
  """(step, {name: array}) of a run's newest checkpoint, restored onto this process's device."""
  from gan_jax.experiment import build_experiment  # pylint: disable=g-import-not-at-top

  exp = build_experiment(workdir.read_config(run), num_devices=1)
  step = workdir.checkpoint_steps(run)[-1]
  state = checkpoint.Checkpoints(run, read_only=True).restore(exp.abstract_state, step)
  return step, checkpoint.host_arrays(state)


@pytest.fixture(scope='module')
def tiny_sweep(tmp_path_factory, env):
  """The 3 x 2 tiny sweep run with --parallel=2: (root, CompletedProcess)."""
  folder = tmp_path_factory.mktemp('sweep')
  config = sweep_file(folder, THREE_BY_TWO)
  root = str(folder / 'runs')
  result = launch([f'--config={config}', f'--workdir={root}', '--parallel=2'], env)
  return config, root, result


@pytest.mark.slow
def test_a_tiny_sweep_runs_end_to_end_then_the_report_and_a_rerun_skips(tiny_sweep, env):
  config, root, result = tiny_sweep
  assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
  names = [
      f'loss={l},seed={s}' for l in ('non_saturating', 'hinge', 'least_squares') for s in (0, 1)
  ]
  record = json.load(open(os.path.join(root, sweep.SWEEP_FILE)))
  assert [r['name'] for r in record['runs']] == names
  assert record['runs'][2]['overrides'] == {'loss.name': 'hinge', 'seed': 0}
  for name in names:
    assert workdir.is_finished(os.path.join(root, name)), name
    assert list(workdir.read_results(os.path.join(root, name))) == [20, 40]
  assert '6/6 done, 0 running, 0 failed' in result.stdout

  report.report(root, no_eval=True)
  rows = list(csv.DictReader(open(os.path.join(root, 'results.csv'))))
  assert [r['name'] for r in rows] == names
  assert {r['final_step'] for r in rows} == {'40'} and rows[3]['seed'] == '1'
  assert rows[0]['loss.name'] == 'non_saturating' and 'modes.reverse_kl' in rows[0]
  table = open(os.path.join(root, 'results.md')).read()
  assert '## ring8' in table and '| loss=hinge | 2 |' in table and 'modes.modes' in table
  for kind in ('metrics', 'losses', 'samples'):
    assert os.path.getsize(os.path.join(root, f'{kind}_ring8.png')) > 1000
  page = open(os.path.join(root, 'report.html')).read()  # its base: get_config() of the file
  assert f'get_config() of {config}' in page
  assert 'loss.name: &#x27;non_saturating&#x27; -&gt; &#x27;hinge&#x27;' in page

  lost = os.path.join(root, names[0], 'eval', '40.json')
  os.remove(lost)  # a run without results at its final step: --no_eval names it, else evaluated
  report.report(root, no_eval=True)
  assert f'Runs without metrics: {names[0]}' in open(os.path.join(root, 'results.md')).read()
  report.report(root, python=sys.executable)
  assert (
      os.path.isfile(lost)
      and 'Runs without metrics' not in open(os.path.join(root, 'results.md')).read()
  )

  again = launch([f'--config={config}', f'--workdir={root}', '--parallel=2'], env)
  assert again.returncode == 0, again.stderr
  assert '6 of 6 runs already finished: skipped' in again.stdout
  assert '[sweep] start' not in again.stdout


@pytest.mark.slow
def test_a_failing_run_is_reported_while_the_others_finish(tmp_path, env):
  body = """add(**{'seed': 0})
  add(**{'seed': 1, 'optim.d.lr': 1e30, 'optim.g.lr': 1e30})"""
  config = sweep_file(tmp_path, body)
  root = str(tmp_path / 'runs')
  result = launch([f'--config={config}', f'--workdir={root}', '--parallel=2'], env)
  assert result.returncode == 1, result.stdout + result.stderr
  assert workdir.is_finished(os.path.join(root, 'seed=0'))
  assert not workdir.is_finished(os.path.join(root, 'seed=1,d.lr=1e+30,g.lr=1e+30'))
  assert '[sweep] failed: seed=1,d.lr=1e+30,g.lr=1e+30 (exit 1)' in result.stdout
  assert 'error: step' in result.stdout.split('[sweep] failed:')[1]  # the tail of its log
  assert '1 failed' in result.stdout


@pytest.mark.slow
def test_ctrl_c_saves_and_the_rerun_resumes_bit_identical(tmp_path, env):
  body = """add(**{'train.num_steps': 6000, 'train.log_every': 500, 'train.sample_every': 0,
         'checkpoint.every_steps': 500, 'eval.every_steps': 0})"""
  config = sweep_file(tmp_path, body)
  root = str(tmp_path / 'runs')
  (only_run,) = sweep.expand(sweep.load_module(config)[0], None)
  name = only_run.name
  args = [f'--config={config}', f'--workdir={root}', '--parallel=1']
  reference = subprocess.Popen(  # the same run uninterrupted, meanwhile
      [
          sys.executable,
          '-m',
          'experiments.main',
          f'--config={config}:{only_run.arg}',
          f'--workdir={tmp_path}/ref',
      ],
      cwd=ROOT,
      env=env,
      stdout=subprocess.DEVNULL,
      stderr=subprocess.DEVNULL,
  )
  proc = subprocess.Popen(
      [sys.executable, '-m', 'launch.sweep', *args],
      cwd=ROOT,
      env=env,
      stdout=subprocess.PIPE,
      stderr=subprocess.STDOUT,
      text=True,
  )
  run = os.path.join(root, name)
  deadline = time.time() + 300
  while not workdir.checkpoint_steps(run) and time.time() < deadline and proc.poll() is None:
    time.sleep(0.05)
  proc.send_signal(signal.SIGINT)
  out, _ = proc.communicate(timeout=300)
  assert proc.returncode == 130, out
  stopped_at = workdir.checkpoint_steps(run)[-1]
  assert stopped_at < 6000, 'the run ended before the signal: make it longer'
  assert 'Stopped at step' in open(os.path.join(run, sweep.LOG_FILE)).read()
  assert 'stopped ' + name in out and 'rerun the same command' in out

  again = launch(args, env)
  assert again.returncode == 0, again.stdout + again.stderr
  assert (
      f'Resumed from {run} at step {stopped_at}' in open(os.path.join(run, sweep.LOG_FILE)).read()
  )
  assert reference.wait(timeout=300) == 0
  step, resumed = final_arrays(run)
  ref_step, uninterrupted = final_arrays(str(tmp_path / 'ref'))
  assert step == ref_step == 6000
  assert resumed.keys() == uninterrupted.keys()
  for key in resumed:
    np.testing.assert_array_equal(resumed[key], uninterrupted[key], err_msg=key)


def test_the_slurm_dry_run_prints_an_array_with_resources_and_writes_nothing(tmp_path, env):
  config = sweep_file(tmp_path, THREE_BY_TWO)
  root = str(tmp_path / 'slurm_runs')
  result = launch(
      [
          f'--config={config}',
          f'--workdir={root}',
          '--backend=slurm',
          '--dry_run',
          '--parallel=3',
          '--partition=gpu',
          '--gpus_per_run=4',
          '--nodes_per_run=2',
          '--time=2:00:00',
      ],
      env,
  )
  assert result.returncode == 0, result.stderr
  script = result.stdout
  for line in (
      '#SBATCH --array=0-5%3',
      '#SBATCH --partition=gpu',
      '#SBATCH --nodes=2',
      '#SBATCH --ntasks-per-node=4',
      '#SBATCH --gpus-per-task=1',
      '#SBATCH --time=2:00:00',
      'exec srun',
  ):
    assert line in script, line
  assert script.count('-m experiments.main') == 6
  assert f'--workdir={root}/loss=hinge,seed=1' in script
  assert not os.path.exists(root)


@pytest.fixture(scope='module')
def parse():
  """Runs launch.sweep.main in this process with the given flags: (exit code, stdout, stderr)."""
  if 'parallel' not in flags.FLAGS:
    sweep.define_flags()

  def run(args, capsys):
    flags.FLAGS.unparse_flags()
    flags.FLAGS(['launch.sweep', *args])
    try:
      code = sweep.main(['launch.sweep'])
    except SystemExit as e:
      code = e.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err

  return run


def test_bad_input_is_one_error_line_exit_2_and_nothing_written(tmp_path, parse, capsys):
  good = sweep_file(tmp_path, THREE_BY_TWO)
  unknown_field = sweep_file(tmp_path, "add(**{'train.nope': 1, 'seed': 0})", 'unknown.py')
  bad_value = sweep_file(
      tmp_path, "add(seed=0)\n  add(**{'train.batch_size': -1, 'seed': 1})", 'bad_value.py'
  )
  no_sweep = tmp_path / 'no_sweep.py'
  no_sweep.write_text('def get_config(arg=None):\n  return None\n')
  a_file = tmp_path / 'a_file'
  a_file.write_text('')
  root = str(tmp_path / 'runs')
  cases = [
      ([f'--config={tmp_path}/missing.py', f'--workdir={root}'], 'no such sweep file'),
      ([f'--config={no_sweep}', f'--workdir={root}'], 'defines no sweep()'),
      ([f'--config={unknown_field}', f'--workdir={root}'], 'unknown field train.nope'),
      (
          [f'--config={bad_value}', f'--workdir={root}'],
          'run batch_size=-1,seed=1: config.train.batch_size=-1: must be >= 1',
      ),
      ([f'--config={good}', f'--workdir={a_file}/runs'], 'is a file, not a folder'),
      ([f'--config={good}', f'--workdir={root}', '--parallel=0'], '--parallel=0: must be >= 1'),
      ([f'--config={good}', f'--workdir={root}', '--only=nothing'], '--only=nothing: matches none'),
  ]
  for args, message in cases:
    code, out, err = parse(args, capsys)
    assert code == 2, (args, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and message in lines[0], (args, err)
    assert not os.path.exists(root), args


def free_port():
  with socket.socket() as s:
    s.bind(('127.0.0.1', 0))
    return s.getsockname()[1]


MULTI_CONFIG = """
from tests.test_reliability import mini_config

def get_config(arg=None):
  c = mini_config(num_steps=10)
  c.train.sample_every = 10
  return c
"""


@pytest.mark.slow
def test_two_processes_train_like_one_with_four_devices_and_only_process_0_writes(tmp_path, env):
  config = tmp_path / 'multi.py'
  config.write_text(MULTI_CONFIG)
  port, procs = free_port(), []
  for pid in (0, 1):
    procs.append(
        subprocess.Popen(
            [
                sys.executable,
                '-m',
                'experiments.main',
                f'--config={config}',
                f'--workdir={tmp_path}/two',
                f'--coordinator_address=127.0.0.1:{port}',
                '--num_processes=2',
                f'--process_id={pid}',
            ],
            cwd=ROOT,
            env={**env, 'JAX_NUM_CPU_DEVICES': '2'},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    )
  one = subprocess.run(
      [sys.executable, '-m', 'experiments.main', f'--config={config}', f'--workdir={tmp_path}/one'],
      cwd=ROOT,
      env={**env, 'XLA_FLAGS': '--xla_force_host_platform_device_count=4'},
      capture_output=True,
      text=True,
      timeout=600,
  )
  assert one.returncode == 0, one.stderr[-3000:]
  outs = [p.communicate(timeout=600)[0] for p in procs]
  assert [p.returncode for p in procs] == [0, 0], outs[0][-2000:] + outs[1][-2000:]
  step, two = final_arrays(str(tmp_path / 'two'))
  _, four = final_arrays(str(tmp_path / 'one'))
  assert step == 10 and two.keys() == four.keys() and len(two) > 10
  for key in two:
    np.testing.assert_allclose(two[key], four[key], rtol=1e-5, atol=1e-6, err_msg=key)
  written = sorted(os.listdir(tmp_path / 'two'))
  assert len([n for n in written if n.startswith('events.out.tfevents')]) == 1  # process 0's
  assert os.listdir(tmp_path / 'two' / 'samples') == ['step_00000010.png']
  assert {'config.json', 'data.json', 'checkpoints', 'samples'} <= set(written)


def test_run_names_are_short_stable_and_values_read_back():
  runs = sweep.expand(
      type(
          'M',
          (),
          {
              'sweep': staticmethod(
                  lambda add, arg: [
                      add(config_arg='ring8', **{'loss.name': 'hinge', 'reg.r1': 0.0, 'seed': 1}),
                      add(
                          config_arg='ring8',
                          **{
                              'loss.name': 'hinge',
                              'model.g_hidden': (64, 64),
                              'optim.d.lr': 1e-4,
                              'optim.g.lr': 2e-4,
                              'seed': 1,
                          },
                      ),
                  ]
              )
          },
      )(),
      None,
  )
  assert runs[0].name == 'ring8,loss=hinge,r1=0.0,seed=1'
  assert runs[0].arg == 'ring8,loss.name=hinge,reg.r1=0.0,seed=1'
  assert runs[1].name == 'ring8,loss=hinge,g_hidden=(64,64),d.lr=0.0001,g.lr=0.0002,seed=1'
  from configs import common, mixture_2d  # pylint: disable=g-import-not-at-top

  c = mixture_2d.get_config(runs[1].arg)
  assert c.model.g_hidden == (64, 64) and c.optim.d.lr == 1e-4 and c.data.name == 'ring8'
  from configs import nsgan  # pylint: disable=g-import-not-at-top

  arg = f"fashion_mnist_idx,data.data_dir={sweep.format_value('/x,y=z')}"
  assert common.parse_arg(arg) == ('fashion_mnist_idx', {'data.data_dir': "'/x,y=z'"})
  assert nsgan.get_config(arg).data.data_dir == '/x,y=z'


def test_the_multi_process_launcher_is_detected_from_the_environment():
  from gan_jax import distributed  # pylint: disable=g-import-not-at-top

  assert distributed.launcher({}) is None
  assert (
      distributed.launcher({'SLURM_JOB_ID': '1', 'SLURM_NTASKS': '1', 'SLURM_STEP_ID': '0'}) is None
  )
  assert (
      distributed.launcher({'SLURM_JOB_ID': '1', 'SLURM_STEP_ID': '0', 'SLURM_STEP_NUM_TASKS': '8'})
      == 'slurm'
  )
  assert distributed.launcher({'SLURM_JOB_ID': '1', 'SLURM_NTASKS': '8'}) is None  # batch script
  assert distributed.launcher({'TPU_WORKER_HOSTNAMES': 'a,b'}) == 'tpu'
  assert distributed.check_flags(None, None, None) is None
  assert distributed.check_flags('h:1', 2, 1) == ('h:1', 2, 1)
  for bad in (('h:1', 2, None), ('h:1', 2, 2), ('h', 2, 0)):
    with pytest.raises(ValueError):
      distributed.check_flags(*bad)


def test_the_report_labels_a_generic_reader_with_its_folder():
  import ml_collections  # pylint: disable=g-import-not-at-top

  idx = ml_collections.ConfigDict(
      {'data': {'name': 'idx', 'data_dir': '/usr/share/datasets/fashion-mnist/'}}
  )
  assert report._dataset_label(idx, ['fashion_mnist_idx']) == 'idx:fashion-mnist'
  ring = ml_collections.ConfigDict({'data': {'name': 'ring8', 'std': 0.02}})
  assert report._dataset_label(ring, ['ring8']) == 'ring8'
  assert report._dataset_label(None, ['grid25']) == 'grid25'


def test_fields_set_in_the_config_argument_make_variants_of_their_own(tmp_path):
  """collapse_2d sets the loss in the argument ('grid25,loss.name=f_gan,...'): those runs get
  their own row, not the plain runs' '(base)'; the preset that picks the dataset is not a
  variant."""
  specs = [
      ('grid25', {'seed': 0}),
      ('grid25', {'seed': 1}),
      ('grid25,loss.name=f_gan,loss.divergence=kl', {'seed': 0}),
      ('grid25', {'model.pack': 2, 'seed': 0}),
      ('ring8', {'seed': 0}),
  ]
  runs = [report.RunData(str(tmp_path), f'r{i}', dict(o), a) for i, (a, o) in enumerate(specs)]
  groups = report.by_dataset_and_variant(runs)
  names = {d: {v: [r.name for r in rs] for v, rs in g.items()} for d, g in groups.items()}
  assert names == {
      'grid25': {'(base)': ['r0', 'r1'], 'loss=f_gan,divergence=kl': ['r2'], 'pack=2': ['r3']},
      'ring8': {'(base)': ['r4']},
  }
  assert runs[2].fields == {'loss.name': 'f_gan', 'loss.divergence': 'kl', 'seed': 0}


def test_variant_labels_leave_out_what_the_table_shares_and_keep_keys_apart(tmp_path):
  """The WGAN-GP toy study's runs all set num_steps and both every_steps: its labels were
  'gp,every_steps=600,every_steps=600,...' (two fields under one name). A field every run of
  the table sets alike is left out; one whose last part another field shares keeps its
  section."""
  specs = [
      ('ring8,gp', {'checkpoint.every_steps': 600, 'seed': 0}),
      ('ring8,gp', {'checkpoint.every_steps': 300, 'seed': 0}),
      ('ring8,clip', {'checkpoint.every_steps': 600, 'seed': 1}),
  ]
  runs = []
  for i, (arg, fields) in enumerate(specs):
    overrides = {'train.num_steps': 3000, 'eval.every_steps': 600, **fields}
    runs.append(report.RunData(str(tmp_path), f'r{i}', overrides, arg))
  groups = report.by_dataset_and_variant(runs)
  names = {v: [r.name for r in rs] for v, rs in groups['ring8'].items()}
  assert names == {
      'gp,checkpoint.every_steps=600': ['r0'],
      'gp,checkpoint.every_steps=300': ['r1'],
      'clip,checkpoint.every_steps=600': ['r2'],
  }


IGNORES_ITS_ARG = """
from configs import mixture_2d

def get_config(arg=None):
  c = mixture_2d.get_config('ring8')  # the argument is ignored: the base config, always
  c.model.g_hidden = c.model.d_hidden = (16, 16)
  c.train.update(dict(num_steps=40, batch_size=16, steps_per_call=10, sample_every=0))
  return c

def sweep(add, arg=None):
  {body}
"""


def test_overrides_land_even_when_get_config_ignores_its_argument(tmp_path, parse, capsys, env):
  path = tmp_path / 'ignores.py'
  body = """for seed in (3, 4):
    add(**{'seed': seed, 'train.num_steps': 77, 'model.g_hidden': (8, 8)})"""
  path.write_text(IGNORES_ITS_ARG.format(body=body))
  root = str(tmp_path / 'runs')
  code, out, err = parse([f'--config={path}', f'--workdir={root}', '--dry_run'], capsys)
  assert code == 0, err
  commands = out.strip().splitlines()
  assert len(commands) == 2 and not os.path.exists(root)
  assert '--config.seed=3 --config.train.num_steps=77' in commands[0], commands[0]
  module, _, _ = sweep.load_module(str(path))
  runs = sweep.expand(module, None)
  built = sweep.build_configs(module, runs)
  assert [(c.seed, c.train.num_steps, c.model.g_hidden) for c in built] == [
      (3, 77, (8, 8)),
      (4, 77, (8, 8)),
  ]
  # the child builds the same config from the dry run's command
  args = [a for a in shlex.split(commands[1])[3:] if not a.startswith('--workdir')]
  child = run_module('experiments.main', *args, '--print_config', env=env, timeout=300)
  assert child.returncode == 0, child.stderr[-2000:]
  lines = child.stdout.splitlines()
  assert 'seed = 4' in lines and 'train.num_steps = 77' in lines, child.stdout
  assert 'model.g_hidden = (8, 8)' in lines


def test_a_run_whose_override_cannot_land_is_refused_before_anything_starts(
    tmp_path, parse, capsys
):
  path = tmp_path / 'ignores.py'
  body = """for loss in ('non_saturating', 'hinge'):
    add(**{'loss.name': loss, 'seed': 0})"""
  path.write_text(IGNORES_ITS_ARG.format(body=body))
  root = str(tmp_path / 'runs')
  for extra in ([], ['--dry_run'], ['--vectorize'], ['--backend=slurm', '--dry_run']):
    code, out, err = parse([f'--config={path}', f'--workdir={root}', *extra], capsys)
    assert code == 2, (extra, out, err)
    (line,) = err.strip().splitlines()
    assert line.startswith(
        "error: run loss=hinge,seed=0: config.loss.name is 'non_saturating', not the 'hinge' its "
        'name says ('
    ), line
    assert not out and not os.path.exists(root), extra


def test_the_launchers_plan_line_says_the_default_parallelism_fills_the_cores(
    tmp_path, parse, capsys, monkeypatch
):
  started = []
  monkeypatch.setattr(sweep, 'run_local', lambda jobs, *args, **kw: started.append(args) or 0)
  monkeypatch.setattr(pool, 'gpu_ids', lambda: [])  # a CPU, whatever this machine has
  path = sweep_file(tmp_path, THREE_BY_TWO)
  root = str(tmp_path / 'runs')
  code, out, err = parse([f'--config={path}', f'--workdir={root}'], capsys)
  cores = len(os.sched_getaffinity(0))
  assert code == 0, err
  assert f'6 runs of {path} in {root}, {cores} at a time (default: one per core)' in out, out
  assert started[0][2] == cores  # (config file, root, parallel, ...)
  code, out, err = parse([f'--config={path}', f'--workdir={root}', '--parallel=1'], capsys)
  assert code == 0 and f'in {root}, 1 at a time\n' in out and started[1][2] == 1, out


def test_the_slurm_dry_run_of_a_vectorized_sweep_has_one_array_task_per_group(
    tmp_path, parse, capsys
):
  path = tmp_path / 'split.py'
  body = """for seed in range(4):
    add(**{'seed': seed})
  add(**{'loss.name': 'hinge', 'seed': 0})"""
  path.write_text(TINY_SWEEP.format(body=body))
  root = str(tmp_path / 'runs')
  args = [f'--config={path}', f'--workdir={root}', '--backend=slurm', '--vectorize']
  code, script, err = parse(args + ['--dry_run', '--gpus_per_run=2', '--max_group=3'], capsys)
  assert code == 0, err
  for line in (
      '#SBATCH --array=0-2',  # a group of 3 seeds, a group of 1 is a run alone, the hinge run
      '#SBATCH --nodes=1',
      '#SBATCH --ntasks-per-node=1',
      '#SBATCH --gpus-per-task=2',
      'exec srun',
  ):
    assert line in script, line
  tasks = [l for l in script.splitlines() if l.startswith('  ') and ') ARGS=(' in l]
  assert len(tasks) == 3
  assert '-m experiments.train_group --group=' in tasks[0] and 'seed=0, seed=1, seed=2' in tasks[0]
  assert '-m experiments.main' in tasks[1] and 'seed=3' in tasks[1]
  assert '--config.seed=0' in tasks[2] and 'loss.name=hinge' in tasks[2]
  assert not os.path.exists(root)
  code, out, err = parse(args + ['--nodes_per_run=2'], capsys)
  assert code == 2 and 'one process on one node' in err and not os.path.exists(root)


def test_sweep_json_holds_the_config_args_fields_and_the_report_reads_them(tmp_path):
  runs = [
      sweep.Run('a', {'seed': 0}, 'grid25,loss.name=f_gan,loss.divergence=kl', ''),
      sweep.Run('b', {'seed': 1}, 'ring8,model.g_hidden=(64,64),reg.r1=0.5', ''),
      sweep.Run('c', {'seed': 2}, None, ''),
  ]
  record = sweep.sweep_record('configs/x.py', None, runs, 'python', str(tmp_path))
  assert [(r['arg_presets'], r['arg_fields']) for r in record['runs']] == [
      (['grid25'], {'loss.name': 'f_gan', 'loss.divergence': 'kl'}),
      (['ring8'], {'model.g_hidden': (64, 64), 'reg.r1': 0.5}),
      ([], {}),
  ]
  workdir.write_json(str(tmp_path / sweep.SWEEP_FILE), record)
  found = report.find_runs(str(tmp_path))
  assert found[0] == (
      'a',
      {'seed': 0},
      'grid25,loss.name=f_gan,loss.divergence=kl',
      (['grid25'], {'loss.name': 'f_gan', 'loss.divergence': 'kl'}),
  )
  from_json = report.RunData(str(tmp_path), *found[0])
  from_text = report.RunData(str(tmp_path), 'a', {'seed': 0}, found[0][2])  # an older sweep.json
  assert from_json.fields == from_text.fields == {
      'loss.name': 'f_gan',
      'loss.divergence': 'kl',
      'seed': 0,
  }
  assert from_json.presets == from_text.presets == ['grid25']
  assert report.RunData(str(tmp_path), *found[1]).fields['model.g_hidden'] == [64, 64]
  for r in record['runs']:  # an older launcher's sweep.json: the string is parsed
    del r['arg_presets'], r['arg_fields']
  workdir.write_json(str(tmp_path / sweep.SWEEP_FILE), record)
  assert report.find_runs(str(tmp_path))[0][3] is None


def test_the_metric_registry_says_which_values_are_better_lower_and_which_rank():
  from gan_jax import metrics  # pylint: disable=g-import-not-at-top

  lower = {'fid.fid', 'kid.kid', 'kid.kid_std', 'modes.reverse_kl', 'stacked_modes.kl'}
  higher = {'modes.modes', 'modes.high_quality', 'pr.precision', 'pr.recall'}
  higher.add('parzen.log_likelihood')
  assert all(report.lower_is_better(k) for k in lower | {'intra_fid.intra_fid'})
  assert not any(report.lower_is_better(k) for k in higher | {'unknown.fid'})
  # CycleGAN's metrics, one per direction, rank as their metric does
  assert report.lower_is_better('l1_a2b.l1') and report.lower_is_better('classifier_fid_b2a.classifier_fid')
  assert not report.lower_is_better('psnr_b2a.psnr') and not report.lower_is_better('unknown_a2b.l1')
  assert report.primary_metric(['modes.reverse_kl', 'modes.modes']) == 'modes.modes'
  assert report.primary_metric(['kid.kid', 'stacked_modes.modes', 'fid.fid']) == 'fid.fid'
  assert report.primary_metric(['parzen.log_likelihood', 'fid.fid']) == 'fid.fid'
  assert report.primary_metric(['kid.kid']) == 'kid.kid'
  assert set(metrics.primary_keys()) == {
      'fid.fid',
      'modes.modes',
      'stacked_modes.modes',
      'parzen.log_likelihood',
  }


def test_overrides_a_flag_cannot_carry_go_in_the_config_argument():
  """A flag cannot add a field: eval.per_metric entries (and None values, loss.name with its
  fields) travel in the config argument, the rest as --config.<field> flags."""
  from gan_jax import run_config  # pylint: disable=g-import-not-at-top

  in_arg, as_flags = run_config.split_overrides(
      {'eval.per_metric.modes.every_steps': 500, 'seed': 1, 'data.data_dir': None}
  )
  assert in_arg == {'eval.per_metric.modes.every_steps': 500, 'data.data_dir': None}
  assert as_flags == {'seed': 1}


def test_no_gpus_per_run_takes_cpu_slots_on_a_gpu_machine(monkeypatch):
  from gan_jax.errors import UserError  # pylint: disable=g-import-not-at-top
  from launch import pool  # pylint: disable=g-import-not-at-top

  monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '0,1')
  assert all('cpus' in s for s in pool.slots(2, 0))
  assert pool.default_parallel(0)[1] == 'one per core'
  assert [s['gpus'] for s in pool.slots(4, 1)] == [['0'], ['1']]
  with pytest.raises(UserError, match='--gpus_per_run=3: only 2 GPUs here'):
    pool.slots(1, 3)
