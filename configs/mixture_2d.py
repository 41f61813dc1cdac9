"""2D Gaussian mixtures, the mode-collapse benchmark of VEEGAN / PacGAN.

  python -m experiments.main --config=configs/mixture_2d.py:grid25 --workdir=runs/grid25
Config arg: a preset and/or key=value fields (`configs/mixture_2d.py:ring8,seed=3`).
Presets: grid25 (default; 25 modes at {-4,-2,0,2,4}^2, std 0.05), ring8 (8 modes
on a circle of radius 2, std 0.02). Defaults: non-saturating loss + R1 (0.1),
z_dim 16, 3x128 MLPs (leaky-ReLU D), Adam 4e-3 (0.5, 0.9) decayed linearly to 0
over the run, batch 128, 30k steps run 100 per compiled call, EMA 0.999. Seeds
0-2: grid25 25/25 modes with 94.4-98.0 % of the samples within 3 std, ring8 8/8
with 98.3-98.7 %, in about 70 s on an idle 2-core CPU. (Adam 5e-4 constant
for 50k steps, the earlier default, kept 25/25 but only 83-84 % within 3 std.)
"""

from configs import common
from gan_jax.registries import MODELS, OPTIMIZERS



PRESETS = {'grid25': common.data_preset('grid25'), 'ring8': common.data_preset('ring8')}


def get_config(arg=None):
  c = common.base('non_saturating')
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
  c.train.batch_size = 128
  c.train.num_steps = 30_000
  # Adam 4e-3 decayed linearly to 0 at step 30k. decay_steps is a number of its own, not a
  # reference to num_steps, so that a resumed or extended run keeps its schedule: with
  # --config.train.num_steps=N, pass --config.optim.g.decay_steps=N and .d too.
  for net in ('g', 'd'):
    c.optim[net] = common.entry(
        OPTIMIZERS, 'adam', lr=4e-3, b1=0.5, b2=0.9, schedule='linear', decay_steps=30_000
    )
  c.train.steps_per_call = 100
  c.train.ema_decay = 0.999
  c.train.sample_every = 10_000
  c.train.num_samples = 2500
  c.checkpoint.every_steps = 10_000
  c.eval.every_steps = 10_000  # modes, high-quality share, reverse KL on 2,500 samples
  c.eval.num_samples = 2500
  return common.with_arg(c, arg, PRESETS, default='grid25')
