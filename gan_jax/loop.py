"""The one host loop: `train(program, should_stop) -> (state, stopped_early)`.

It drives any training program (gan_jax/programs: the interface `Program`): one G/D pair, a
vectorized group of them, and whatever else provides the same methods. Its parts, each once:

- cadence: `Every(n).due(step, last_step)` says when an action is due (in the manner of
  clu.periodic_actions); `split_calls` cuts the steps into calls of the compiled step that each
  end where something is due, so a resumed run makes the same calls as an uninterrupted one;
- prefetch: a thread loads the host batches of the calls `depth` ahead (their order is a
  function of the step);
- restore: the newest valid checkpoint (corrupt ones set aside), given back to the program with
  its metadata, or a fresh state at step 0;
- the calls: step, then at their cadence the fault check and log line, samples, evaluation and
  checkpoint; a checkpoint of the current step and a stop when `should_stop()` says so;
- the end: the program's writers and checkpointers closed, whatever happened.

What the program prints and writes is its own; the loop prints only the lines it owns
('Compiled and ran step ...', 'Stopped at step ...', 'Nothing to do: ...').
"""

import collections
import sys
from concurrent.futures import ThreadPoolExecutor

import jax

from gan_jax import best_checkpoint, checkpoint
from gan_jax.errors import UserError
from gan_jax.intervals import AnyOf, Every
from gan_jax.progress import Progress
from gan_jax.schema import eval_intervals
from gan_jax.sharding import batch_sharding, global_batch

def cadence(config) -> dict:
  """The actions of a config's run and when each is due: 'log', 'sample', 'eval' (at each
  interval of gan_jax.schema.eval_intervals: eval.every_steps and the metrics' own; at the end
  only of runs at least that long) and 'checkpoint' (also at each evaluation of
  checkpoint.keep_best's metric, where it is set: gan_jax/best_checkpoint.py)."""
  t = config.train
  saves = Every(config.checkpoint.every_steps)
  best_every = best_checkpoint.eval_interval(config)
  if best_every:
    saves = AnyOf((saves, Every(best_every, 'if_reached')))
  return {
      'log': Every(t.log_every),
      'sample': Every(t.sample_every),
      'eval': AnyOf(tuple(Every(n, 'if_reached') for n in eval_intervals(config))),
      'checkpoint': saves,
  }


def split_calls(start, stop, per_call, actions):
  """(first step, iterations) of each call from `start` to `stop`: `per_call` iterations, or
  fewer to end exactly where one of `actions` (each with `next_due(step)`) is next due."""
  step, out = start, []
  while step < stop:
    due = min([stop, *(d for a in actions if (d := a.next_due(step)) is not None)])
    n = min(per_call, due - step)
    out.append((step, n))
    step += n
  return out


def call_sizes(config, start, stop):
  """(first step, iterations) of each call of the compiled step from `start` to `stop`.

  A call runs `train.steps_per_call` iterations, or fewer to end exactly where something is due
  (a log line, samples, an evaluation, a checkpoint, the end): any step count and interval works
  with any steps_per_call. The split depends only on the steps, so a resumed run makes the same
  calls as an uninterrupted one from there on.
  """
  return split_calls(start, stop, config.train.steps_per_call, cadence(config).values())


def placer(mesh, batch_axis):
  """host batches (numpy, this process's rows) -> global arrays split over `mesh` along
  `batch_axis` (2 for one run's (iterations, d_steps, B, ...), 3 for a group's)."""
  sharding = batch_sharding(mesh, batch_axis)
  return lambda host: global_batch(host, sharding, batch_axis)


def prefetch(calls, load, place, depth=2):
  """Yields (step, iterations, place(load(step, iterations))) for each of `calls`; a thread
  runs `load` (the host data) `depth` calls ahead."""
  with ThreadPoolExecutor(1) as pool:
    pending = collections.deque(pool.submit(load, *c) for c in calls[:depth])
    for i, (step, n) in enumerate(calls):
      if i + depth < len(calls):
        pending.append(pool.submit(load, *calls[i + depth]))
      yield step, n, place(pending.popleft().result())


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


def restore_or_init(program, ckpts):
  """(state, step): the newest valid checkpoint's, taken back by the program (its metadata
  included), or the program's fresh state at step 0."""
  found = restore_checked(ckpts, program.abstract_state(), program.where)
  if found is None:
    return program.init_state(), 0
  step, state, metadata = found
  return program.restored(step, state, metadata), step


def say_compiled(progress, state, step):
  """After the first call (it compiles): how long it took, compiling included."""
  jax.block_until_ready(state)
  seconds, compiling = progress.first_call()
  print(f'Compiled and ran step {step} in {seconds:.1f}s ({compiling:.1f}s compiling).', flush=True)


def train(program, should_stop=lambda: False):
  """Trains `program` to its `num_steps`; returns (final state, stopped_early).

  Raises what the program raises: UserError (bad input, before anything is written) or
  RunFailed (a fault the program stops on, a failed save).
  """
  ckpts = program.checkpoints()
  stopped = False
  try:
    state, start = restore_or_init(program, ckpts)
    program.begin()
    state, step, stopped = _calls(program, state, start, should_stop)
  finally:
    program.close()
  if step == start and not stopped and program.running():
    print(f'Nothing to do: {program.subject} is already at step {step} of {program.num_steps}.')
  program.end(stopped)
  return state, stopped


def _calls(program, state, start, should_stop):
  """The calls of the compiled step from `start`, each followed by the actions due after it;
  returns (state, step reached, stopped_early)."""
  every, last = program.cadence, program.num_steps
  calls = split_calls(start, last, program.steps_per_call, every.values())
  place = placer(program.mesh, program.batch_axis)
  progress, step, stopped = Progress(last, start), start, False
  for first, n, batches in prefetch(calls, program.host_batches, place):
    if not program.running():
      break
    state, metrics = program.step(state, batches, first)
    step = first + n
    if first == start:
      say_compiled(progress, state, step)
    if every['log'].due(step, last):
      metrics = jax.device_get(metrics)
      program.check_faults(step)  # a small device sync: at log and checkpoint time only
      program.log(step, metrics, progress.tick(step), progress)
    if every['sample'].due(step, last):
      program.sample(state, step)
    if every['eval'].due(step, last):
      program.evaluate(state, step)
    stopped = should_stop()
    if every['checkpoint'].due(step, last) or stopped:
      program.check_faults(step)
      program.save(state, step)
    if stopped:
      print(f'Stopped at step {step}; {program.saved_where}.', flush=True)
      break
  return state, step, stopped
