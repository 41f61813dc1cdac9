"""Unrolled GAN (Metz et al. 2017) in the paper's own 2D setting: the ring of 8 Gaussians.

  python -m experiments.main --config=configs/papers/metz2017_ring.py:unroll10 \
      --workdir=runs/metz_k10
Presets: unroll0, unroll1, unroll5, unroll10 (default): `train.unroll_steps` K, the paper's
Figure 2 rows (K = 0 is the plain GAN of the same setting). Then key=value pairs.

What it should reproduce (the paper's Figure 2, no table): with 10 unrolling steps G covers all
8 modes by 25k steps; with 0 it visits one mode at a time (8 / 8 modes vs 1). Sources, field by
field ("A": the paper's appendix A, as configs/unrolled.py quotes it; "nb": the authors' released
notebook, poolio/unrolled_gan `Unrolled GAN demo.ipynb`, which says its own architecture and
hyperparameters are "not identical to the one in the paper"):
- data: 8 Gaussians of std 0.02 on a circle of radius 2 (A), our ring8 at its defaults;
- G: z ~ N(0, I_256), 2 hidden ReLU layers of 128, a linear output to 2-D (A);
- D: its input scaled by 1/4 ("to roughly scale to (-1, 1)", A) = `d_input.scale` 0.25, one
  hidden ReLU layer of 128, a linear logit (A);
- initialisation: every weight orthogonal with scale 0.8 (A) = `model.g_init` / `d_init`
  'orthogonal' at 0.8 (biases 0: Flax's and TF's default);
- loss: the minimax game, G minimises log(1 - D(G(z))) (A) = `minimax`;
- optimizer: Adam 1e-4, beta1 0.5 for both (A); beta2 0.999, eps 1e-8: TF's defaults (the paper
  names none); the K unrolled D updates use D's Adam, its state included (A, section 2.2);
- batch 512 (nb cell 11; A names none);
- alternation: "one step consists of either G or D updating" (A): one iteration here (a D update,
  then G's against the updated D) is two of the paper's steps, so existing fields express it:
  train.d_steps 1, train.simultaneous False, and the paper's 25k steps are 12,500 iterations
  (NUM_STEPS; the nb runs 25,000 iterations of both updates at once, `max_iter`);
- no EMA (samples are G's own); modes, high-quality share and reverse KL on 2,500 samples every
  2,500 iterations (Figure 2's columns are every 5k paper steps).
Differences left: TF's Adam puts eps outside the bias correction (optax: inside); the nb draws
a fresh data batch from TF's mixture sampler, ours is numpy's (same distribution).
"""

from configs import common, plain_2d
from gan_jax.registries import DATASETS, MODELS, OPTIMIZERS

NUM_STEPS = 12_500  # iterations of (D, G): the paper's 25k single-player steps
EVAL_EVERY = 2_500  # the paper's Figure 2 columns: every 5k steps


def _unroll(k):
  def preset(c):
    c.train.unroll_steps = k

  return preset


UNROLL = {f'unroll{k}': _unroll(k) for k in (0, 1, 5, 10)}


def get_config(arg=None):
  c = plain_2d.setting_2d(common.base('minimax'))
  c.data = common.entry(DATASETS, 'ring8', radius=2.0, std=0.02)
  c.model = common.entry(
      MODELS,
      'mlp',
      z_dim=256,
      g_hidden=(128, 128),
      d_hidden=(128,),
      d_activation='relu',
      g_output='linear',
      g_init='orthogonal',
      g_init_scale=0.8,
      d_init='orthogonal',
      d_init_scale=0.8,
  )
  c.d_input.scale = 0.25
  for net in ('g', 'd'):
    c.optim[net] = common.entry(OPTIMIZERS, 'adam', lr=1e-4, b1=0.5, b2=0.999, eps=1e-8)
  c.train.batch_size = 512
  c.train.d_steps = 1
  c.train.simultaneous = False
  c.train.num_steps = NUM_STEPS
  c.train.sample_every = c.checkpoint.every_steps = c.eval.every_steps = EVAL_EVERY
  return common.with_arg(c, arg, UNROLL, default='unroll10')
