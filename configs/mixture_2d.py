"""2D Gaussian mixtures, the mode-collapse benchmark of VEEGAN / PacGAN.

  python -m experiments.main --config=configs/mixture_2d.py:grid25 --workdir=runs/grid25
Presets: grid25 (default; 25 modes at {-4,-2,0,2,4}^2, std 0.05), ring8 (8 modes
on a circle of radius 2, std 0.02). The defaults train on a 2-core CPU in a
few minutes and cover every mode.
"""
from configs import common
from gan_jax.data import DATASETS
from gan_jax.models import MODELS
from gan_jax.optimizers import OPTIMIZERS


def get_config(arg=None):
  arg = arg or 'grid25'
  if arg not in ('grid25', 'ring8'):
    raise ValueError(f'config arg {arg!r}: allowed: grid25, ring8')
  c = common.base('non_saturating')
  c.data = common.entry(DATASETS, arg)
  c.model = common.entry(MODELS, 'mlp', z_dim=2, g_hidden=(256, 256, 256),
                         d_hidden=(256, 256, 256), d_activation='relu',
                         g_output='linear')
  c.optim.g = common.entry(OPTIMIZERS, 'adam', lr=1e-4, b1=0.5, b2=0.9)
  c.optim.d = common.entry(OPTIMIZERS, 'adam', lr=1e-4, b1=0.5, b2=0.9)
  c.train.batch_size = 256
  c.train.num_steps = 10_000
  c.train.num_samples = 2500
  return c
