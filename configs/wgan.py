"""WGAN with weight clipping (Arjovsky et al. 2017): c = 0.01, RMSProp 5e-5, n_critic 5.

  python -m experiments.main --config=configs/wgan.py --workdir=runs/wgan
Presets: mnist5k (default), mnist, fashion_mnist, fashion_mnist_idx, cifar10, celeb_a,
folder (your images: --config.data.data_dir=DIR, 32x32).
"""

from configs import common
from gan_jax.registries import OPTIMIZERS


def get_config(arg=None):
  c = common.base('wasserstein')
  c.reg.clip = 0.01
  c.optim.g = common.entry(OPTIMIZERS, 'rmsprop', lr=5e-5)
  c.optim.d = common.entry(OPTIMIZERS, 'rmsprop', lr=5e-5)
  c.train.d_steps = 5
  return common.with_arg(c, arg)
