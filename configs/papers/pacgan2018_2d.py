"""PacGAN (Lin et al. 2018) in the paper's own 2D setting (VEEGAN's architecture and optimizer).

  python -m experiments.main --config=configs/papers/pacgan2018_2d.py:grid25,pack4 \
      --workdir=runs/pac4
Presets: grid25 (default) or ring8; pack1 (the GAN row, default), pack2, pack3, pack4. Then
key=value pairs.

What it should reproduce (the paper's Table 1, mean +- standard error over 10 trials; modes /
high-quality share / reverse KL): ring8 GAN 6.3 +- 0.5 / 98.2 +- 0.2 % / 0.45 +- 0.09, PacGAN2
7.9 +- 0.1 / 95.6 +- 2.0 % / 0.07 +- 0.03, PacGAN3 7.8 +- 0.1 / 97.7 +- 0.3 % / 0.10 +- 0.02,
PacGAN4 7.8 +- 0.1 / 95.9 +- 1.4 % / 0.07 +- 0.02; grid25 GAN 17.3 +- 0.8 / 94.8 +- 0.7 % /
0.70 +- 0.07, PacGAN2 23.8 +- 0.7 / 91.3 +- 0.8 % / 0.13 +- 0.04, PacGAN3 24.6 +- 0.4 / 94.2 +-
0.4 % / 0.06 +- 0.02, PacGAN4 24.8 +- 0.2 / 93.6 +- 0.6 % / 0.04 +- 0.01.
Sources, field by field: the authors' released code, fjxmlzn/PacGAN
synthetic_data_experiments/ ("cfg": 2DGrid_GAN&PacGAN/config.py or 2DRing_GAN&PacGAN/config.py,
"task": pacgan_task.py of the same folder, "bricks": PacGAN/pacgan/bricks.py); the VEEGAN
notebook (akashgit/VEEGAN VEEGAN_2D_RING.ipynb) is missing from the stored snapshot:
- data: grid25 = MEANS {-4, -2, 0, 2, 4}^2, std 0.05 (grid cfg), our grid25 at its defaults;
  ring8 = 8 modes on a circle of radius 1, std 0.01 (ring cfg: MEANS cos/sin, VARIANCES 0.01^2),
  our ring8 at radius 1.0, std 0.01 (half the size of our default ring8). The code draws a fixed
  set of 100,000 packs (num_sample) and shuffles it each epoch; ours draws fresh samples;
- G: z ~ N(0, I_2) (num_zdim 2, z_mode_std 1), 4 hidden layers of 400, each Dense without bias
  -> BatchNorm -> ReLU, a linear output with bias (task create_model_brick) = g_batchnorm;
- D: 3 maxout layers of 200 units with 5 pieces, a linear logit, no dropout (task: LinearMaxout,
  disc_maxout_pieces 5, `_create_model(with_dropout=False)`), on packs of k samples concatenated
  along the features (bricks compute_losses: `concatenate(x_tildes, axis=1)`) = d_input.pack;
- initialisation: every weight N(0, 0.02^2), biases 0 (cfg weights_init_std, biases_init);
- loss: D softplus(-D(x)) + softplus(D(G(z))), G softplus(-D(G(z))) (bricks compute_losses; its
  G loss adds softplus(D(x)), whose gradient in G is 0) = non_saturating;
- optimizer: Adam 1e-4, beta1 0.8 (cfg), beta2 0.999 and eps 1e-8 (Blocks' defaults) for both;
- batch: 100 packs (cfg batch_size), so 100 k real and 100 k fake samples: train.batch_size 100 k;
- updates: both players' gradients at the same point, applied together (task: ali_algorithm, one
  GradientDescent over D's and G's parameters) = train.simultaneous;
- length: 400 epochs of 100,000 / 100 = 1,000 iterations = 400,000 iterations (cfg num_epoch);
- evaluation: 2,500 samples of G (cfg num_log_figure_sample), a sample is high quality within 3
  std of its nearest mode (extensions.py MetricLogger, dis_thre 3), as our `modes` metric; the
  code counts a mode captured with >= 1 such sample, ours with >= 20 (the paper's text).
Differences left: BatchNorm's running averages (momentum 0.95 in the code, 0.9 here) only shape
the samples drawn for evaluation (train=False uses them).
"""

from configs import common
from gan_jax.registries import MODELS, OPTIMIZERS

PACKS_PER_BATCH = 100  # cfg batch_size: a batch holds 100 packs
NUM_STEPS = 400_000  # cfg num_epoch 400 x (100,000 packs / 100)
EVAL_EVERY = 50_000


DATA = {
    'grid25': common.data_preset('grid25', spacing=2.0, std=0.05),
    'ring8': common.data_preset('ring8', radius=1.0, std=0.01),
}


def _pack(k):
  def preset(c):
    c.d_input.pack = k
    c.train.batch_size = PACKS_PER_BATCH * k

  return preset


PACKS = {f'pack{k}': _pack(k) for k in (1, 2, 3, 4)}


def get_config(arg=None):
  c = common.base('non_saturating')
  c.model = common.entry(
      MODELS,
      'mlp',
      z_dim=2,
      g_hidden=(400, 400, 400, 400),
      g_batchnorm=True,
      g_output='linear',
      d_hidden=(200, 200, 200),
      d_activation='maxout',
      maxout_pieces=5,
      g_init='normal',
      g_init_scale=0.02,
      d_init='normal',
      d_init_scale=0.02,
  )
  for net in ('g', 'd'):
    c.optim[net] = common.entry(OPTIMIZERS, 'adam', lr=1e-4, b1=0.8, b2=0.999, eps=1e-8)
  c.train.simultaneous = True
  c.train.num_steps = NUM_STEPS
  c.train.steps_per_call = 100
  c.train.ema_decay = 0.0  # samples are G's own
  c.train.log_every = 1000
  c.train.sample_every = c.checkpoint.every_steps = c.eval.every_steps = EVAL_EVERY
  c.train.num_samples = c.eval.num_samples = 2500
  return common.with_arg(c, arg, (DATA, PACKS), default=('grid25', 'pack1'))
