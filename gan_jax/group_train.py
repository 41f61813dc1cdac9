"""The training loop of a vectorized group: `train_group(configs, workdirs, group_dir)`.

S runs whose configs differ only in `config.VECTORIZABLE` fields (seed, learning rates, penalty
weights, EMA decay, instance-noise scale) train as one compiled step over a leading run axis
(gan_jax/step.py `build_group_step`): the TrainStates are stacked, each run reads its own data
order and noise (its seed), and its hyperparameters are arrays of that axis.

Every run still looks like a run (gan_jax/workdir.py): its workdir gets its config.json,
data.json, checkpoints of its own state (a slice of the group's, at the same steps as alone),
samples, eval/<step>.json and TensorBoard scalars, so experiments.sample, experiments.evaluate
and launch.report read it as if it had trained alone, and `experiments.main` can continue it
alone. The group's folder holds the checkpoints of the stacked state with each run's fault
counts and whether it is still running in their metadata: a rerun resumes from them, bit for bit.

Faults: an update the step refused as non-finite, with train.on_nonfinite='stop', stops that run
alone: from the next call on its updates are masked (its state kept), nothing more of it is
saved, its log.txt gets the `error:` line it would have printed alone, and the others go on; the
group then ends with RunFailed naming it. With 'skip' each run counts its refused updates.
"""

import collections
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import jax
import jax.numpy as jnp
import numpy as np
from tensorboardX import SummaryWriter

from gan_jax import checkpoint, multihost
from gan_jax import config as config_lib
from gan_jax import workdir as run_folder
from gan_jax import train as alone
from gan_jax.errors import RunFailed, UserError
from gan_jax.evaluator import PeriodicEval
from gan_jax.experiment import build_experiment
from gan_jax.optimizers import learning_rates
from gan_jax.progress import Progress
from gan_jax.sharding import batch_sharding, global_batch, replicated
from gan_jax.step import FAULTS, NO_FAULTS, build_group_step, combine_faults

# Of a group's memory, per run: the state, its donated successor, gradients and optimizer
# temporaries (~4 states), and the prefetched data of `depth` + 1 calls (group_batches).
STATE_COPIES, DATA_COPIES = 4, 3


def stack(trees):
  """Trees of one structure -> one tree with a leading axis."""
  return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *trees)


def row(tree, i):
  """Run i of a stacked tree."""
  return jax.tree_util.tree_map(lambda a: a[i], tree)


def check_group(configs):
  """UserError unless the configs differ in VECTORIZABLE fields only (one program)."""
  first = dict(config_lib.program_key(configs[0]))
  for config in configs[1:]:
    other = dict(config_lib.program_key(config))
    diff = sorted(k for k in first.keys() | other.keys() if first.get(k) != other.get(k))
    if diff:
      raise UserError(
          f'a vectorized group: its runs differ in config.{diff[0]} ({first.get(diff[0])!r} vs '
          f'{other.get(diff[0])!r}), which is not vectorizable; such runs go in separate groups'
      )


def group_hparams(configs) -> dict:
  """{field: (S,) float32} of the runs' VECTORIZABLE hyperparameters."""
  each = [config_lib.hparams(c) for c in configs]
  return {k: np.array([h[k] for h in each], np.float32) for k in each[0]}


def state_bytes(exp) -> int:
  return sum(x.size * x.dtype.itemsize for x in jax.tree_util.tree_leaves(exp.abstract_state))


def call_bytes(config, shape) -> int:
  """Bytes of one run's real data for one call of the step (float32)."""
  t = config.train
  return 4 * t.steps_per_call * t.d_steps * t.batch_size * int(np.prod(shape))


def group_bytes(exp, size) -> int:
  """What a group of `size` runs of `exp` holds in memory, estimated (STATE_COPIES, DATA_COPIES)."""
  per_run = STATE_COPIES * state_bytes(exp) + DATA_COPIES * call_bytes(exp.config, exp.source.shape)
  return size * per_run


def available_bytes() -> int:
  """The first device's memory limit (GPU/TPU), else the host's available memory."""
  stats = jax.devices()[0].memory_stats() or {}
  if stats.get('bytes_limit'):
    return int(stats['bytes_limit'])
  try:
    with open('/proc/meminfo') as f:
      for line in f:
        if line.startswith('MemAvailable:'):
          return int(line.split()[1]) * 1024
  except OSError:
    pass
  return os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_AVPHYS_PAGES')


