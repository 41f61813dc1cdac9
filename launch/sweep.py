"""Run a study: expand a sweep file into runs and train them, locally or as a Slurm job array.

  python -m launch.sweep --config=configs/sweeps/losses_2d.py[:arg] --workdir=runs/losses_2d \\
      [--parallel=K] [--backend=local|slurm] [--dry_run] [--only=PATTERN] [--vectorize \\
      [--max_group=S]]

A sweep file is a config module with `get_config(arg=None)` (the base config) and
`sweep(add, arg=None)`, which calls `add(**overrides)` once per run: dotted config fields
(`add(**{'loss.name': 'hinge', 'seed': 3})`) plus `config_arg` (the preset passed to get_config).
Each run trains in `DIR/<name>/` with `experiments.main --config=FILE[:<config_arg>]
--config.<field>=<value> ...`: the overrides land whatever get_config does with its argument
(launch/study.py); its name is made of its overrides (`ring8,loss=hinge,r1=0,seed=3`).
`DIR/sweep.json` records the runs, their overrides and config args (JSON) and commands. Every
run's config is built as its child builds it, checked to carry its overrides, and validated
before the first one starts.

local (launch/pool.py): K processes at a time, each in its own session; by default K fills the
machine: one per `--gpus_per_run` GPUs, else one per core. GPUs (nvidia-smi) are handed out
`--gpus_per_run` per run through CUDA_VISIBLE_DEVICES; on a CPU the cores this process may use
are split between the K processes (CPU affinity, and thread counts through the OpenMP/BLAS
variables). Finished runs are skipped; interrupted ones resume from their checkpoints
(experiments.main does that). A failing run does not stop the others: the summary names it with
the tail of its log (`DIR/<name>/log.txt`), and the command exits 1. Ctrl-C (SIGINT) or SIGTERM is
forwarded once to every running child (each saves a checkpoint of its step), then the launcher
waits for them and exits 130 / 143.

--vectorize: runs that differ only in vectorizable fields (gan_jax.schema.VECTORIZABLE) train as
groups of at most --max_group in one experiments.train_group process each, one vmapped program
(launch/groups.py says which; --dry_run prints the groups); each run keeps its folder.

slurm (launch/slurm.py): writes `DIR/sweep.sbatch`, a job array with one task per unfinished run
(or, with --vectorize, per group or run alone; `--parallel` caps how many run at once), resources
from --partition, --gpus_per_run, --nodes_per_run, --time; a run on several nodes starts one task
per GPU with `srun`, and experiments.main forms the multi-host job from Slurm's variables
(gan_jax/distributed.py). `--dry_run` prints the script and submits nothing.

Exit codes: 0 every run finished; 1 some run failed; 2 bad input (one `error:` line; nothing
started or written); 130 / 143 interrupted.
"""

import os
import shlex
import shutil
import subprocess
import sys

from absl import app, flags

from gan_jax import workdir as run_folder
from gan_jax.cli import fail, parse_flags, set_cpu_xla_flags
from gan_jax.errors import UserError
from launch import groups
from launch.pool import (  # pylint: disable=unused-import (the names callers import from here)
    LOG_FILE,
    default_parallel,
    gpu_count,
    gpu_ids,
    run_local,
    slot_env,
    slots,
)
from launch.slurm import sbatch_script
from launch.study import (  # pylint: disable=unused-import (the names callers import from here)
    SWEEP_FILE,
    Run,
    build_configs,
    expand,
    format_value,
    load_module,
    read_sweep,
    run_name,
    select,
    sweep_record,
)

SBATCH_FILE = 'sweep.sbatch'


def check_flags(f):
  if not f.config:
    raise UserError('--config: required (a sweep file[:arg])')
  if not f.workdir:
    raise UserError('--workdir: required')
  if f.parallel is not None and f.parallel < 1:
    raise UserError(f'--parallel={f.parallel}: must be >= 1')
  if f.max_group < 1:
    raise UserError(f'--max_group={f.max_group}: must be >= 1')
  if f.gpus_per_run < 0 or f.nodes_per_run < 1:
    raise UserError('--gpus_per_run must be >= 0 and --nodes_per_run >= 1')
  if f.vectorize and f.backend == 'slurm' and f.nodes_per_run > 1:
    raise UserError('--vectorize: a group trains in one process on one node (--nodes_per_run=1)')
  from gan_jax.experiment import check_creatable  # pylint: disable=g-import-not-at-top

  check_creatable(f.workdir, f'--workdir={f.workdir}', '{} is a file, not a folder')


