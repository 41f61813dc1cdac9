"""Train one run: `train_and_evaluate(config, workdir)`, one G/D pair (gan_jax/programs/gan.py)
driven by the host loop (gan_jax/loop.py).

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

from gan_jax import loop
from gan_jax.errors import RunFailed  # pylint: disable=unused-import (imported from here)
from gan_jax.loop import call_sizes
from gan_jax.programs import gan, progressive
from gan_jax.programs.translation_group import translation_program


def batches(exp, start, stop, depth=2):
  """Yields (step, iterations, sharded batches) for each call from `start` to `stop`; a thread
  loads the host data `depth` calls ahead (the order is a function of the step)."""
  calls = call_sizes(exp.config, start, stop)
  load = lambda s, n: gan.host_batches(exp, s, n)
  return loop.prefetch(calls, load, loop.placer(exp.mesh, 2), depth)


def train_and_evaluate(config, workdir, should_stop=lambda: False, allow_config_change=False):
  """Trains to `config.train.num_steps`; returns (final state, stopped_early).

  Raises UserError (bad input; nothing written) or RunFailed (see the module docstring).
  """
  growing = config.model.name == 'progan'  # grown by stage: gan_jax/programs/progressive.py
  # pix2pix or CycleGAN (gan_jax/programs/translation_group.py says which), else a G/D GAN
  program = translation_program(config) or (
      progressive.ProgressiveProgram if growing else gan.GanProgram
  )
  program = program(config, workdir, allow_config_change)
  return loop.train(program, should_stop)