def check_fits(exp, size, names=None, limit=None):
  """UserError if a group of `size` runs of `exp` would not fit in memory (group_bytes)."""
  need, have = group_bytes(exp, size), available_bytes() if limit is None else limit
  if need > have:
    what = f'the group of {names[0]} and {size - 1} more' if names else f'a group of {size} runs'
    raise UserError(
        f'--max_group: {what} needs ~{need / 2**30:.2f} GiB, more than the {have / 2**30:.2f} GiB '
        f'available here; use a smaller --max_group'
    )


def group_batches(exp, seeds, start, stop, depth=2):
  """Yields (step, iterations, batches) of each call: leaves (S, n, d_steps, B, ...), run i's
  rows in the order of seeds[i] (what that run reads alone); a thread loads ahead."""

  def host(step, n):
    runs = [alone._host_batches(exp, step, n, seed) for seed in seeds]
    return jax.tree_util.tree_map(lambda *xs: np.stack(xs), *runs)

  calls = alone.call_sizes(exp.config, start, stop)
  sharding = batch_sharding(exp.mesh, 3)
  with ThreadPoolExecutor(1) as pool:
    pending = collections.deque(pool.submit(host, *c) for c in calls[:depth])
    for i, (step, n) in enumerate(calls):
      if i + depth < len(calls):
        pending.append(pool.submit(host, *calls[i + depth]))
      yield step, n, global_batch(pending.popleft().result(), sharding, 3)


@jax.jit
def _combine_alive(faults, new, alive):
  """combine_faults, for the runs that are alive (a stopped run's counts stay as they were)."""
  both = combine_faults(faults, new)
  return {k: jnp.where(alive, both[k], faults[k]) for k in FAULTS}


def _append_log(workdir, line):
  try:
    with open(os.path.join(workdir, run_folder.LOG_FILE), 'a') as f:
      f.write(line + '\n')
  except OSError:
    pass


class _Runs:
  """The host-side bookkeeping of the group's runs: names, workdirs, writers, faults, who runs."""

  def __init__(self, configs, workdirs):
    self.configs, self.workdirs = configs, workdirs
    self.names = [os.path.basename(os.path.normpath(w)) for w in workdirs]
    self.alive = np.ones(len(configs), bool)
    self.stopped = {}  # name -> the error line
    self.last_saved = [None] * len(configs)
    self.writers = [None] * len(configs)

  def stop(self, i, message):
    self.alive[i] = False
    self.stopped[self.names[i]] = message
    if multihost.is_main_process():
      _append_log(self.workdirs[i], f'error: {message}')
    print(f'error: {self.names[i]}: {message}; the group goes on without it', flush=True)

  def running(self):
    return [int(i) for i in np.flatnonzero(self.alive)]


def _restore(ckpts, abstract, runs, group_dir):
  """(step, states, faults) of the group's newest valid checkpoint (its runs' alive flags and
  stops restored into `runs`), or None."""
  found = alone.restore_checked(ckpts, abstract, f'--group={group_dir}')
  if found is None:
    return None
  step, states, meta = found
  if meta.get('runs') != runs.names:
    raise UserError(f'--group={group_dir}: its checkpoints are of other runs ({meta.get("runs")})')
  runs.alive[:] = meta['alive']
  runs.stopped = dict(meta.get('stopped', {}))
  runs.last_saved = list(meta.get('last_saved', [step] * len(runs.names)))
  faults = {k: np.asarray(meta['faults'][k], np.int32) for k in ('skipped_d', 'skipped_g')}
  size = len(runs.names)
  faults.update({k: np.full(size, NO_FAULTS[k], np.int32) for k in FAULTS if k not in faults})
  print(f'Resumed the group of {size} runs from {group_dir} at step {step}.', flush=True)
  return step, states, faults


