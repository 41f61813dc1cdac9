"""Every loss on the 2D mixtures, with and without R1: which losses drop modes (PacGAN's protocol).

  python -m launch.sweep --config=configs/sweeps/losses_2d.py --workdir=runs/losses_2d --parallel=2
  python -m launch.report --workdir=runs/losses_2d

7 losses (minimax, non_saturating, maximum_likelihood, wasserstein with weight clipping 0.01,
wasserstein with the gradient penalty 10, least_squares, hinge) x {ring8, grid25} x {R1 0.1 (the
default of configs/mixture_2d.py), no R1 (the plain game)} x 5 seeds = 140 runs of
configs/mixture_2d.py, shortened to STEPS steps so that the study fits a 2-core CPU: every run uses
the same models (3x128 MLPs), optimizer (mixture_2d's Adam, its schedule ending at STEPS), batch (128) and one D step
per G step. The `modes` metric (modes captured, high-quality share, reverse KL on 2,500 samples)
is computed every EVAL_EVERY steps. Cost: the costliest variant (wasserstein + GP with R1) took
28.7 CPU-seconds for its 10k steps on one core (95 s of wall time on this 2-core VM while other
jobs loaded it); four hinge runs took 60.8 s with --parallel=2 (130.5 s with --parallel=1) at a
load average of ~3.8: 140 such runs would take ~35 minutes with --parallel=2 (estimate; the
GP variants cost more). Config arg: `ring8` or `grid25` runs that dataset only; the
base config (get_config) takes mixture_2d's config args.
"""

from configs import common, mixture_2d

STEPS = 10_000
EVAL_EVERY = 2_000
SEEDS = range(5)
DATASETS = ('ring8', 'grid25')
R1 = (0.1, 0.0)
# (loss, extra regularizer fields)
LOSSES = (
    ('minimax', {}),
    ('non_saturating', {}),
    ('maximum_likelihood', {}),
    ('wasserstein', {'reg.clip': 0.01}),
    ('wasserstein', {'reg.gp': 10.0}),
    ('least_squares', {}),
    ('hinge', {}),
)


def get_config(arg=None):
  """configs/mixture_2d.py cut to STEPS steps, evaluated every EVAL_EVERY."""
  return common.with_arg(
      mixture_2d.get_config(), arg, mixture_2d.PRESETS, default='grid25', finish=_shorten
  )


def _shorten(c):
  c.train.num_steps = STEPS
  for net in ('g', 'd'):  # a learning-rate schedule ends where the shortened run does
    if 'decay_steps' in c.optim[net]:
      c.optim[net].decay_steps = STEPS
  c.train.sample_every = STEPS
  c.checkpoint.every_steps = EVAL_EVERY
  c.eval.every_steps = EVAL_EVERY


def sweep(add, arg=None):
  for data in (arg,) if arg else DATASETS:
    for loss, reg in LOSSES:
      for r1 in R1:
        for seed in SEEDS:
          add(config_arg=data, **{'loss.name': loss, **reg, 'reg.r1': r1, 'seed': seed})
