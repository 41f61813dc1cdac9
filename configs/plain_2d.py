"""The plain GAN on 2D mixtures: the mode-collapse study's baseline (configs/sweeps/collapse_2d.py).

  python -m experiments.main --config=configs/plain_2d.py:ring8 --workdir=runs/plain_ring8
mixture_2d's MLPs without what keeps its modes: the non-saturating loss, no R1, no EMA
(`train.ema_decay=0`: samples are G's own), 3x128 MLPs (leaky-ReLU D), z in R^16, Adam 5e-4
(0.5, 0.9) constant (mixture_2d's earlier optimizer; it now decays 4e-3 to 0), batch 128, 20k
steps run 100 per compiled call; modes, high-quality share and reverse KL
on 2,500 samples at the end. Args: grid25 (default) or ring8, then key=value pairs of dotted
fields ('ring8,seed=3,d_input.pack=2', 'grid25,loss.name=f_gan,loss.divergence=kl').
It drops modes: 5.8 ± 0.8 of grid25's 25 (41 % high quality), 3.2 ± 0.8 of ring8's 8 (81 %)
over seeds 0-4 (README, the mode-collapse remedies).
"""

from configs import common
from gan_jax.registries import DATASETS, MODELS, OPTIMIZERS

NUM_STEPS = 20_000


PRESETS = {'grid25': common.data_preset('grid25'), 'ring8': common.data_preset('ring8')}


def setting_2d(c):
  """mixture_2d's MLPs on 2D data with Adam 5e-4 constant, without R1 and EMA."""
  c.data = common.entry(DATASETS, 'grid25')
  c.model = common.entry(
      MODELS,
      'mlp',
      z_dim=16,
      g_hidden=(128, 128, 128),
      d_hidden=(128, 128, 128),
      d_activation='leaky_relu',
      g_output='linear',
  )
  c.optim.g = common.entry(OPTIMIZERS, 'adam', lr=5e-4, b1=0.5, b2=0.9)
  c.optim.d = common.entry(OPTIMIZERS, 'adam', lr=5e-4, b1=0.5, b2=0.9)
  c.train.batch_size = 128
  c.train.num_steps = NUM_STEPS
  c.train.steps_per_call = 100
  c.train.ema_decay = 0.0
  c.train.log_every = 1000
  c.train.sample_every = NUM_STEPS
  c.train.num_samples = 2500
  c.checkpoint.every_steps = NUM_STEPS
  c.eval.every_steps = NUM_STEPS  # modes, high-quality share, reverse KL on 2,500 samples
  c.eval.num_samples = 2500
  return c


def get_config(arg=None):
  c = setting_2d(common.base('non_saturating'))
  return common.with_arg(c, arg, PRESETS, default='grid25')
