"""S runs of one program vmapped over a leading run axis: `RunGroup`, the host side every group
shares, and `GroupProgram(configs, workdirs, group_dir)`, the G/D GAN's group, a
gan_jax.programs.Program (the translation programs' group: gan_jax/programs/translation_group.py).

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

import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
from tensorboardX import SummaryWriter

from gan_jax import rng
from gan_jax import best_checkpoint, checkpoint, multihost
from gan_jax import config as config_lib
from gan_jax import workdir as run_folder
from gan_jax.errors import RunFailed, UserError
from gan_jax.evaluator import PeriodicEval
from gan_jax.experiment import build_experiment
from gan_jax.loop import cadence
from gan_jax.programs import gan
from gan_jax.programs.group_memory import check_fits
from gan_jax.sharding import replicated
from gan_jax.step import FAULTS, NO_FAULTS, build_group_step, combine_faults


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


def checked_configs(configs, workdirs):
  """The configs with their defaults, validated, of one program; UserError otherwise."""
  if not configs or len(configs) != len(workdirs):
    raise UserError('a vectorized group needs one workdir per config, and at least one run')
  try:
    configs = [config_lib.prepare(c, jax.device_count()) for c in configs]
  except config_lib.ConfigError as e:
    raise UserError(str(e)) from None
  check_group(configs)
  return configs


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


def check_workdirs(configs, workdirs, group_dir):
  """UserError unless every run's workdir and the group's folder can take this group. A run
  with checkpoints but a group without any is refused, unless those checkpoints are this
  group's (killed before its first group save: the rerun recomputes the same states)."""
  gan.check_workdir(group_dir)
  fresh = not run_folder.checkpoint_steps(group_dir)
  group_dir = os.path.abspath(group_dir)
  for config, workdir in zip(configs, workdirs):
    gan.check_workdir(workdir)
    gan.check_resume(config, workdir, False)
    if (
        fresh
        and run_folder.checkpoint_steps(workdir)
        and run_folder.read_group_link(workdir) != group_dir
    ):
      raise UserError(
          f'--workdir={workdir} has checkpoints of its own (trained alone); continue it alone '
          'with experiments.main, or train the group into new workdirs'
      )


def write_workdirs(configs, workdirs, group_dir, source):
  """Each run's config, data info and link to its group (process 0)."""
  if not multihost.is_main_process():
    return
  try:
    for i, (config, workdir) in enumerate(zip(configs, workdirs)):
      checkpoint.save_config(workdir, config)
      checkpoint.save_data_info(workdir, source)
      link = {'group': os.path.abspath(group_dir), 'index': i}
      run_folder.write_json(os.path.join(workdir, run_folder.GROUP_FILE), link)
  except OSError as e:
    raise RunFailed(f'cannot write the config into {workdir}: {e}') from None


