"""Run a study: expand a sweep file into runs and train them, locally or as a Slurm job array.

  python -m launch.sweep --config=configs/sweeps/losses_2d.py[:arg] --workdir=runs/losses_2d \
      [--parallel=K] [--backend=local|slurm] [--dry_run] [--only=PATTERN] [--vectorize
      [--max_group=S]]

A sweep file is a config module with `get_config(arg=None)` (the base config) and
`sweep(add, arg=None)`, which calls `add(**overrides)` once per run: dotted config fields
(`add(**{'loss.name': 'hinge', 'seed': 3})`) plus `config_arg` (the preset passed to get_config).
Each run trains in `DIR/<name>/` with `experiments.main --config=FILE:<config_arg>,<k=v,...>`;
its name is made of its overrides (`ring8,loss=hinge,r1=0,seed=3`). `DIR/sweep.json` records the
runs, their overrides and commands. Every run's config is built and validated before the first
one starts.

local: K `experiments.main` processes at a time, each in its own session. GPUs (nvidia-smi) are
handed out `--gpus_per_run` per run through CUDA_VISIBLE_DEVICES; on a CPU the cores this
process may use are split between the K processes (CPU affinity, and thread counts through the
OpenMP/BLAS variables). Finished runs are skipped; interrupted ones resume from their checkpoints
(experiments.main does that). A failing run does not stop the others: the summary names it with
the tail of its log (`DIR/<name>/log.txt`), and the command exits 1. Ctrl-C (SIGINT) or SIGTERM is
forwarded once to every running child (each saves a checkpoint of its step), then the launcher
waits for them and exits 130 / 143.

--vectorize (local): runs that differ only in vectorizable fields (gan_jax.config.VECTORIZABLE)
train as groups of at most --max_group in one experiments.train_group process each, one vmapped
program (launch/groups.py says which; --dry_run prints the groups); each run keeps its folder.

slurm: writes `DIR/sweep.sbatch`, a job array with one task per unfinished run (`--parallel` caps
how many run at once), resources from --partition, --gpus_per_run, --nodes_per_run, --time; a
run on several nodes starts one task per GPU with `srun`, and experiments.main forms the
multi-host job from Slurm's variables (launch/distributed.py). `--dry_run` prints the script and
submits nothing.

Exit codes: 0 every run finished; 1 some run failed; 2 bad input (one `error:` line; nothing
started or written); 130 / 143 interrupted.
"""

import dataclasses
import fnmatch
import importlib.util
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import warnings

from absl import app, flags

from gan_jax import workdir as run_folder
from gan_jax.errors import UserError
from launch import groups

SWEEP_FILE = 'sweep.json'
LOG_FILE = run_folder.LOG_FILE
SBATCH_FILE = 'sweep.sbatch'
THREAD_VARS = ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS')
NAME_CHARS = set('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=,.+-_()')


@dataclasses.dataclass
class Run:
  name: str
  overrides: dict  # dotted field -> value, in the order add() gave them
  config_arg: str | None
  arg: str  # the config arg of experiments.main: config_arg then k=v fields

  def command(self, python, config_file, root):
    return [
        python,
        '-m',
        'experiments.main',
        f'--config={config_file}:{self.arg}' if self.arg else f'--config={config_file}',
        f'--workdir={os.path.join(root, self.name)}',
    ]

  def finished(self, root):
    return run_folder.is_finished(os.path.join(root, self.name))


def format_value(value) -> str:
  """A value as the config-arg parser (configs.common) reads it back."""
  if isinstance(value, bool):
    return 'true' if value else 'false'
  if isinstance(value, str):
    return repr(value) if any(c in value for c in ',()[]{}\'"= ') else value
  if isinstance(value, (list, tuple)):
    return '(' + ','.join(format_value(v) for v in value) + (',)' if len(value) == 1 else ')')
  return repr(value)


def _short(key, keys):
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
    parts.append(_name_part(f'{_short(key, all_keys)}={text}'))
  return ','.join(parts) or 'default'


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
    fields = [f'{k}={format_value(v)}' for k, v in overrides.items()]
    runs.append(
        Run(name, overrides, config_arg, ','.join(([config_arg] if config_arg else []) + fields))
    )
  return runs


