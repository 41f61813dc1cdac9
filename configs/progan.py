"""Progressive growing of GANs (Karras et al. 2018): 4x4 up to the data's size, each new stage
faded in over progressive.fade_images and stabilized over progressive.stable_images; WGAN-GP
(lambda 10) with the epsilon-drift term (0.001), Adam 1e-3 (0, 0.99), G's EMA 0.999, the
optimizers restarted at each new stage (gan_jax/programs/progressive.py).

  python -m experiments.main --config=configs/progan.py --workdir=runs/progan
  python -m experiments.sample --workdir=runs/progan --resolution=16 --out=progan_16.png

Presets: mnist5k (default: the 5,000 MNIST digits shipped with the suite, so the default run
needs no network; 28x28 padded to 32x32: stages 4, 8, 16, 32; CPU-sized widths, ~16 minutes on
2 cores), mnist (the same on TFDS MNIST), fashion_mnist (TFDS) and fashion_mnist_idx (Debian's
IDX files), stacked_mnist and celeb_a (64x64; the reference's
widths fmap_base=8192, fmap_max=512 and 600k-image phases: a GPU's work), smoke (mnist5k, tiny
widths, every stage and fade in a few dozen steps: for tests); with any of them `conditional`
(class-conditional: G on [z, one_hot(y)], a projection D; gan_jax/models/progan.py).
"""

from configs import common
from gan_jax.registries import DATASETS, MODELS, OPTIMIZERS


def _grow(c, data, steps, fade, stable, batch, **model):
  c.data = common.entry(DATASETS, **data)
  c.model = common.entry(MODELS, 'progan', **model)
  c.progressive.fade_images, c.progressive.stable_images = fade, stable
  c.train.num_steps, c.train.batch_size = steps, batch


CPU_WIDTHS = dict(z_dim=128, fmap_base=128, fmap_max=32)  # stages 4..32: 32, 32, 16, 8 maps


def _cpu(**data):
  # 4 stages: 32k images (500 steps of 64) at 4x4, then 32k fade + 32k stable per stage: 224k
  # images to grow (3,500 steps), 32k more at 32x32; samples at each stage's end
  def preset(c):
    _grow(c, data, 4000, 32_000, 32_000, 64, **CPU_WIDTHS)
    c.train.sample_every = 250

  return preset


def _gpu(c, **data):
  _grow(c, data, 100_000, 600_000, 600_000, 32, z_dim=512, fmap_base=8192, fmap_max=512)
  c.train.sample_every = c.checkpoint.every_steps = 5000


def _smoke(c):
  # every stage and fade in 28 steps of 8 images: stages start at steps 4, 12, 20
  _grow(c, dict(name='mnist5k'), 28, 32, 32, 8, z_dim=8, fmap_base=32, fmap_max=8)
  c.train.log_every = c.train.sample_every = c.checkpoint.every_steps = 4
  c.train.num_samples = 16


PRESETS = {
    'mnist': _cpu(name='mnist'),
    'mnist5k': _cpu(name='mnist5k'),  # the same on the 5,000 digits shipped with the suite
    'fashion_mnist': _cpu(name='fashion_mnist'),
    'fashion_mnist_idx': _cpu(name='idx', data_dir='/usr/share/datasets/fashion-mnist'),
    'stacked_mnist': lambda c: _gpu(c, name='stacked_mnist', digits='mnist'),
    'celeb_a': lambda c: _gpu(c, name='celeb_a'),
    'smoke': _smoke,
}


def base():
  """The method's settings (loss, optimizers, EMA, cadence) before a preset picks data and sizes."""
  c = common.base('wasserstein')
  c.reg.gp = 10.0
  c.optim.g = common.entry(OPTIMIZERS, 'adam', lr=1e-3, b1=0.0, b2=0.99)
  c.optim.d = common.entry(OPTIMIZERS, 'adam', lr=1e-3, b1=0.0, b2=0.99)
  c.train.ema_decay = 0.999
  c.train.sample_every = c.checkpoint.every_steps = 500
  return c


# A second group, combined with a data preset: `configs/progan.py:mnist5k,conditional`.
VARIANTS = {
    # G on [z, one_hot(y)], D with a projection head; the classes from the data
    'conditional': lambda c: c.model.update(conditioning='projection'),
}


def get_config(arg=None):
  return common.with_arg(base(), arg, (PRESETS, VARIANTS), default=('mnist5k',))
