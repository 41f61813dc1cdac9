"""Multi-host training with JAX's own runtime: `jax.distributed.initialize` when launched so.

`initialize()` (experiments.main calls it before JAX starts its backends) connects this process
to the others when any of these says it is one of several:
- explicit values (experiments.main's flags --coordinator_address=HOST:PORT --num_processes=N
  --process_id=I);
- Slurm: a step of several tasks (`srun` with SLURM_STEP_NUM_TASKS or SLURM_NTASKS > 1); JAX
  reads the coordinator, process count and index from Slurm's variables;
- a Cloud TPU VM slice of several hosts (TPU_WORKER_HOSTNAMES lists more than one).
Otherwise it does nothing: one process, its local devices.

On CPUs the collectives go through gloo (`jax_cpu_collectives_implementation`); GPUs use NCCL and
TPUs their interconnect, as JAX does by default. After it, `jax.devices()` lists every process's
devices, the mesh spans them (gan_jax.sharding), each process loads its own rows of every batch
(Source.batch(..., process_index, process_count)), only process 0 writes logs, samples and
results, and Orbax writes checkpoints collectively.
"""

import os


def _count(value):
  try:
    return int(value)
  except (TypeError, ValueError):
    return 0


def launcher(environ=None):
  """'flags' is never returned here; 'slurm', 'tpu' or None: who started this process."""
  env = os.environ if environ is None else environ
  if 'SLURM_JOB_ID' in env and 'SLURM_STEP_ID' in env:
    tasks = _count(env.get('SLURM_STEP_NUM_TASKS')) or _count(env.get('SLURM_NTASKS'))
    if tasks > 1:
      return 'slurm'
  hosts = [h for h in env.get('TPU_WORKER_HOSTNAMES', '').split(',') if h.strip()]
  if len(hosts) > 1:
    return 'tpu'
  return None


def check_flags(coordinator_address, num_processes, process_id):
  """None if the three flags are absent, else (address, n, id); ValueError if half given."""
  given = [coordinator_address is not None, num_processes is not None, process_id is not None]
  if not any(given):
    return None
  if not all(given):
    raise ValueError(
        '--coordinator_address, --num_processes and --process_id: give all three or none'
    )
  if num_processes < 1 or not 0 <= process_id < num_processes:
    raise ValueError(f'--process_id={process_id} --num_processes={num_processes}: need 0 <= id < n')
  if ':' not in coordinator_address:
    raise ValueError(f'--coordinator_address={coordinator_address}: must be HOST:PORT')
  return coordinator_address, num_processes, process_id


def initialize(coordinator_address=None, num_processes=None, process_id=None):
  """Joins the multi-process job, if this process is part of one; returns (index, count).

  Must run before anything starts JAX's backends. ValueError for inconsistent flags.
  """
  explicit = check_flags(coordinator_address, num_processes, process_id)
  how = 'flags' if explicit else launcher()
  if how is None:
    return 0, 1
  import jax  # pylint: disable=g-import-not-at-top (after the flags are checked)

  jax.config.update('jax_cpu_collectives_implementation', 'gloo')  # CPU devices only
  if explicit:
    jax.distributed.initialize(*explicit)
  else:
    jax.distributed.initialize()  # JAX reads Slurm's / the TPU VM's environment
  return jax.process_index(), jax.process_count()