def validate_runs(module, runs):
  """Builds and validates every run's config; returns them. UserError naming the run and the
  field."""
  from gan_jax import config as config_lib  # pylint: disable=g-import-not-at-top (JAX: only here)

  configs = []
  for run in runs:
    try:
      config = module.get_config(run.arg or None)
      config_lib.validate(config, 1)
    except (ValueError, TypeError, AttributeError, KeyError) as e:
      raise UserError(f'run {run.name}: {str(e).splitlines()[0] if str(e) else repr(e)}') from None
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
  return {
      'config': config_file,
      'arg': arg,
      'runs': [
          {
              'name': r.name,
              'config_arg': r.config_arg,
              'overrides': r.overrides,
              'command': shlex.join(r.command(python, config_file, root)),
          }
          for r in runs
      ],
  }


def read_sweep(root) -> dict:
  """DIR/sweep.json, or {} if it is missing or unreadable."""
  try:
    with open(os.path.join(root, SWEEP_FILE)) as f:
      return json.load(f)
  except (OSError, ValueError):
    return {}


# ---------------------------------------------------------------------------------------- local


def gpu_count() -> int:
  """GPUs nvidia-smi lists (0 without it), limited to CUDA_VISIBLE_DEVICES if set."""
  visible = os.environ.get('CUDA_VISIBLE_DEVICES')
  if visible is not None:
    return len([d for d in visible.split(',') if d.strip()])
  if not shutil.which('nvidia-smi'):
    return 0
  try:
    out = subprocess.run(['nvidia-smi', '-L'], capture_output=True, text=True, timeout=30).stdout
  except (OSError, subprocess.SubprocessError):
    return 0
  return sum(1 for line in out.splitlines() if line.startswith('GPU '))


def gpu_ids():
  visible = os.environ.get('CUDA_VISIBLE_DEVICES')
  if visible is not None:
    return [d.strip() for d in visible.split(',') if d.strip()]
  return [str(i) for i in range(gpu_count())]