class Plan:
  """What the command line asked for: the study's runs and the jobs that train them."""

  def __init__(self, f):
    check_flags(f)
    self.module, self.config_file, self.arg = load_module(f.config)
    self.all_runs = expand(self.module, self.arg)
    configs = build_configs(self.module, self.all_runs)
    self.configs = dict(zip((r.name for r in self.all_runs), configs))
    self.jobs, self.split_by = select(self.all_runs, f.only), None
    if f.vectorize:  # one process per group of runs that share a program (launch/groups.py)
      chosen = [self.configs[r.name] for r in self.jobs]
      self.jobs, self.split_by = groups.plan(self.jobs, chosen, f.workdir, f.max_group)
      groups.check_memory(self.jobs, self.configs)
    if f.backend == 'slurm' and not f.dry_run and not shutil.which('sbatch'):
      raise UserError('--backend=slurm: sbatch is not on PATH (--dry_run prints the script)')
    self.root, self.python = f.workdir, f.python

  def write(self, jobs):
    """sweep.json and the runs.json of each group in `jobs`."""
    os.makedirs(self.root, exist_ok=True)
    record = sweep_record(self.config_file, self.arg, self.all_runs, self.python, self.root)
    run_folder.write_json(os.path.join(self.root, SWEEP_FILE), record)
    for job in jobs:
      if isinstance(job, groups.Group):
        job.write(self.config_file, self.root)


def submit_slurm(f, plan):
  todo = [j for j in plan.jobs if not j.finished(plan.root)]
  if not todo:
    print(f'All {len(plan.jobs)} {"jobs" if f.vectorize else "runs"} are finished.')
    return 0
  script = sbatch_script(
      todo,
      plan.config_file,
      plan.root,
      f.parallel,
      f.python,
      f.partition,
      f.gpus_per_run,
      f.nodes_per_run,
      f.time,
      f.cpus_per_task,
      job_name=f'gan_jax-{os.path.basename(os.path.abspath(plan.root))}',
      vectorized=f.vectorize,
  )
  if f.dry_run:
    print(script)
    return 0
  plan.write(todo)
  path = run_folder.write_atomically(os.path.join(plan.root, SBATCH_FILE), script)
  result = subprocess.run(['sbatch', path], capture_output=True, text=True)
  print(result.stdout.strip() or result.stderr.strip())
  return result.returncode and 1


def print_dry_run(f, plan):
  if f.vectorize:
    lines = groups.describe(plan.jobs, plan.split_by, f.python, plan.config_file, plan.root)
    print('\n'.join(lines))
    return 0
  for run in plan.jobs:
    finished = '# finished: ' if run.finished(plan.root) else ''
    print(finished + shlex.join(run.command(f.python, plan.config_file, plan.root)))
  return 0


def train_locally(f, plan):
  jobs = plan.jobs
  what = f'{len(jobs)} runs'
  if f.vectorize:
    size = sum(len(j.runs) if isinstance(j, groups.Group) else 1 for j in jobs)
    what = f'{size} runs in {len(jobs)} jobs (vectorized groups of up to {f.max_group})'
  parallel, why = (f.parallel, None) if f.parallel is not None else default_parallel(f.gpus_per_run)
  slots(parallel, f.gpus_per_run)  # UserError (too few GPUs) before anything is written
  plan.write(jobs)
  at_a_time = f'{parallel} at a time' + (f' (default: {why})' if why else '')
  print(f'[sweep] {what} of {f.config} in {plan.root}, {at_a_time}', flush=True)
  return run_local(
      jobs, plan.config_file, plan.root, parallel, f.gpus_per_run, f.python, f.progress_every
  )


def main(argv):
  if len(argv) > 1:
    fail(f'unexpected arguments: {" ".join(argv[1:])}')
  set_cpu_xla_flags()
  f = flags.FLAGS
  try:
    plan = Plan(f)
    if f.backend == 'slurm':
      return submit_slurm(f, plan)
    if f.dry_run:
      return print_dry_run(f, plan)
    return train_locally(f, plan)
  except UserError as e:
    fail(e)


def define_flags():
  """The command line's flags (defined on demand: the module's functions are importable)."""
  flags.DEFINE_string('config', None, 'Sweep file[:arg]: a config module with sweep(add, arg).')
  flags.DEFINE_string('workdir', None, 'Folder of the study: one subfolder per run.')
  flags.DEFINE_integer(
      'parallel',
      None,
      'Jobs at a time (local), or at most in the array (slurm; default: no cap). Local default: '
      'what fills the machine: one job per --gpus_per_run GPUs, else one job per core (the '
      "small programs here use one core well; the cores are split between the jobs).",
  )
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
      'Runs that differ only in vectorizable fields train as one vmapped program '
      '(launch/groups.py): one process per group, locally or as one Slurm array task.',
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
  app.run(_main, flags_parser=parse_flags)