def _check_workdirs(configs, workdirs, group_dir):
  """UserError unless every run's workdir and the group's folder can take this group. A run
  with checkpoints but a group without any is refused, unless those checkpoints are this
  group's (killed before its first group save: the rerun recomputes the same states)."""
  alone.check_workdir(group_dir)
  fresh = not run_folder.checkpoint_steps(group_dir)
  group_dir = os.path.abspath(group_dir)
  for config, workdir in zip(configs, workdirs):
    alone.check_workdir(workdir)
    alone._check_resume(config, workdir, False)
    if (
        fresh
        and run_folder.checkpoint_steps(workdir)
        and run_folder.read_group_link(workdir) != group_dir
    ):
      raise UserError(
          f'--workdir={workdir} has checkpoints of its own (trained alone); continue it alone '
          'with experiments.main, or train the group into new workdirs'
      )


def _write_workdirs(configs, workdirs, group_dir, exp):
  """Each run's config, data info and link to its group (process 0)."""
  if not multihost.is_main_process():
    return
  try:
    for i, (config, workdir) in enumerate(zip(configs, workdirs)):
      checkpoint.save_config(workdir, config)
      checkpoint.save_data_info(workdir, exp.source)
      link = {'group': os.path.abspath(group_dir), 'index': i}
      run_folder.write_json(os.path.join(workdir, run_folder.GROUP_FILE), link)
  except OSError as e:
    raise RunFailed(f'cannot write the config into {workdir}: {e}') from None


def train_group(configs, workdirs, group_dir, should_stop=lambda: False):
  """Trains every run of the group to train.num_steps; returns (stacked states, stopped_early).

  Raises UserError (bad input; nothing written) or RunFailed: some run stopped on a fault (the
  others finished), or a save failed.
  """
  if not configs or len(configs) != len(workdirs):
    raise UserError('a vectorized group needs one workdir per config, and at least one run')
  configs = [config_lib.with_defaults(c) for c in configs]
  for config in configs:
    try:
      config_lib.validate(config, jax.device_count())
    except config_lib.ConfigError as e:
      raise UserError(str(e)) from None
  check_group(configs)
  exp = build_experiment(configs[0])  # the program of them all (UserError before any write)
  size, t = len(configs), configs[0].train
  check_fits(exp, size, [os.path.basename(os.path.normpath(workdirs[0]))])
  periodic_eval = PeriodicEval(exp)  # shared: the evaluation does not depend on the seed
  runs = _Runs(configs, workdirs)
  rep = replicated(exp.mesh)
  abstract = jax.tree_util.tree_map(
      lambda x: jax.ShapeDtypeStruct((size, *x.shape), x.dtype, sharding=rep), exp.abstract_state
  )
  _check_workdirs(configs, workdirs, group_dir)
  ckpts = checkpoint.Checkpoints(group_dir, keep=configs[0].checkpoint.keep)
  run_ckpts = []
  try:
    keys = [jax.random.split(jax.random.key(c.seed)) for c in configs]  # (init, train) as alone
    found = _restore(ckpts, abstract, runs, group_dir)
    _write_workdirs(configs, workdirs, group_dir, exp)
    if found:
      step, states, faults = found
    else:
      step = 0
      states = jax.device_put(stack([exp.init_state(k[0]) for k in keys]), rep)
      faults = {k: np.full(size, v, np.int32) for k, v in NO_FAULTS.items()}
    rngs = jax.device_put(jnp.stack([k[1] for k in keys]), rep)
    hp = jax.device_put(group_hparams(configs), rep)
    run_ckpts = [
        checkpoint.Checkpoints(w, keep=c.checkpoint.keep) for c, w in zip(configs, workdirs)
    ]
    if multihost.is_main_process():
      runs.writers = [SummaryWriter(w) for w in workdirs]
    group_step = build_group_step(
        configs[0], exp.generator, exp.discriminator, exp.mesh, exp.num_classes
    )
    policy = t.get('on_nonfinite', 'stop')
    reported = [{k: int(faults[k][i]) for k in FAULTS} for i in range(size)]

    def check_faults():  # a small device sync: at log and checkpoint time only
      now = jax.device_get(faults)
      for i in runs.running():
        mine = {k: int(now[k][i]) for k in FAULTS}
        if mine != reported[i]:
          if policy == 'skip':
            print(f'{runs.names[i]}:', end=' ', file=sys.stderr)
          try:
            alone.ON_NONFINITE[policy](mine, step, runs.last_saved[i])
          except RunFailed as e:
            runs.stop(i, str(e))
        reported[i] = mine
      return now

    start = step
    progress, stopped = Progress(t.num_steps, step), False
    if runs.running():
      print(f'Training a group of {size} runs ({len(runs.running())} running).', flush=True)
    for first, n, real in group_batches(exp, [c.seed for c in configs], step, t.num_steps):
      if not runs.running():
        break
      alive = jnp.asarray(runs.alive)
      states, metrics = group_step(states, real, rngs, hp, alive)
      faults = _combine_alive(faults, {k: metrics.pop(k) for k in FAULTS}, alive)
      step = first + n
      if first == start:
        alone.say_compiled(progress, states, step)
      if step % t.log_every == 0 or step == t.num_steps:
        _log(runs, progress, step, jax.device_get(metrics), check_faults())
      live = runs.running()
      if t.sample_every and (step % t.sample_every == 0 or step == t.num_steps):
        for i in live:
          try:
            alone.write_samples(exp, row(states, i), workdirs[i], step, runs.writers[i])
          except OSError as e:
            print(f'warning: step {step}: cannot write the samples: {e}', file=sys.stderr)
      if periodic_eval.due(step, t.num_steps):
        for i in live:
          print(f'{runs.names[i]}:', end=' ', flush=True)
          periodic_eval(row(states, i), step, workdirs[i], runs.writers[i])
      stopped = should_stop()
      if step % configs[0].checkpoint.every_steps == 0 or step == t.num_steps or stopped:
        _save(ckpts, run_ckpts, runs, states, step, check_faults())
      if stopped:
        print(f'Stopped at step {step}; checkpoints saved in {group_dir}.', flush=True)
        break
  finally:
    for c in [ckpts, *run_ckpts]:
      c.close()
    for writer in runs.writers:
      if writer:
        try:
          writer.close()
        except OSError as e:
          print(f'warning: cannot write the TensorBoard log: {e}', file=sys.stderr)
  if step == start and not stopped and runs.running():
    print(f'Nothing to do: the group is already at step {step} of {t.num_steps}.')
  if runs.stopped and not stopped:
    names = ', '.join(sorted(runs.stopped))
    raise RunFailed(
        f"{len(runs.stopped)} of {size} runs stopped on faults ({names}; each one's log.txt says "
        f'why); the other {size - len(runs.stopped)} finished'
    )
  return states, stopped