def slots(parallel, gpus_per_run):
  """One dict per slot: {'cpus': [...]} on a CPU, {'gpus': [...]} with GPUs.

  With GPUs, K is capped by the GPUs there are. On a CPU the cores are split into K contiguous
  groups (when K exceeds the cores, slots share them round-robin).
  """
  gpus = gpu_ids()
  if gpus:
    k = min(parallel, len(gpus) // gpus_per_run)
    if k < 1:
      raise UserError(f'--gpus_per_run={gpus_per_run}: only {len(gpus)} GPUs here')
    return [{'gpus': gpus[i * gpus_per_run : (i + 1) * gpus_per_run]} for i in range(k)]
  cores = sorted(os.sched_getaffinity(0))
  if parallel >= len(cores):
    return [{'cpus': [cores[i % len(cores)]]} for i in range(parallel)]
  return [
      {'cpus': cores[i * len(cores) // parallel : (i + 1) * len(cores) // parallel]}
      for i in range(parallel)
  ]


def slot_env(slot, environ=None):
  """The environment of a child in `slot`: its GPUs, or thread counts sized to its cores."""
  env = dict(os.environ if environ is None else environ)
  env['PYTHONUNBUFFERED'] = '1'
  if 'gpus' in slot:
    env['CUDA_VISIBLE_DEVICES'] = ','.join(slot['gpus'])
  else:
    for var in THREAD_VARS:
      env[var] = str(len(slot['cpus']))
  return env


class Child:
  """A running experiments.main of one run."""

  def __init__(self, run, command, slot, root):
    self.run, self.slot = run, slot
    self.log_path = os.path.join(root, run.name, LOG_FILE)
    os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
    self.log = open(self.log_path, 'a')
    self.log.write(f'\n=== {time.strftime("%Y-%m-%d %H:%M:%S")} {shlex.join(command)}\n')
    self.log.flush()
    cpus = slot.get('cpus')
    self.start = time.time()
    with warnings.catch_warnings():
      # --vectorize's memory check starts JAX in this process, whose fork hook then warns on
      # every Popen; the child only pins its CPUs and execs, so the warning does not apply.
      warnings.filterwarnings('ignore', message='os.fork', category=RuntimeWarning)
      self.proc = subprocess.Popen(
          command,
          stdout=self.log,
          stderr=subprocess.STDOUT,
          env=slot_env(slot),
          start_new_session=True,  # a terminal's Ctrl-C reaches the launcher only; it forwards once
          preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
      )

  def poll(self):
    code = self.proc.poll()
    if code is not None:
      self.log.close()
    return code


def log_tail(path, lines=15):
  try:
    with open(path, errors='replace') as f:
      text = f.read().splitlines()
  except OSError:
    return '(no log)'
  return '\n'.join('    ' + l for l in text[-lines:])


def format_eta(seconds):
  seconds = int(max(seconds, 0))
  return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


def run_local(runs, config_file, root, parallel, gpus_per_run, python, progress_every=30.0):
  """Trains `runs` (jobs: a Run, or a launch.groups.Group of runs) K at a time; returns the exit
  code (0, 1, or 128 + signal)."""
  todo = [r for r in runs if not r.finished(root)]
  skipped = len(runs) - len(todo)
  unit = 'runs' if all(isinstance(r, Run) for r in runs) else 'jobs'
  if skipped:
    print(f'[sweep] {skipped} of {len(runs)} {unit} already finished: skipped', flush=True)
  free = slots(parallel, gpus_per_run)
  queue, running, done, failed, durations = list(todo), [], [], [], []
  received = []
  started = time.time()

  def on_signal(signum, frame):
    del frame
    if received:
      return  # the children have it already; they save and stop
    received.append(signum)
    print(
        f'[sweep] signal {signum}: stopping the {len(running)} running runs (they save a '
        'checkpoint)',
        flush=True,
    )
    for child in running:
      try:
        os.killpg(child.proc.pid, signum)
      except ProcessLookupError:
        pass

  previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}

  def progress():
    line = (
        f'[sweep] {len(done) + skipped}/{len(runs)} done, {len(running)} running, '
        f'{len(failed)} failed, {len(queue)} queued'
    )
    left = len(queue) + len(running)
    if durations and left:
      per = sum(durations) / len(durations)
      width = max(1, min(len(free) + len(running), left))
      elapsed = sum(min(time.time() - c.start, per) for c in running)
      line += f' | ETA {format_eta((left * per - elapsed) / width)}'
    elif not left:
      line += f' | took {format_eta(time.time() - started)}'
    print(line, flush=True)

  last = time.time()
  try:
    while running or (queue and not received):
      while queue and free and not received:
        run = queue.pop(0)
        child = Child(run, run.command(python, config_file, root), free.pop(0), root)
        running.append(child)
        print(f'[sweep] start {run.name}', flush=True)
      for child in list(running):
        code = child.poll()
        if code is None:
          continue
        running.remove(child)
        free.append(child.slot)
        if code == 0:
          done.append(child.run.name)
          durations.append(time.time() - child.start)
          print(f'[sweep] finished {child.run.name} in {format_eta(durations[-1])}', flush=True)
        elif received and code in (128 + received[0], -received[0]):
          print(f'[sweep] stopped {child.run.name} (checkpoint saved)', flush=True)
        else:
          failed.append((child.run.name, code, child.log_path))
          print(f'[sweep] FAILED {child.run.name} (exit {code})', flush=True)
        progress()
        last = time.time()
      if time.time() - last > progress_every:
        progress()
        last = time.time()
      time.sleep(0.2)
  finally:
    for sig, handler in previous.items():
      signal.signal(sig, handler)
  for name, code, log in failed:
    print(f'[sweep] failed: {name} (exit {code}), {log}:\n{log_tail(log)}', flush=True)
  if received:
    print('[sweep] interrupted: rerun the same command to resume', flush=True)
    return 128 + received[0]
  return 1 if failed else 0


# ---------------------------------------------------------------------------------------- slurm


def sbatch_script(
    runs,
    config_file,
    root,
    parallel,
    python,
    partition,
    gpus_per_run,
    nodes_per_run,
    time_limit,
    cpus_per_task=None,
    job_name='gan_jax',
):
  """A job array with one task per run (at most `parallel` at once; None: no cap); each runs
  experiments.main with one task per GPU of its nodes."""
  root = os.path.abspath(root)
  lines = [
      '#!/bin/bash',
      f'#SBATCH --job-name={job_name}',
      f'#SBATCH --array=0-{len(runs) - 1}' + (f'%{parallel}' if parallel else ''),
      f'#SBATCH --nodes={nodes_per_run}',
      f'#SBATCH --ntasks-per-node={max(gpus_per_run, 1)}',
  ]
  if gpus_per_run:
    lines.append('#SBATCH --gpus-per-task=1')
  if cpus_per_task:
    lines.append(f'#SBATCH --cpus-per-task={cpus_per_task}')
  if partition:
    lines.append(f'#SBATCH --partition={partition}')
  lines += [
      f'#SBATCH --time={time_limit}',
      f'#SBATCH --output={root}/slurm-%A_%a.out',
      '',
      '# One array task per run; a run on several nodes or GPUs gets one task per GPU, and',
      "# experiments.main forms the multi-host job from Slurm's variables (jax.distributed).",
      f'cd {shlex.quote(os.getcwd())}',
      'export PYTHONUNBUFFERED=1',
      'case "$SLURM_ARRAY_TASK_ID" in',
  ]
  for i, run in enumerate(runs):
    args = run.command(python, config_file, root)
    lines.append(f'  {i}) ARGS=({shlex.join(args[1:])}) ;;  # {run.name}')
  lines += [
      '  *) echo "no run for array task $SLURM_ARRAY_TASK_ID" >&2; exit 2 ;;',
      'esac',
      f'exec srun --kill-on-bad-exit=1 {shlex.quote(python)} "${{ARGS[@]}}"',
      '',
  ]
  return '\n'.join(lines)


# ------------------------------------------------------------------------------------------ CLI


def check_flags(f):
  if not f.config:
    raise UserError('--config: required (a sweep file[:arg])')
  if not f.workdir:
    raise UserError('--workdir: required')
  if f.parallel < 1:
    raise UserError(f'--parallel={f.parallel}: must be >= 1')
  if f.max_group < 1:
    raise UserError(f'--max_group={f.max_group}: must be >= 1')
  if f.vectorize and f.backend == 'slurm':
    raise UserError('--vectorize: the local backend only, for now')
  if f.gpus_per_run < 0 or f.nodes_per_run < 1:
    raise UserError('--gpus_per_run must be >= 0 and --nodes_per_run >= 1')
  from gan_jax.experiment import check_creatable  # pylint: disable=g-import-not-at-top

  check_creatable(f.workdir, f'--workdir={f.workdir}', '{} is a file, not a folder')


def main(argv):
  from experiments.common import _fail, set_cpu_xla_flags  # pylint: disable=g-import-not-at-top

  if len(argv) > 1:
    _fail(f'unexpected arguments: {" ".join(argv[1:])}')
  set_cpu_xla_flags()
  f = flags.FLAGS
  try:
    check_flags(f)
    module, config_file, arg = load_module(f.config)
    all_runs = expand(module, arg)
    configs = dict(zip((r.name for r in all_runs), validate_runs(module, all_runs)))
    runs = select(all_runs, f.only)
    if f.vectorize:  # one process per group of runs that share a program (launch/groups.py)
      runs, split_by = groups.plan(runs, [configs[r.name] for r in runs], f.workdir, f.max_group)
      groups.check_memory(runs, configs)
    if f.backend == 'slurm' and not f.dry_run and not shutil.which('sbatch'):
      raise UserError('--backend=slurm: sbatch is not on PATH (--dry_run prints the script)')
  except UserError as e:
    _fail(e)
  root = f.workdir
  record = sweep_record(config_file, arg, all_runs, f.python, root)
  if f.backend == 'slurm':
    todo = [r for r in runs if not r.finished(root)]
    if not todo:
      print(f'All {len(runs)} runs are finished.')
      return 0
    script = sbatch_script(
        todo,
        config_file,
        root,
        f.parallel if f['parallel'].present else None,
        f.python,
        f.partition,
        f.gpus_per_run,
        f.nodes_per_run,
        f.time,
        f.cpus_per_task,
        job_name=f'gan_jax-{os.path.basename(os.path.abspath(root))}',
    )
    if f.dry_run:
      print(script)
      return 0
    os.makedirs(root, exist_ok=True)
    run_folder.write_json(os.path.join(root, SWEEP_FILE), record)
    path = run_folder.write_atomically(os.path.join(root, SBATCH_FILE), script)
    result = subprocess.run(['sbatch', path], capture_output=True, text=True)
    print(result.stdout.strip() or result.stderr.strip())
    return result.returncode and 1
  if f.dry_run and f.vectorize:
    print('\n'.join(groups.describe(runs, split_by, f.python, config_file, root)))
    return 0
  if f.dry_run:
    for run in runs:
      finished = run.finished(root)
      print(
          ('# finished: ' if finished else '')
          + shlex.join(run.command(f.python, config_file, root))
      )
    return 0
  os.makedirs(root, exist_ok=True)
  run_folder.write_json(os.path.join(root, SWEEP_FILE), record)
  for job in runs:
    if isinstance(job, groups.Group):
      job.write(config_file, root)
  what = f'{len(runs)} runs'
  if f.vectorize:
    size = sum(len(j.runs) if isinstance(j, groups.Group) else 1 for j in runs)
    what = f'{size} runs in {len(runs)} jobs (vectorized groups of up to {f.max_group})'
  print(f'[sweep] {what} of {f.config} in {root}, {f.parallel} at a time', flush=True)
  return run_local(runs, config_file, root, f.parallel, f.gpus_per_run, f.python, f.progress_every)


def _parse(argv):
  from experiments.common import _fail  # pylint: disable=g-import-not-at-top

  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    _fail(e)


def define_flags():
  """The command line's flags (defined on demand: the module's functions are importable)."""
  flags.DEFINE_string('config', None, 'Sweep file[:arg]: a config module with sweep(add, arg).')
  flags.DEFINE_string('workdir', None, 'Folder of the study: one subfolder per run.')
  flags.DEFINE_integer('parallel', 1, 'Runs at a time (local), or at most in the array (slurm).')
  flags.DEFINE_enum('backend', 'local', ['local', 'slurm'], 'Where the runs go.')
  flags.DEFINE_bool('dry_run', False, 'Print what would run (the sbatch script), start nothing.')
  flags.DEFINE_string('only', None, 'Only the runs whose name matches this glob (or substring).')
  flags.DEFINE_integer('gpus_per_run', 1, 'GPUs per run (local with GPUs; slurm: per node).')
  flags.DEFINE_integer('nodes_per_run', 1, 'slurm: nodes per run (one task per GPU on each).')
  flags.DEFINE_string('partition', None, 'slurm: partition.')
  flags.DEFINE_string('time', '24:00:00', 'slurm: time limit per run.')
  flags.DEFINE_integer('cpus_per_task', None, 'slurm: CPUs per task.')
  flags.DEFINE_string('python', sys.executable, 'Python that runs experiments.main.')
  flags.DEFINE_float('progress_every', 30.0, 'local: seconds between progress lines.')
  flags.DEFINE_bool(
      'vectorize',
      False,
      'local: runs that differ only in vectorizable fields train as one vmapped '
      'program (launch/groups.py).',
  )
  flags.DEFINE_integer('max_group', 64, '--vectorize: at most this many runs per group.')


def _main(argv):
  try:
    sys.exit(main(argv))
  except KeyboardInterrupt:  # before the runs started (the loop forwards signals itself)
    print('[sweep] interrupted before any run started', file=sys.stderr)
    sys.exit(130)


if __name__ == '__main__':
  define_flags()
  app.run(_main, flags_parser=_parse)
