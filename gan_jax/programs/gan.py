"""One G/D pair trained in one workdir: `GanProgram(config, workdir)`, a gan_jax.programs.Program.

Its compiled step is gan_jax/step.py's `build_train_step` (the hyperparameters compile in as
constants). Resumes from the workdir's newest valid checkpoint (its fault counts in the
metadata), logs scalars to TensorBoard and a progress line, writes sample images from a fixed
noise batch, and saves checkpoints with their fault counts.

Faults: an update the step refused as non-finite stops the run (`RunFailed`, nothing saved after
it) or, with `train.on_nonfinite='skip'`, is counted (ON_NONFINITE); a save that fails (e.g. disk
full) stops the run with `RunFailed`. Either way the newest checkpoint on disk is a good state to
resume from. The helpers here (host batches, samples, the workdir and resume checks, the fault
policies, the checked save) serve the group program too.
"""

import os
import sys

import jax
import numpy as np
from tensorboardX import SummaryWriter

from gan_jax import rng
from gan_jax import best_checkpoint, checkpoint, multihost, sampling
from gan_jax import workdir as run_folder
from gan_jax.config import config_diff, config_warnings
from gan_jax.errors import RunFailed, UserError
from gan_jax.evaluator import PeriodicEval
from gan_jax.experiment import build_experiment, check_creatable
from gan_jax.images import samples_image, save_png
from gan_jax.loop import cadence
from gan_jax.optimizers import learning_rates
from gan_jax.sharding import describe_here
from gan_jax.step import FAULTS, NO_FAULTS, build_train_step, combine_faults

SAMPLE_SEED = 12345  # the fixed noise of the periodic sample images


def host_batches(exp, step, n, seed=None):
  """This process's real examples of iterations step .. step + n - 1: a dict pytree ({'x', 'y'})
  of numpy leaves (n, d_steps, B / processes, ...), in the order of `seed` (default: the
  config's).

  D update i of iteration s reads batch number s * d_steps + i of size B, so the
  examples of every D update are the same whatever the number of processes.
  """
  t = exp.config.train
  seed = exp.config.seed if seed is None else seed
  local = [
      exp.source.batch(seed, k, t.batch_size, jax.process_index(), jax.process_count())
      for k in range(step * t.d_steps, (step + n) * t.d_steps)
  ]
  return jax.tree_util.tree_map(
      lambda *xs: np.stack(xs).reshape(n, t.d_steps, *xs[0].shape), *local
  )


def write_samples(exp, state, workdir, step, writer=None, generator=None):
  """samples/step_<step>.png from the fixed noise (EMA weights; one row per class for a
  conditional run) of `generator` (default: the run's; a grown run's at its stage): an image
  grid, or the scatter plot of 2D points; the same picture to TensorBoard ('samples').

  Every process draws (the arrays span all of them); process 0 writes.
  """
  samples, ncols = sampling.draw_grid(
      generator or exp.generator, state, exp.config.train.num_samples, SAMPLE_SEED
  )
  if jax.process_index() != 0:
    return None
  path = run_folder.sample_path(workdir, step)
  pixels = samples_image(samples, modes=getattr(exp.source, 'modes', None), ncols=ncols)
  run_folder.write_atomically(path, lambda tmp: save_png(pixels, tmp))
  if writer:
    writer.add_image('samples', pixels, step, dataformats='HWC')
  return path


def write_samples_or_warn(exp, state, workdir, step, writer=None, generator=None):
  """write_samples, a warning if it cannot write: not worth stopping for (on a full disk the
  next save stops the run)."""
  try:
    write_samples(exp, state, workdir, step, writer, generator)
  except OSError as e:
    print(f'warning: step {step}: cannot write the samples: {e}', file=sys.stderr)


def check_workdir(workdir):
  """UserError unless `workdir` is, or can be created as, a writable folder (creates nothing)."""
  if not workdir:
    raise UserError('--workdir: must not be empty')
  check_creatable(workdir, f'--workdir={workdir}', '{} is a file, not a folder')


def check_resume(config, workdir, allow_config_change):
  """UserError unless `config` may continue the run saved in `workdir`."""
  if not os.path.isfile(os.path.join(workdir, checkpoint.CONFIG_FILE)):
    return
  try:
    saved = checkpoint.load_config(workdir)
  except ValueError as e:
    raise UserError(f'--workdir={workdir}: {e}') from None
  diff = config_diff(saved, config)
  if diff and not allow_config_change:
    raise UserError(
        f'--workdir={workdir} was trained with another config ({"; ".join(diff)}); '
        'use a new workdir, or --allow_config_change to continue anyway'
    )


