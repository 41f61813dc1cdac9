"""PacGAN's 2D tables in the paper's setting (configs/papers/pacgan2018_2d.py): {ring8, grid25} x
pack 1-4 (the GAN row and PacGAN2-4) x seeds 0-4, 40 runs.

  python -m launch.sweep --config=configs/sweeps/papers_pacgan2018.py --workdir=runs/papers_pacgan \
      --vectorize --parallel=2
  python -m launch.report --workdir=runs/papers_pacgan
With --vectorize the 5 seeds of each (data, pack) train as one vmapped program (8 groups).
`modes` on 2,500 samples every fifth of the run. Sweep arg: `ring8` or `grid25` (one dataset),
then optionally `full`: the paper's 400,000 iterations (400 epochs of 1,000); without it, STEPS.

Cost: one run alone, after its compile, took 27.6 CPU-ms an iteration at pack 1 and 48.4 at
pack 4 (grid25; measured on 2026-12-06 on this 2-core VM at a load average of ~13, 200 and 100
iterations); with packs 2 and 3 in between, one iteration of all 40 runs is ~1.5 CPU-seconds.
STEPS = 10,000 is then ~4.2 CPU-hours, ~2 hours with --parallel=2 (vectorizing the seeds was not
timed); the paper's 400,000 (`full`) would be ~170 CPU-hours: a GPU's work. The paper reports
its numbers after the 400 epochs; a shortened run is a different setting, to be said beside its
row.
"""

from configs.papers import pacgan2018_2d
from configs.sweeps import paper_grid

SEEDS = range(5)
DATA = tuple(pacgan2018_2d.DATA)
PACKS = tuple(pacgan2018_2d.PACKS)
STEPS = 10_000  # what fits the ~2-hour budget of a study on this CPU (module docstring)
CPU_MS_PER_STEP = {'pack1': 27.6, 'pack2': 35.0, 'pack3': 42.0, 'pack4': 48.4}  # 2, 3: interpolated


def get_config(arg=None):
  return pacgan2018_2d.get_config(arg)


def sweep(add, arg=None):
  paper_grid(
      add,
      arg,
      data=DATA,
      variants=PACKS,
      seeds=SEEDS,
      steps=STEPS,
      full_steps=pacgan2018_2d.NUM_STEPS,
  )
