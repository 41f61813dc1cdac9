"""Training programs: what the host loop (gan_jax/loop.py) trains, behind one small interface.

  gan.py    GanProgram: one G/D pair in one workdir (k D steps, G step, EMA; unrolling, packing)
  group.py  GroupProgram: S runs of one G/D program vmapped over a leading run axis, each still
            a run folder of its own (group_memory.py: whether a group fits in memory)
  pix2pix.py  Pix2PixProgram: pix2pix on aligned pairs (its step: pix2pix_step.py)
  translation_group.py  TranslationGroupProgram: S pix2pix or CycleGAN runs vmapped as group.py's

A program is set up (and checks its input, raising UserError before anything is written) by its
constructor; the loop then calls, in this order:

  checkpoints()            the Checkpoints the loop restores from (opened first, closed by close)
  abstract_state()         the state's ShapeDtypeStructs (with shardings) a checkpoint restores into
  restored(step, state, metadata) -> state   take back a restored checkpoint and what its
                           metadata says (fault counts, which runs are alive ...), and say so
  init_state() -> state    or a fresh state, when there is no checkpoint
  begin()                  write the run folder(s), open writers, build the compiled step
  host_batches(step, n)    this process's numpy batches of calls step .. step + n - 1 (run in
                           the prefetch thread; the order must be a function of the step)
  step(state, batches, first_step) -> (state, metrics)   one call of the compiled step (its
                           rngs, hyperparameters bound), fault counters folded in on device
  running() -> bool        whether any of its runs still trains (a group stops runs one by one)
  check_faults(step)       at log and checkpoint time: act on refused updates (stop, warn)
  log(step, metrics, rate, progress)   scalars and the progress line
  sample(state, step)      sample grids; evaluate(state, step): periodic metrics
  save(state, step)        its checkpoint(s) with their metadata
  close()                  writers and checkpointers, whatever happened
  end(stopped)             after close: raise what ended some of its runs (a group's RunFailed)

and reads: `num_steps`, `steps_per_call`, `cadence` ({'log', 'sample', 'eval', 'checkpoint'
(and any other key: more places where calls end)}: gan_jax.loop.Every or anything with
due(step, last_step) and next_due(step)), `mesh` and `batch_axis` (where the batches are split),
and the words of its lines: `where` ('--workdir=...', prefix of restore errors), `subject`
('Nothing to do: <subject> is already ...'), `saved_where` ('Stopped at step N; <saved_where>.').

docs/training_programs.md says how a translation pair (2 G, 2 D, image pools in the state) and
a growing GAN (stages, one compile per stage) implement it.
"""

from typing import Any, Protocol


class Program(Protocol):
  """What gan_jax.loop.train needs from a training program (see the module docstring)."""

  num_steps: int
  steps_per_call: int
  cadence: dict
  mesh: Any
  batch_axis: int
  where: str
  subject: str
  saved_where: str

  def checkpoints(self): ...

  def abstract_state(self): ...

  def restored(self, step: int, state, metadata: dict): ...

  def init_state(self): ...

  def begin(self) -> None: ...

  def host_batches(self, step: int, n: int): ...

  def step(self, state, batches, first_step: int): ...

  def running(self) -> bool: ...

  def check_faults(self, step: int) -> None: ...

  def log(self, step: int, metrics: dict, rate, progress) -> None: ...

  def sample(self, state, step: int) -> None: ...

  def evaluate(self, state, step: int) -> None: ...

  def save(self, state, step: int) -> None: ...

  def close(self) -> None: ...

  def end(self, stopped: bool) -> None: ...