def _log(runs, progress, step, metrics, faults):
  """Each running run's TensorBoard scalars, and one progress line for the group (its metrics
  averaged over the running runs)."""
  rate, live = progress.tick(step), runs.running()
  for i in live:
    if not runs.writers[i]:
      continue
    scalars = {
        **{k: v[i] for k, v in metrics.items()},
        **{f'skipped_{n}_updates': faults[f'skipped_{n}'][i] for n in 'dg'},
        **learning_rates(runs.configs[i], step),
        **({'steps_per_sec': rate} if rate else {}),
    }
    for name, value in scalars.items():
      runs.writers[i].add_scalar(name, float(value), step)
  mean = {k: np.mean(v[live]) for k, v in metrics.items()} if live else {}
  print(progress.line(step, rate, mean) + f' | {len(live)}/{len(runs.names)} runs', flush=True)


def _save(ckpts, run_ckpts, runs, states, step, faults):
  """Each running run's checkpoint (its slice), then the group's; RunFailed if a write fails."""
  for i in runs.running():
    mine = {k: int(faults[k][i]) for k in FAULTS}
    try:
      run_ckpts[i].save(row(states, i), step, metadata={'faults': mine})
      runs.last_saved[i] = step
    except checkpoint.NonFinite as e:  # an overflowing update with finite gradients
      runs.stop(i, f'step {step}: the state is {e} although no update was refused; not saved')
    except checkpoint.SaveFailed as e:
      raise RunFailed(f'{e}; fix that and rerun the same command to resume the group') from None
  metadata = {
      'faults': {k: [int(v) for v in faults[k]] for k in ('skipped_d', 'skipped_g')},
      'alive': [bool(a) for a in runs.alive],
      'stopped': runs.stopped,
      'last_saved': runs.last_saved,
      'runs': runs.names,
  }
  try:
    ckpts.save(states, step, metadata=metadata, allow_nonfinite=True)  # stopped runs as they were
  except checkpoint.SaveFailed as e:
    raise RunFailed(f'{e}; fix that and rerun the same command to resume the group') from None
