"""Unrolled GAN (Metz et al. 2017): G's loss is taken against D after `train.unroll_steps`
differentiable D updates (the gradient flows through them); the real D takes its normal update.

  python -m experiments.main --config=configs/unrolled.py --workdir=runs/unrolled10_ring8
  python -m experiments.main --config=configs/unrolled.py:grid25,train.unroll_steps=5 --workdir=...
The paper's 2D setting (appendix A) as far as our MLPs allow: ring8 (8 Gaussians of std 0.02 on
a circle of radius 2, our default ring8), z ~ N(0, I_256), G with 2 hidden ReLU layers of 128
and a linear output, D with one hidden ReLU layer of 128, the minimax loss (G minimises
log(1 - D(G(z))), the game the unrolling approximates), Adam 1e-4 (beta1 0.5) for both, batch
512, 10 unrolling steps. Not reproduced: the paper's orthogonal initialisation (scale 0.8) and
D's scaling of its input by 1/4 (our MLPs have neither), and its alternation (one step updates
G or D; here each iteration updates both). 25k steps: ~40 steps/s on this 2-core CPU while
other jobs loaded it (an unrolled step costs about k + 2 plain ones). Args: ring8 (default) or grid25, then key=value pairs of dotted fields.
It does not reproduce the paper here: on ring8, seeds 0-2, k = 10 ends with 1 / 0 / 0 modes and
k = 0 with 0 / 0 / 0, G's samples still rays toward the modes at 25k steps (README, the
mode-collapse remedies, with the commands).
"""

from configs import common, plain_2d
from gan_jax.registries import MODELS, OPTIMIZERS

NUM_STEPS = 25_000


def get_config(arg=None):
  c = plain_2d.setting_2d(common.base('minimax'))
  c.model = common.entry(
      MODELS,
      'mlp',
      z_dim=256,
      g_hidden=(128, 128),
      d_hidden=(128,),
      d_activation='relu',
      g_output='linear',
  )
  c.optim.g = common.entry(OPTIMIZERS, 'adam', lr=1e-4, b1=0.5, b2=0.999)
  c.optim.d = common.entry(OPTIMIZERS, 'adam', lr=1e-4, b1=0.5, b2=0.999)
  c.train.batch_size = 512
  c.train.unroll_steps = 10
  c.train.num_steps = NUM_STEPS
  c.train.sample_every = c.checkpoint.every_steps = c.eval.every_steps = 5000
  return common.with_arg(c, arg, plain_2d.PRESETS, default='ring8')
