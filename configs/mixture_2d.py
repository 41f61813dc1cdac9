"""2D Gaussian mixtures, the mode-collapse benchmark of VEEGAN / PacGAN.

  python -m experiments.main --config=configs/mixture_2d.py:grid25 --workdir=runs/grid25
Config arg: a preset and/or key=value fields (`configs/mixture_2d.py:ring8,seed=3`).
Presets: grid25 (default; 25 modes at {-4,-2,0,2,4}^2, std 0.05), ring8 (8 modes
on a circle of radius 2, std 0.02). Defaults: non-saturating loss + R1 (0.1),
z_dim 16, 3x128 MLPs (leaky-ReLU D), Adam 5e-4, batch 128, 50k steps run 100 per
compiled call, EMA 0.999. grid25 captures 25/25 modes (seeds 0-2, 86-90% high
quality) and ring8 8/8, in about 95 s on a 2-core CPU (README, Results).
"""

from configs import common
from gan_jax.data import DATASETS
from gan_jax.models import MODELS
from gan_jax.optimizers import OPTIMIZERS


def get_config(arg=None):
  preset, overrides = common.parse_arg(arg)
  preset = preset or 'grid25'
  if preset not in ('grid25', 'ring8'):
    raise ValueError(f'config arg {preset!r}: allowed: grid25, ring8')
  c = common.base('non_saturating')
  c.data = common.entry(DATASETS, preset)
  c.model = common.entry(
      MODELS,
      'mlp',
      z_dim=16,
      g_hidden=(128, 128, 128),
      d_hidden=(128, 128, 128),
      d_activation='leaky_relu',
      g_output='linear',
  )
  c.reg.r1 = 0.1
  c.optim.g = common.entry(OPTIMIZERS, 'adam', lr=5e-4, b1=0.5, b2=0.9)
  c.optim.d = common.entry(OPTIMIZERS, 'adam', lr=5e-4, b1=0.5, b2=0.9)
  c.train.batch_size = 128
  c.train.num_steps = 50_000
  c.train.steps_per_call = 100
  c.train.ema_decay = 0.999
  c.train.sample_every = 10_000
  c.train.num_samples = 2500
  c.checkpoint.every_steps = 10_000
  c.eval.every_steps = 10_000  # modes, high-quality share, reverse KL on 2,500 samples
  c.eval.num_samples = 2500
  return common.apply_overrides(c, overrides, arg)
