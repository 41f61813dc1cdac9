"""Metz et al. 2017's ring in the paper's setting (configs/papers/metz2017_ring.py): unrolling
steps 0 / 1 / 5 / 10 x seeds 0-4, 20 runs of 12,500 iterations (the paper's 25k steps).

  python -m launch.sweep --config=configs/sweeps/papers_metz2017.py --workdir=runs/papers_metz2017 \
      --vectorize --parallel=2
  python -m launch.report --workdir=runs/papers_metz2017
With --vectorize the 5 seeds of each K train as one vmapped program (4 groups). `modes` (modes,
high-quality share, reverse KL on 2,500 samples) every 2,500 iterations: the modes over training,
Figure 2's columns. Sweep arg: `unroll0`, `unroll1`, `unroll5` or `unroll10` runs that K only.

Cost: one run alone, after its compile, took 7.5 CPU-ms an iteration at K = 0 and 14.6 at
K = 10 (measured on 2026-12-06 on this 2-core VM at a load average of ~13, 200 and 40
iterations); with K = 1 and 5 in between (~9 and ~11, interpolated), the 20 runs of 12,500
iterations are ~2,600 CPU-seconds: ~25 minutes with --parallel=2 (vectorizing the seeds was not
timed).
"""

from configs.papers import metz2017_ring

SEEDS = range(5)
UNROLL = tuple(metz2017_ring.UNROLL)
# CPU-ms per iteration of one run alone, measured (unroll1, unroll5: interpolated).
CPU_MS_PER_STEP = {'unroll0': 7.5, 'unroll1': 9.0, 'unroll5': 11.0, 'unroll10': 14.6}


def get_config(arg=None):
  return metz2017_ring.get_config(arg)


def sweep(add, arg=None):
  unroll = (arg,) if arg else UNROLL
  if any(u not in UNROLL for u in unroll):
    raise ValueError(f'sweep arg {arg!r}: allowed: {", ".join(UNROLL)}')
  for preset in unroll:
    for seed in SEEDS:
      add(config_arg=preset, seed=seed)