class RunGroup:
  """What every vectorized group does on the host, whatever its program: the runs of `configs`
  (checked_configs) in `workdirs` as one vmapped program over a leading run axis, its checkpoints
  in `group_dir`; `exp` is what they share (built from configs[0]: config, mesh, source,
  abstract_state, init_state(key)). A subclass sets `batch_axis` and defines `build_step()`
  (the jitted group_step(states, batches, rngs, hp, alive)), `host_batches`, `sample` and
  `evaluate` (each run's own, into its workdir)."""

  def __init__(self, configs, workdirs, group_dir, exp):
    self.exp, self.configs, self.workdirs, self.group_dir = exp, configs, workdirs, group_dir
    size = len(configs)
    self.names = [os.path.basename(os.path.normpath(w)) for w in workdirs]
    check_fits(exp, size, self.names[:1])
    self.alive = np.ones(size, bool)
    self.stopped = {}  # name -> the error line
    self.last_saved = [None] * size
    self.writers, self.run_ckpts, self.ckpts = [None] * size, [], None
    check_workdirs(configs, workdirs, group_dir)
    self.where, self.subject = f'--group={group_dir}', 'the group'
    self.saved_where = f'checkpoints saved in {group_dir}'
    t = configs[0].train
    self.num_steps, self.steps_per_call = t.num_steps, t.steps_per_call
    self.cadence, self.mesh = cadence(configs[0]), exp.mesh
    self.policy = configs[0].train.on_nonfinite
    self.keys = [jax.random.split(rng.key(c.seed)) for c in configs]  # (init, train)
    self.faults = {k: np.full(size, v, np.int32) for k, v in NO_FAULTS.items()}

  def checkpoints(self):
    self.ckpts = checkpoint.Checkpoints(self.group_dir, keep=self.configs[0].checkpoint.keep)
    return self.ckpts

  def abstract_state(self):
    size, rep = len(self.configs), replicated(self.mesh)
    return jax.tree_util.tree_map(
        lambda x: jax.ShapeDtypeStruct((size, *x.shape), x.dtype, sharding=rep),
        self.exp.abstract_state,
    )

  def restored(self, step, state, metadata):
    """The runs' alive flags, stops and fault counts from the group checkpoint's metadata."""
    if metadata.get('runs') != self.names:
      raise UserError(
          f'--group={self.group_dir}: its checkpoints are of other runs ({metadata.get("runs")})'
      )
    size = len(self.names)
    self.alive[:] = metadata['alive']
    self.stopped = dict(metadata.get('stopped', {}))
    self.last_saved = list(metadata.get('last_saved', [step] * size))
    counts = {k: np.asarray(metadata['faults'][k], np.int32) for k in ('skipped_d', 'skipped_g')}
    self.faults.update(counts)
    print(f'Resumed the group of {size} runs from {self.group_dir} at step {step}.', flush=True)
    return state

  def init_state(self):
    states = stack([self.exp.init_state(k[0]) for k in self.keys])
    return jax.device_put(states, replicated(self.mesh))

  def begin(self):
    configs, exp, rep = self.configs, self.exp, replicated(self.mesh)
    write_workdirs(configs, self.workdirs, self.group_dir, exp.source)
    self.rngs = jax.device_put(jnp.stack([k[1] for k in self.keys]), rep)
    self.hp = jax.device_put(group_hparams(configs), rep)
    self.run_ckpts = [
        checkpoint.Checkpoints(w, c.checkpoint.keep, keep_also=best_checkpoint.keeper(w, c))
        for c, w in zip(configs, self.workdirs)
    ]
    if multihost.is_main_process():
      self.writers = [SummaryWriter(w) for w in self.workdirs]
    self.group_step = self.build_step()
    self.reported = [{k: int(self.faults[k][i]) for k in FAULTS} for i in range(len(configs))]
    if self.running():
      print(f'Training a group of {len(configs)} runs ({len(self.live())} running).', flush=True)
      print(f'Each run: {gan.parameter_counts(exp.abstract_state)}.', flush=True)

  def step(self, state, batches, first_step):
    del first_step
    alive = jnp.asarray(self.alive)
    state, metrics = self.group_step(state, batches, self.rngs, self.hp, alive)
    self.faults = _combine_alive(self.faults, {k: metrics.pop(k) for k in FAULTS}, alive)
    return state, metrics

  def live(self):
    """The indices of the runs still training."""
    return [int(i) for i in np.flatnonzero(self.alive)]

  def running(self):
    return bool(self.live())

  def stop(self, i, message):
    """Run i stops (its updates masked from the next call on): its log.txt and a line say why."""
    self.alive[i] = False
    self.stopped[self.names[i]] = message
    if multihost.is_main_process():
      _append_log(self.workdirs[i], f'error: {message}')
    print(f'error: {self.names[i]}: {message}; the group goes on without it', flush=True)

  def check_faults(self, step):
    """Each running run's fault policy on its own counts: 'stop' stops it alone."""
    self.now = now = jax.device_get(self.faults)
    for i in self.live():
      mine = {k: int(now[k][i]) for k in FAULTS}
      if mine != self.reported[i]:
        if self.policy == 'skip':
          print(f'{self.names[i]}:', end=' ', file=sys.stderr)
        try:
          gan.ON_NONFINITE[self.policy](mine, step, self.last_saved[i])
        except RunFailed as e:
          self.stop(i, str(e))
      self.reported[i] = mine

  def log(self, step, metrics, rate, progress):
    """Each running run's TensorBoard scalars, and one progress line for the group (its metrics
    averaged over the running runs)."""
    live, faults = self.live(), self.now
    for i in live:
      if self.writers[i]:
        mine = {k: v[i] for k, v in metrics.items()}
        counts = {k: faults[k][i] for k in ('skipped_d', 'skipped_g')}
        seconds = progress.seconds()
        gan.write_scalars(self.writers[i], step, mine, counts, self.configs[i], rate, seconds)
    mean = {k: np.mean(v[live]) for k, v in metrics.items()} if live else {}
    print(progress.line(step, rate, mean) + f' | {len(live)}/{len(self.names)} runs', flush=True)

  def save(self, state, step):
    """Each running run's checkpoint (its slice), then the group's; RunFailed if a write fails."""
    faults = self.now
    for i in self.live():
      mine = {k: int(faults[k][i]) for k in FAULTS}
      try:
        self.run_ckpts[i].save(row(state, i), step, metadata={'faults': mine})
        self.last_saved[i] = step
      except checkpoint.NonFinite as e:  # an overflowing update with finite gradients
        self.stop(i, f'step {step}: the state is {e} although no update was refused; not saved')
      except checkpoint.SaveFailed as e:
        raise RunFailed(f'{e}; fix that and rerun the same command to resume the group') from None
    metadata = {
        'faults': {k: [int(v) for v in faults[k]] for k in ('skipped_d', 'skipped_g')},
        'alive': [bool(a) for a in self.alive],
        'stopped': self.stopped,
        'last_saved': self.last_saved,
        'runs': self.names,
    }
    try:  # stopped runs as they were
      self.ckpts.save(state, step, metadata=metadata, allow_nonfinite=True)
    except checkpoint.SaveFailed as e:
      raise RunFailed(f'{e}; fix that and rerun the same command to resume the group') from None

  def close(self):
    gan.close_all([self.ckpts, *self.run_ckpts], self.writers)

  def end(self, stopped):
    """RunFailed naming the runs that stopped on faults (unless the group was asked to stop)."""
    if self.stopped and not stopped:
      size, names = len(self.names), ', '.join(sorted(self.stopped))
      raise RunFailed(
          f"{len(self.stopped)} of {size} runs stopped on faults ({names}; each one's log.txt "
          f'says why); the other {size - len(self.stopped)} finished'
      )


