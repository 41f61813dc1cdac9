"""WGAN-GP's released toy setting (configs/papers/gulrajani2017_toy.py): {8gaussians,
25gaussians} x {gp (lambda 0.1, Adam), clip (0.01, RMSProp)} x seeds 0-4, 20 runs.

  python -m launch.sweep --config=configs/sweeps/papers_gulrajani2017.py \
      --workdir=runs/papers_wgan_toy --vectorize --parallel=2
  python -m launch.report --workdir=runs/papers_wgan_toy
With --vectorize the 5 seeds of each (data, method) train as one vmapped program (4 groups).
`modes` on 2,500 samples every fifth of the run. Sweep arg: `8gaussians` or `25gaussians` (one
dataset), then optionally `full`: the code's 100,000 generator iterations; without it, STEPS.

Cost: one run alone, after its compile, took 267 CPU-ms an iteration (5 critic steps and G's)
with the penalty and 194 with clipping (8gaussians; measured on 2026-12-06 on this 2-core VM at a
load average of ~13, 20 iterations): one iteration of all 20 runs is ~4.6 CPU-seconds. STEPS =
3,000 is then ~3.8 CPU-hours, ~2 hours with --parallel=2 (vectorizing the seeds was not timed);
the code's 100,000 (`full`) would be ~128 CPU-hours: a GPU's work. A shortened run is a different
setting, to be said beside its row. Measured in the study itself (2026-12-07, --vectorize
--parallel=2 on this VM's CPU of that day, float32 matmul peak ~100 GFLOP/s): 2.7-2.9 s a step for
a group of 5 seeds with both groups sharing the 2 cores, so each pair of groups takes ~2.3 hours
and the 20 runs ~4.7; XLA counts 16.2 GFLOP an iteration of one run (experiments.benchmark).
"""

from configs.papers import gulrajani2017_toy
from configs.sweeps import paper_grid

SEEDS = range(5)
DATA = tuple(gulrajani2017_toy.DATA)
METHODS = tuple(gulrajani2017_toy.METHODS)
STEPS = 3_000  # what fits the ~2-hour budget of a study on this CPU (module docstring)
CPU_MS_PER_STEP = {'gp': 267.0, 'clip': 194.0}


def get_config(arg=None):
  return gulrajani2017_toy.get_config(arg)


def sweep(add, arg=None):
  paper_grid(
      add,
      arg,
      data=DATA,
      variants=METHODS,
      seeds=SEEDS,
      steps=STEPS,
      full_steps=gulrajani2017_toy.NUM_STEPS,
  )
