"""WGAN-GP (Gulrajani et al. 2017): lambda 10, n_critic 5, Adam(1e-4, 0, 0.9).

  python -m experiments.main --config=configs/wgan_gp.py --workdir=runs/wgan_gp
Presets: mnist5k (default), mnist, fashion_mnist, fashion_mnist_idx, celeb_a, and
cifar10: the setting GAN suites benchmark (SNGAN's standard CNN, batch 64);
folder (your images: --config.data.data_dir=DIR, 32x32).
"""

from configs import common
from gan_jax.registries import OPTIMIZERS


def get_config(arg=None):
  c = common.base('wasserstein')
  c.reg.gp = 10.0
  c.optim.g = common.entry(OPTIMIZERS, 'adam', lr=1e-4, b1=0.0, b2=0.9)
  c.optim.d = common.entry(OPTIMIZERS, 'adam', lr=1e-4, b1=0.0, b2=0.9)
  c.train.d_steps = 5
  return common.with_arg(c, arg)