def _first_fault(faults):
  """(first step with a refused update, "the discriminator's" / ... / "and the generator's")."""
  first = min(faults['first_skip_d'], faults['first_skip_g'])
  nets = [f"{n}'s" for n in ('discriminator', 'generator') if faults[f'first_skip_{n[0]}'] == first]
  return first, 'the ' + ' and the '.join(nets)


def _stop(faults, step, last_saved):
  del step
  first, whose = _first_fault(faults)
  if last_saved is None:
    advice = 'no checkpoint was saved before it: lower the learning rate'
  else:
    advice = (
        f'resume from the last good checkpoint, step {last_saved}, with a lower learning rate '
        '(--allow_config_change)'
    )
  updates = 'updates are' if ' and ' in whose else 'update is'
  raise RunFailed(
      f'step {first}: {whose} {updates} not finite (loss, gradients or statistics); stopped '
      f"without saving (config.train.on_nonfinite='stop'); {advice} or "
      '--config.train.on_nonfinite=skip'
  )


def _skip(faults, step, last_saved):
  del last_saved
  first, whose = _first_fault(faults)
  print(
      f"warning: step {step}: {faults['skipped_d']} D and {faults['skipped_g']} G updates skipped "
      "so far as not finite (config.train.on_nonfinite='skip'); the first: "
      f'{whose} at step {first}',
      file=sys.stderr,
      flush=True,
  )


# What the host does, at log and checkpoint time, once the step has refused an update:
# policy(host fault counts of one run, step, its last saved step or None).
ON_NONFINITE = {'stop': _stop, 'skip': _skip}


def step_name(step):
  return 'none yet' if step is None else f'step {step}'


def save_checked(ckpts, state, step, faults, last_saved, extra=None):
  """Writes the checkpoint of `step` (metadata: the fault counts and `extra`); RunFailed naming
  the step and the error if it fails."""
  try:
    ckpts.save(state, step, metadata={'faults': faults, **(extra or {})})
  except checkpoint.SaveFailed as e:
    raise RunFailed(
        f'{e}; the newest checkpoint is {step_name(last_saved)}: fix that and rerun the same '
        'command to resume from it'
    ) from None
  except checkpoint.NonFinite as e:  # an overflowing update with finite gradients
    raise RunFailed(
        f'step {step}: the state is {e} although no update was refused; not saved. The last good '
        f'checkpoint is {step_name(last_saved)}'
    ) from None


def announce(exp):
  """What runs where, and the config's warnings: printed once at the start (process 0)."""
  if jax.process_index() != 0:
    return
  for line in describe_here(exp.mesh):
    print(line, flush=True)
  print(parameter_counts(exp.abstract_state), flush=True)
  for line in config_warnings(exp.config):
    print(line, file=sys.stderr, flush=True)


def parameter_counts(state) -> str:
  """'G: 484,802 parameters, D: 405,201' of a TrainState (or its abstract shapes): the
  trained parameters only (not BatchNorm statistics nor a leading run axis' copies)."""
  count = lambda tree: sum(int(np.prod(leaf.shape)) for leaf in jax.tree_util.tree_leaves(tree))
  return f'G: {count(state.g_params):,} parameters, D: {count(state.d_params):,}'


def write_scalars(writer, step, metrics, faults, config, rate, seconds=None):
  """One run's TensorBoard scalars at `step`: its metrics, its skipped updates so far, the
  learning rates, (once measured) steps/s and `wall_seconds` (Progress.seconds: this process's
  training time so far, compiling included)."""
  scalars = {
      **metrics,
      **{f'skipped_{n}_updates': faults[f'skipped_{n}'] for n in 'dg'},
      **learning_rates(config, step),
      **({'steps_per_sec': rate} if rate else {}),
      **({'wall_seconds': seconds} if seconds is not None else {}),
  }
  for name, value in scalars.items():
    writer.add_scalar(name, float(value), step)


def host_faults(faults) -> dict:
  """{counter: int} of one run's fault counters (a device sync)."""
  return {k: int(v) for k, v in jax.device_get(faults).items()}


