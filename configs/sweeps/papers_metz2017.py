"""Metz et al. 2017's ring in the paper's setting (configs/papers/metz2017_ring.py): unrolling
steps 0 / 1 / 5 / 10 x seeds 0-4, 20 runs of 12,500 iterations (the paper's 25k steps).

  python -m launch.sweep --config=configs/sweeps/papers_metz2017.py --workdir=runs/papers_metz2017 \
      --vectorize --parallel=2
  python -m launch.report --workdir=runs/papers_metz2017
With --vectorize the 5 seeds of each K train as one vmapped program (4 groups). `modes` (modes,
high-quality share, reverse KL on 2,500 samples) every 2,500 iterations: the modes over training,
Figure 2's columns. Cost (CPU_ESTIMATE): see the module constants, measured on this 2-core VM.
Sweep arg: `unroll0`, `unroll1`, `unroll5` or `unroll10` runs that K only.
"""

from configs.papers import metz2017_ring

SEEDS = range(5)
UNROLL = tuple(metz2017_ring.UNROLL)
# CPU-seconds per iteration of one run, measured (tests/../README 'Paper settings'), and the
# study's estimate from them: filled in from a short timing.
CPU_MS_PER_STEP = {}
CPU_ESTIMATE = ''


def get_config(arg=None):
  return metz2017_ring.get_config(arg)


def sweep(add, arg=None):
  unroll = (arg,) if arg else UNROLL
  if any(u not in UNROLL for u in unroll):
    raise ValueError(f'sweep arg {arg!r}: allowed: {", ".join(UNROLL)}')
  for preset in unroll:
    for seed in SEEDS:
      add(config_arg=preset, seed=seed)
