"""Per stage of a progressive GAN: its compile time and step time, and what they make of a
growing schedule's time against the fixed-resolution one's for the same images shown.

  python -m benchmarks.progan_stages [--config_arg=mnist5k] [--iters=20] [--rounds=3] \\
      [--fade_images=8000 --stable_images=8000 --num_steps=1000]

Builds configs/progan.py:<config_arg> (its ProgressiveProgram, state and first batch), compiles
each stage's step (gan_jax/programs/progressive.py: one iteration a call; the stage's first
compile is printed as a training run prints it), then times `--rounds` rounds in which the
stages take turns, `--iters` steps each (fair under a varying load); a stage's time is the median
over rounds of its mean step time. The schedule fields (default: configs/sweeps/progan_growing.py's)
give the steps each stage trains: the growing run's time is sum over stages of steps x time, the
fixed one's `num_steps` x the last stage's. XLA_FLAGS as experiments.benchmark.
"""

import statistics
import time

import jax
from absl import app, flags

from configs import progan
from gan_jax.cli import parse_flags, run_cli
from gan_jax.loop import placer

FLAGS = flags.FLAGS


def _define_flags():
  flags.DEFINE_string('config_arg', 'mnist5k', 'configs/progan.py preset (and key=value pairs).')
  flags.DEFINE_integer('iters', 20, 'Steps timed per stage per round.')
  flags.DEFINE_integer('rounds', 3, 'Rounds (the stages take turns in each).')
  flags.DEFINE_integer('fade_images', 8000, 'Schedule for the estimate: images per fade-in.')
  flags.DEFINE_integer('stable_images', 8000, 'Schedule: images per stable phase.')
  flags.DEFINE_integer('num_steps', 1000, 'Schedule: steps of the whole run.')


def stage_steps(schedule, batch, num_steps):
  """{stage: steps it trains} of a run of `num_steps` steps."""
  steps = {}
  for step in range(num_steps):
    stage = schedule.stage_of_step(step, batch)
    steps[stage] = steps.get(stage, 0) + 1
  return steps


def main(argv):
  del argv
  from gan_jax.programs.progressive import ProgressiveProgram  # after the XLA flags are set
  from gan_jax.progressive_schedule import Schedule

  config = progan.get_config(FLAGS.config_arg)
  program = ProgressiveProgram(config, '/nonexistent/progan_stages', allow_config_change=True)
  state = program.init_state()
  batches = placer(program.mesh, program.batch_axis)(program.host_batches(0, 1))
  stages = range(program.schedule.num_stages)
  steps = {s: program.compiled_step(s, state, batches) for s in stages}  # prints compile times
  times = {s: [] for s in stages}
  for _ in range(FLAGS.rounds):
    for s in stages:
      state = jax.block_until_ready(steps[s](state, batches, program.k_train)[0])
      start = time.perf_counter()
      for _ in range(FLAGS.iters):
        state, _ = steps[s](state, batches, program.k_train)
      jax.block_until_ready(state)
      times[s].append((time.perf_counter() - start) / FLAGS.iters)
  median = {s: statistics.median(t) for s, t in times.items()}
  batch, last = config.train.batch_size, max(stages)
  growing = Schedule(len(stages), FLAGS.fade_images, FLAGS.stable_images)
  trained = stage_steps(growing, batch, FLAGS.num_steps)
  print(f'| stage | resolution | ms / step (batch {batch}) | steps growing |')
  print('|---|---|---|---|')
  for s in stages:
    r = 4 << s
    print(f'| {s} | {r}x{r} | {1000 * median[s]:.1f} | {trained.get(s, 0)} |')
  grow_s = sum(n * median[s] for s, n in trained.items())
  fixed_s = FLAGS.num_steps * median[last]
  print(
      f'{FLAGS.num_steps} steps: growing {grow_s / 60:.2f} min, fixed {fixed_s / 60:.2f} min '
      f'(ratio {grow_s / fixed_s:.2f}), compiles left out'
  )


if __name__ == '__main__':
  _define_flags()
  app.run(run_cli(main), flags_parser=parse_flags)
