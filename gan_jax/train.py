"""The training loop: `train_and_evaluate(config, workdir)`.

Resumes from the workdir's newest checkpoint, runs the jitted step until
`train.num_steps`, logs scalars to TensorBoard and a progress line with
steps/s and ETA, writes sample images from a fixed noise batch, and saves
checkpoints every `checkpoint.every_steps`, at the end and when asked to stop.
"""

import collections
import os
from concurrent.futures import ThreadPoolExecutor
import jax
import numpy as np
from tensorboardX import SummaryWriter

from gan_jax import checkpoint, sampling
from gan_jax.config import config_diff
from gan_jax.experiment import UserError, build_experiment
from gan_jax.images import image_grid, save_samples
from gan_jax.progress import Progress
from gan_jax.sharding import batch_sharding, global_batch
from gan_jax.step import build_train_step

SAMPLE_SEED = 12345  # the fixed noise of the periodic sample images


def _host_batches(exp, step):
  """This process's real examples of iterations step, step+1, ...:
  (steps_per_call, d_steps, B / processes, ...) numpy.

  D update i of iteration s reads batch number s * d_steps + i of size B, so the
  examples of every D update are the same whatever the number of processes.
  """
  t = exp.config.train
  local = np.stack(
      [
          exp.source.batch(
              exp.config.seed, k, t.batch_size, jax.process_index(), jax.process_count()
          )
          for k in range(step * t.d_steps, (step + t.steps_per_call) * t.d_steps)
      ]
  )
  return local.reshape(t.steps_per_call, t.d_steps, *local.shape[1:])


def batches(exp, start, stop, depth=2):
  """Yields (step, sharded batches) for each call from `start` to `stop`; a thread
  loads the host data `depth` calls ahead (the order is a function of the step)."""
  steps = range(start, stop, exp.config.train.steps_per_call)
  sharding = batch_sharding(exp.mesh, 2)
  with ThreadPoolExecutor(1) as pool:
    pending = collections.deque(pool.submit(_host_batches, exp, s) for s in steps[:depth])
    for i, step in enumerate(steps):
      if i + depth < len(steps):
        pending.append(pool.submit(_host_batches, exp, steps[i + depth]))
      yield step, global_batch(pending.popleft().result(), sharding, 2)


def write_samples(exp, state, workdir, step, writer=None):
  """samples/step_<step>.png from the fixed noise (EMA weights); images also to TensorBoard.

  Every process draws (the arrays span all of them); process 0 writes.
  """
  samples = sampling.draw(exp.generator, state, exp.config.train.num_samples, SAMPLE_SEED)
  if jax.process_index() != 0:
    return None
  path = os.path.join(workdir, 'samples', f'step_{step:08d}.png')
  save_samples(samples, path, modes=getattr(exp.source, 'modes', None))
  if writer and samples.ndim == 4:
    writer.add_image('samples', image_grid(samples), step, dataformats='HWC')
  return path


def _check_resume(config, workdir, allow_config_change):
  """UserError unless `config` may continue the run saved in `workdir`."""
  if not os.path.isfile(os.path.join(workdir, checkpoint.CONFIG_FILE)):
    return
  diff = config_diff(checkpoint.load_config(workdir), config)
  if diff and not allow_config_change:
    raise UserError(
        f'--workdir={workdir} was trained with another config ({"; ".join(diff)}); '
        'use a new workdir, or --allow_config_change to continue anyway'
    )


def _restore(ckpts, exp, workdir):
  step = ckpts.latest_step()
  try:
    state = ckpts.restore(exp.abstract_state, step)
  except (ValueError, KeyError, OSError) as e:
    raise UserError(f'--workdir={workdir}: cannot restore step {step}: {e}') from None
  spc = exp.config.train.steps_per_call
  if step % spc:
    raise UserError(
        f'config.train.steps_per_call={spc}: the run is at step {step}, not a multiple of it'
    )
  print(f'Resumed from {workdir} at step {step}.', flush=True)
  return state


def train_and_evaluate(config, workdir, should_stop=lambda: False, allow_config_change=False):
  """Trains to `config.train.num_steps`; returns (final state, stopped_early)."""
  exp = build_experiment(config)  # raises UserError before anything is written
  _check_resume(config, workdir, allow_config_change)
  ckpts = checkpoint.Checkpoints(workdir, keep=config.checkpoint.keep)
  k_init, k_train = jax.random.split(jax.random.key(config.seed))
  if ckpts.latest_step() is not None:
    state = _restore(ckpts, exp, workdir)
  else:
    state = exp.init_state(k_init)
  checkpoint.save_config(workdir, config)
  checkpoint.save_data_info(workdir, exp.source)
  train_step = build_train_step(
      config, exp.generator, exp.discriminator, exp.g_tx, exp.d_tx, exp.mesh
  )
  writer = SummaryWriter(workdir) if jax.process_index() == 0 else None
  t = config.train
  start = step = int(state.step)
  progress, stopped = Progress(t.num_steps, step), False
  for first, real in batches(exp, step, t.num_steps):
    state, metrics = train_step(state, real, k_train)
    step = first + t.steps_per_call
    if step == start + t.steps_per_call:  # the first call compiles: time the rest
      jax.block_until_ready(state)
      print(f'Compiled and ran step {step} in {progress.restart(step):.1f}s.', flush=True)
    if step % t.log_every == 0 or step == t.num_steps:
      metrics = jax.device_get(metrics)
      rate = progress.tick(step)
      if writer:
        for name, value in {**metrics, **({'steps_per_sec': rate} if rate else {})}.items():
          writer.add_scalar(name, float(value), step)
      print(progress.line(step, rate, metrics), flush=True)
    if t.sample_every and (step % t.sample_every == 0 or step == t.num_steps):
      write_samples(exp, state, workdir, step, writer)
    stopped = should_stop()
    if step % config.checkpoint.every_steps == 0 or step == t.num_steps or stopped:
      ckpts.save(state, step)
    if stopped:
      print(f'Stopped at step {step}; checkpoint saved in {workdir}.', flush=True)
      break
  ckpts.close()
  if writer:
    writer.close()
  if step == start and not stopped:
    print(f'Nothing to do: {workdir} is already at step {step} of {t.num_steps}.')
  return state, stopped