class GanProgram:
  """One G/D pair in `workdir`; its host batches are this module's `host_batches`, looked up at
  call time (the one seam where tests inject faulty data into a run or a group)."""

  batch_axis = 2  # batches: (iterations, d_steps, B, ...)

  def __init__(self, config, workdir, allow_config_change=False):
    self.exp = build_experiment(config)  # raises UserError before anything is written
    self.config = config = self.exp.config  # with the defaults of fields older configs lack
    self.periodic_eval = PeriodicEval(self.exp)  # UserError if a named metric cannot run
    best_checkpoint.check_evaluated(config, self.periodic_eval.names)
    self._open_run(workdir, allow_config_change)

  def _open_run(self, workdir, allow_config_change):
    """What every one-workdir program sets up from `self.config` and `self.exp` (its built
    parts: mesh, init_state, abstract_state, source): the workdir and resume checks (UserError
    before anything is written), the loop's words, cadence and keys, the fault counters."""
    config = self.config
    check_workdir(workdir)
    check_resume(config, workdir, allow_config_change)
    self.workdir, self.where, self.subject = workdir, f'--workdir={workdir}', workdir
    self.saved_where = f'checkpoint saved in {workdir}'
    self.num_steps, self.steps_per_call = config.train.num_steps, config.train.steps_per_call
    self.cadence, self.mesh = cadence(config), self.exp.mesh
    self.on_nonfinite = ON_NONFINITE[config.train.on_nonfinite]
    self.k_init, self.k_train = jax.random.split(rng.key(config.seed))
    self.faults, self.last_saved = dict(NO_FAULTS), None
    self.ckpts = self.writer = self.train_step = None

  def checkpoints(self):
    self.ckpts = checkpoint.Checkpoints(
        self.workdir,
        keep=self.config.checkpoint.keep,
        keep_also=best_checkpoint.keeper(self.workdir, self.config),
    )
    return self.ckpts

  def abstract_state(self):
    return self.exp.abstract_state

  def restored(self, step, state, metadata):
    if 'digest' not in metadata:
      print(f'note: checkpoint step {step} predates digests: restored unverified', file=sys.stderr)
    print(f'Resumed from {self.workdir} at step {step}.', flush=True)
    saved = metadata.get('faults', {})  # metadata: older checkpoints may lack keys
    counts = {k: v for k, v in saved.items() if k in ('skipped_d', 'skipped_g')}
    self.faults = {**NO_FAULTS, **counts}  # first_skip_*: the first since this start
    self.last_saved = step
    return state

  def init_state(self):
    return self.exp.init_state(self.k_init)

  def begin(self):
    self._write_run_files()
    self.train_step = build_train_step(self.exp)
    self.writer = SummaryWriter(self.workdir) if multihost.is_main_process() else None

  def _write_run_files(self):
    """The start of every one-workdir program's begin(): what runs where, the fault counts it
    resumes with, config.json and data.json (process 0; RunFailed if they cannot be written)."""
    announce(self.exp)
    self.reported = host_faults(self.faults)
    try:
      if multihost.is_main_process():  # the others write nothing but their checkpoint shards
        checkpoint.save_config(self.workdir, self.config)
        checkpoint.save_data_info(self.workdir, self.exp.source)
    except OSError as e:  # e.g. a full disk
      raise RunFailed(f'cannot write the config into {self.workdir}: {e}') from None

  def host_batches(self, step, n):
    return host_batches(self.exp, step, n)  # the module's function, looked up at call time

  def step(self, state, batches, first_step):
    del first_step  # one compiled step for the whole run
    state, metrics = self.train_step(state, batches, self.k_train)
    self.faults = combine_faults(self.faults, {k: metrics.pop(k) for k in FAULTS})
    return state, metrics

  def running(self):
    return True

  def check_faults(self, step):
    now = host_faults(self.faults)
    if now != self.reported:
      self.on_nonfinite(now, step, self.last_saved)
    self.reported = now

  def log(self, step, metrics, rate, progress):
    """TensorBoard scalars (with the learning rates) and the progress line (with the skipped
    updates, once there are any). The rate is over the last ticks, compilation left out."""
    faults = self.reported
    if self.writer:
      write_scalars(self.writer, step, metrics, faults, self.config, rate, progress.seconds())
    line = progress.line(step, rate, metrics)
    if faults['skipped_d'] or faults['skipped_g']:
      line += f' | skipped D {faults["skipped_d"]} G {faults["skipped_g"]}'
    print(line, flush=True)

  def sample(self, state, step):
    write_samples_or_warn(self.exp, state, self.workdir, step, self.writer)

  def evaluate(self, state, step):
    if self.periodic_eval.due(step, self.num_steps):  # which metrics: their own intervals
      self.periodic_eval(state, step, self.workdir, self.writer)

  def save(self, state, step):
    save_checked(self.ckpts, state, step, self.reported, self.last_saved)
    self.last_saved = step

  def close(self):
    close_all([self.ckpts], [self.writer])

  def end(self, stopped):
    del stopped  # a fault has already raised RunFailed


def close_all(ckpts, writers):
  """Closes checkpointers and TensorBoard writers (None ones skipped); a writer that cannot
  flush is a warning: the scalars since its last flush are lost, not the run."""
  for c in ckpts:
    if c:
      c.close()
  for writer in writers:
    if writer:
      try:
        writer.close()
      except OSError as e:
        print(f'warning: cannot write the TensorBoard log: {e}', file=sys.stderr)
