"""The mode-collapse study on 2D mixtures: which remedy keeps the modes the plain GAN drops?

`sweep(add, arg=None)` calls `add(**overrides)` once per run of configs/plain_2d.py (`CONFIG`):
dotted config fields plus `config_arg`, the preset (data, and the loss where it changes). Runs:
{plain (non-saturating, no R1, no EMA), unrolled 5 / 10, pack 2 / 4, f-GAN with each divergence,
instance noise} x seeds 0-4 x {grid25, ring8}: 120 runs of 20k steps. `arg` picks one dataset
('grid25' or 'ring8'); the default is both.

On an idle 2-core CPU a plain run is ~30 s (~700 steps/s with steps_per_call=100), an unrolled one
about k + 2 times that (measured under load: 132 steps/s plain, 10.5 unrolling 10): the whole
study is ~2.5 hours, most of it the unrolled-10 runs (~6 minutes each); with `launch.sweep
--vectorize --parallel=2` (24 groups of 5 seeds) it took 1:30 while sharing the machine.
Without the sweep launcher, a plain loop over the printed commands does it:
  python -m configs.sweeps.collapse_2d [grid25|ring8] > runs.sh && bash runs.sh
"""

import sys

from configs import plain_2d

CONFIG = 'configs/plain_2d.py'
SEEDS = range(5)
DATA = ('grid25', 'ring8')
INSTANCE_NOISE = 0.2  # std of N(0, s^2) added to D's inputs, annealed to 0 over the first half
VARIANTS = {
    'plain': {},
    'unrolled5': {'train.unroll_steps': 5},
    'unrolled10': {'train.unroll_steps': 10},
    'pack2': {'d_input.pack': 2},
    'pack4': {'d_input.pack': 4},
    **{
        f'fgan_{d}': {'loss': f'loss.name=f_gan,loss.divergence={d}'}
        for d in ('kl', 'reverse_kl', 'pearson', 'squared_hellinger', 'jensen_shannon', 'gan')
    },
    'instance_noise': {
        'd_input.instance_noise': INSTANCE_NOISE,
        'd_input.instance_noise_steps': plain_2d.NUM_STEPS // 2,
    },
}


def runs(arg=None):
  """(name, overrides) of every run: per dataset, per variant (in VARIANTS order), per seed."""
  data = DATA if not arg else (arg,)
  if any(d not in DATA for d in data):
    raise ValueError(f'sweep arg {arg!r}: allowed: {", ".join(DATA)}')
  out = []
  for d in data:
    for variant, fields in VARIANTS.items():
      fields = dict(fields)
      loss = fields.pop('loss', None)
      for seed in SEEDS:
        config_arg = f'{d},{loss}' if loss else d
        out.append((f'{d}_{variant}_s{seed}', {'config_arg': config_arg, 'seed': seed, **fields}))
  return out


def sweep(add, arg=None):
  for _, overrides in runs(arg):
    add(**overrides)


def commands(arg=None, root='runs/collapse_2d'):
  """One `experiments.main` command line per run (for a plain loop)."""
  lines = []
  for name, overrides in runs(arg):
    overrides = dict(overrides)
    config_arg = overrides.pop('config_arg')
    flags = ' '.join(f'--config.{k}={v}' for k, v in overrides.items())
    lines.append(
        f'python -m experiments.main --config={CONFIG}:{config_arg} --workdir={root}/{name} {flags}'
    )
  return lines


if __name__ == '__main__':
  print('\n'.join(commands(sys.argv[1] if len(sys.argv) > 1 else None)))
