"""The training loop: `train_and_evaluate(config, workdir)`.

Resumes from the workdir's newest valid checkpoint (a corrupt one is moved
aside with a warning), runs the jitted step until `train.num_steps`, logs
scalars to TensorBoard and a progress line with steps/s and ETA, writes sample
images from a fixed noise batch, and saves checkpoints every
`checkpoint.every_steps`, at the end and when asked to stop.

Faults: a bad workdir or config is a `UserError` before anything is written. An
update the step refused as non-finite stops the run (`RunFailed`, nothing saved
after it) or, with `train.on_nonfinite='skip'`, is counted; a save that fails
(e.g. disk full) stops the run with `RunFailed`. Either way the newest
checkpoint on disk is a good state to resume from.
"""

import collections
import os
import sys
from concurrent.futures import ThreadPoolExecutor
import jax
import numpy as np
from tensorboardX import SummaryWriter

from gan_jax import checkpoint, multihost, sampling
from gan_jax import workdir as run_folder
from gan_jax.config import config_diff, config_warnings
from gan_jax.evaluator import PeriodicEval
from gan_jax.errors import RunFailed, UserError  # both re-exported for older imports
from gan_jax.experiment import build_experiment, check_creatable
from gan_jax.images import samples_image, save_png
from gan_jax.optimizers import learning_rates
from gan_jax.progress import Progress
from gan_jax.sharding import batch_sharding, describe_here, global_batch
from gan_jax.step import FAULTS, NO_FAULTS, build_train_step, combine_faults

SAMPLE_SEED = 12345  # the fixed noise of the periodic sample images


def _host_batches(exp, step, n, seed=None):
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


def call_sizes(config, start, stop):
  """(first step, iterations) of each call of the compiled step from `start` to `stop`.

  A call runs `train.steps_per_call` iterations, or fewer to end exactly where something is due
  (a log line, samples, an evaluation, a checkpoint, the end): any step count and interval works
  with any steps_per_call. The split depends only on the steps, so a resumed run makes the same
  calls as an uninterrupted one from there on.
  """
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


def batches(exp, start, stop, depth=2):
  """Yields (step, iterations, sharded batches) for each call from `start` to `stop`; a thread
  loads the host data `depth` calls ahead (the order is a function of the step)."""
  calls = call_sizes(exp.config, start, stop)
  sharding = batch_sharding(exp.mesh, 2)
  with ThreadPoolExecutor(1) as pool:
    pending = collections.deque(pool.submit(_host_batches, exp, *c) for c in calls[:depth])
    for i, (step, n) in enumerate(calls):
      if i + depth < len(calls):
        pending.append(pool.submit(_host_batches, exp, *calls[i + depth]))
      yield step, n, global_batch(pending.popleft().result(), sharding, 2)


def write_samples(exp, state, workdir, step, writer=None):
  """samples/step_<step>.png from the fixed noise (EMA weights; one row per class for a
  conditional run): an image grid, or the scatter plot of 2D points; the same picture to
  TensorBoard ('samples').

  Every process draws (the arrays span all of them); process 0 writes.
  """
  samples, ncols = sampling.draw_grid(
      exp.generator, state, exp.config.train.num_samples, SAMPLE_SEED
  )
  if jax.process_index() != 0:
    return None
  path = run_folder.sample_path(workdir, step)
  pixels = samples_image(samples, modes=getattr(exp.source, 'modes', None), ncols=ncols)
  run_folder.write_atomically(path, lambda tmp: save_png(pixels, tmp))
  if writer:
    writer.add_image('samples', pixels, step, dataformats='HWC')
  return path


def check_workdir(workdir):
  """UserError unless `workdir` is, or can be created as, a writable folder (creates nothing)."""
  if not workdir:
    raise UserError('--workdir: must not be empty')
  check_creatable(workdir, f'--workdir={workdir}', '{} is a file, not a folder')


def _check_resume(config, workdir, allow_config_change):
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


def restore_checked(ckpts, abstract_state, where):
  """(step, state, metadata) of the newest valid checkpoint of `ckpts`, corrupt ones set aside,
  or None if there is none; says which unfinished saves were removed. UserError (starting with
  `where`) if the checkpoints hold other arrays, or if every one is corrupt."""
  for path in ckpts.removed:
    print(f'note: removed {path}, a save that never completed', file=sys.stderr, flush=True)
  had_any = bool(ckpts.all_steps())
  try:
    found = checkpoint.restore_newest_valid(ckpts, abstract_state, set_aside=True)
  except checkpoint.Mismatch as e:
    raise UserError(f'{where}: {e}') from None
  if found is None:
    if had_any:
      raise UserError(
          f'{where}: no valid checkpoint left (the corrupt ones are set aside as '
          f'{ckpts.directory}/<step>{checkpoint.CORRUPT_SUFFIX}); rerun to start from step 0'
      )
    return None
  step, state = found
  return step, state, ckpts.metadata(step)


def _restore(ckpts, exp, workdir):
  """(step, state, faults so far) of the newest valid checkpoint, or None if there is none."""
  found = restore_checked(ckpts, exp.abstract_state, f'--workdir={workdir}')
  if found is None:
    return None
  step, state, metadata = found
  if 'digest' not in metadata:
    print(f'note: checkpoint step {step} predates digests: restored unverified', file=sys.stderr)
  print(f'Resumed from {workdir} at step {step}.', flush=True)
  counts = {k: v for k, v in metadata.get('faults', {}).items() if k in ('skipped_d', 'skipped_g')}
  return step, state, {**NO_FAULTS, **counts}  # first_skip_*: the first since this start


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


# What the host does, at log and checkpoint time, once the step has refused an update.
ON_NONFINITE = {'stop': _stop, 'skip': _skip}


