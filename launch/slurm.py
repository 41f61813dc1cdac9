"""The Slurm backend of launch.sweep: a job array script with one task per job.

A job is a run (experiments.main) or, with --vectorize, a vectorized group (experiments.train_group
--group=DIR, one process for all its runs) or a run left alone. A run on several nodes or GPUs
gets one Slurm task per GPU, and experiments.main forms the multi-host job from Slurm's variables
(gan_jax/distributed.py); a vectorized sweep's tasks are one process each, with the
`--gpus_per_run` GPUs of one node as its devices.
"""

import os
import shlex


def _header(jobs, parallel, gpus_per_run, nodes_per_run, one_process, job_name):
  lines = [
      '#!/bin/bash',
      f'#SBATCH --job-name={job_name}',
      f'#SBATCH --array=0-{len(jobs) - 1}' + (f'%{parallel}' if parallel else ''),
  ]
  if one_process:  # vectorized: one process per task, all of its GPUs local to it
    lines += ['#SBATCH --nodes=1', '#SBATCH --ntasks-per-node=1']
    if gpus_per_run:
      lines.append(f'#SBATCH --gpus-per-task={gpus_per_run}')
  else:
    lines += [
        f'#SBATCH --nodes={nodes_per_run}',
        f'#SBATCH --ntasks-per-node={max(gpus_per_run, 1)}',
    ]
    if gpus_per_run:
      lines.append('#SBATCH --gpus-per-task=1')
  return lines


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
    vectorized=False,
):
  """A job array with one task per job of `runs` (at most `parallel` at once; None: no cap).

  Jobs are launch.study.Run (experiments.main, one task per GPU of its nodes) or, when
  `vectorized`, also launch.groups.Group (experiments.train_group): then every task is one
  process on one node.
  """
  root = os.path.abspath(root)
  lines = _header(runs, parallel, gpus_per_run, nodes_per_run, vectorized, job_name)
  if cpus_per_task:
    lines.append(f'#SBATCH --cpus-per-task={cpus_per_task}')
  if partition:
    lines.append(f'#SBATCH --partition={partition}')
  lines += [
      f'#SBATCH --time={time_limit}',
      f'#SBATCH --output={root}/slurm-%A_%a.out',
      '',
  ]
  if vectorized:
    lines += [
        '# One array task per job: a vectorized group (experiments.train_group, its runs in one',
        '# vmapped program) or a run alone (experiments.main), each one process.',
    ]
  else:
    lines += [
        '# One array task per run; a run on several nodes or GPUs gets one task per GPU, and',
        "# experiments.main forms the multi-host job from Slurm's variables (jax.distributed).",
    ]
  lines += [f'cd {shlex.quote(os.getcwd())}', 'export PYTHONUNBUFFERED=1']
  lines.append('case "$SLURM_ARRAY_TASK_ID" in')
  for i, job in enumerate(runs):
    args = job.command(python, config_file, root)
    what = job.name
    if hasattr(job, 'runs'):
      what = f'group of {len(job.runs)}: {", ".join(r.name for r in job.runs)}'
    lines.append(f'  {i}) ARGS=({shlex.join(args[1:])}) ;;  # {what}')
  lines += [
      '  *) echo "no job for array task $SLURM_ARRAY_TASK_ID" >&2; exit 2 ;;',
      'esac',
      f'exec srun --kill-on-bad-exit=1 {shlex.quote(python)} "${{ARGS[@]}}"',
      '',
  ]
  return '\n'.join(lines)