class GroupProgram(RunGroup):
  """The G/D GAN runs of `configs` in `workdirs` as one vmapped program (gan_jax/step.py
  build_group_step), its checkpoints in `group_dir`; run i reads `gan.host_batches` of its seed
  (what it reads alone; looked up at call time)."""

  batch_axis = 3  # batches: (S, iterations, d_steps, B, ...)

  def __init__(self, configs, workdirs, group_dir):
    configs = checked_configs(configs, workdirs)
    exp = build_experiment(configs[0])  # the program of them all (UserError first)
    self.periodic_eval = PeriodicEval(exp)  # shared: the evaluation does not depend on the seed
    best_checkpoint.check_evaluated(configs[0], self.periodic_eval.names)
    super().__init__(configs, workdirs, group_dir, exp)

  def build_step(self):
    return build_group_step(self.exp)

  def host_batches(self, step, n):
    """Leaves (S, n, d_steps, B, ...): run i's rows in the order of its seed (what it reads
    alone)."""
    runs = [gan.host_batches(self.exp, step, n, c.seed) for c in self.configs]
    return jax.tree_util.tree_map(lambda *xs: np.stack(xs), *runs)

  def sample(self, state, step):
    for i in self.live():
      gan.write_samples_or_warn(self.exp, row(state, i), self.workdirs[i], step, self.writers[i])

  def evaluate(self, state, step):
    if not self.periodic_eval.due(step, self.num_steps):  # which metrics: their own intervals
      return
    for i in self.live():
      print(f'{self.names[i]}:', end=' ', flush=True)
      self.periodic_eval(row(state, i), step, self.workdirs[i], self.writers[i])