def say_compiled(progress, state, step):
  """After the first call (it compiles): how long it took, compiling included."""
  jax.block_until_ready(state)
  seconds, compiling = progress.first_call()
  print(f'Compiled and ran step {step} in {seconds:.1f}s ({compiling:.1f}s compiling).', flush=True)


def _step_name(step):
  return 'none yet' if step is None else f'step {step}'


def _save(ckpts, state, step, faults, last_saved):
  """Writes the checkpoint of `step`; RunFailed naming the step and the error if it fails."""
  try:
    ckpts.save(state, step, metadata={'faults': faults})
  except checkpoint.SaveFailed as e:
    raise RunFailed(
        f'{e}; the newest checkpoint is {_step_name(last_saved)}: fix that and rerun the same '
        'command to resume from it'
    ) from None
  except checkpoint.NonFinite as e:  # an overflowing update with finite gradients
    raise RunFailed(
        f'step {step}: the state is {e} although no update was refused; not saved. The last good '
        f'checkpoint is {_step_name(last_saved)}'
    ) from None


def _announce(exp):
  """What runs where, and the config's warnings: printed once at the start (process 0)."""
  if jax.process_index() != 0:
    return
  for line in describe_here(exp.mesh):
    print(line, flush=True)
  for line in config_warnings(exp.config):
    print(line, file=sys.stderr, flush=True)


def _log(writer, progress, step, metrics, faults, config):
  """TensorBoard scalars (with the learning rates) and the progress line (with the skipped
  updates, once there are any). The rate is over the last ticks, compilation left out."""
  skipped = {f'skipped_{n}_updates': faults[f'skipped_{n}'] for n in 'dg'}
  rate = progress.tick(step)
  if writer:
    scalars = {
        **metrics,
        **skipped,
        **learning_rates(config, step),
        **({'steps_per_sec': rate} if rate else {}),
    }
    for name, value in scalars.items():
      writer.add_scalar(name, float(value), step)
  line = progress.line(step, rate, metrics)
  if any(skipped.values()):
    line += f' | skipped D {faults["skipped_d"]} G {faults["skipped_g"]}'
  print(line, flush=True)


def train_and_evaluate(config, workdir, should_stop=lambda: False, allow_config_change=False):
  """Trains to `config.train.num_steps`; returns (final state, stopped_early).

  Raises UserError (bad input; nothing written) or RunFailed (see the module docstring).
  """
  exp = build_experiment(config)  # raises UserError before anything is written
  config = exp.config  # with the defaults of fields that older configs lack
  periodic_eval = PeriodicEval(exp)  # UserError if a metric named in config.eval cannot run
  check_workdir(workdir)
  _check_resume(config, workdir, allow_config_change)
  ckpts = checkpoint.Checkpoints(workdir, keep=config.checkpoint.keep)
  writer = None
  try:
    k_init, k_train = jax.random.split(jax.random.key(config.seed))
    found = _restore(ckpts, exp, workdir)
    _announce(exp)
    if found:
      last_saved, state, faults = found
    else:
      last_saved, state, faults = None, exp.init_state(k_init), dict(NO_FAULTS)
    try:
      if multihost.is_main_process():  # the others write nothing but their checkpoint shards
        checkpoint.save_config(workdir, config)
        checkpoint.save_data_info(workdir, exp.source)
    except OSError as e:  # e.g. a full disk
      raise RunFailed(f'cannot write the config into {workdir}: {e}') from None
    train_step = build_train_step(
        config, exp.generator, exp.discriminator, exp.g_tx, exp.d_tx, exp.mesh, exp.num_classes
    )
    writer = SummaryWriter(workdir) if multihost.is_main_process() else None
    t = config.train
    on_nonfinite, reported = ON_NONFINITE[t.get('on_nonfinite', 'stop')], faults

    def check_faults():  # a small device sync: at log and checkpoint time only
      nonlocal reported
      now = {k: int(v) for k, v in jax.device_get(faults).items()}
      if now != reported:
        on_nonfinite(now, step, last_saved)
      reported = now
      return now

    start = step = int(state.step)
    progress, stopped = Progress(t.num_steps, step), False
    for first, n, real in batches(exp, step, t.num_steps):
      state, metrics = train_step(state, real, k_train)
      faults = combine_faults(faults, {k: metrics.pop(k) for k in FAULTS})
      step = first + n
      if first == start:
        say_compiled(progress, state, step)
      if step % t.log_every == 0 or step == t.num_steps:
        _log(writer, progress, step, jax.device_get(metrics), check_faults(), config)
      if t.sample_every and (step % t.sample_every == 0 or step == t.num_steps):
        try:
          write_samples(exp, state, workdir, step, writer)
        except OSError as e:  # not worth stopping for; on a full disk the next save stops
          print(f'warning: step {step}: cannot write the samples: {e}', file=sys.stderr)
      if periodic_eval.due(step, t.num_steps):
        periodic_eval(state, step, workdir, writer)
      stopped = should_stop()
      if step % config.checkpoint.every_steps == 0 or step == t.num_steps or stopped:
        _save(ckpts, state, step, check_faults(), last_saved)
        last_saved = step
      if stopped:
        print(f'Stopped at step {step}; checkpoint saved in {workdir}.', flush=True)
        break
  finally:
    ckpts.close()
    if writer:
      try:
        writer.close()
      except OSError as e:  # the scalars since the last flush are lost, not the run
        print(f'warning: cannot write the TensorBoard log: {e}', file=sys.stderr)
  if step == start and not stopped:
    print(f'Nothing to do: {workdir} is already at step {step} of {t.num_steps}.')
  return state, stopped
