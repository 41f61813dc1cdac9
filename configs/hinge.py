"""SNGAN (Miyato et al. 2018): hinge loss with spectral normalization on D.

  python -m experiments.main --config=configs/hinge.py --workdir=runs/hinge
Presets: mnist5k (default), mnist, fashion_mnist, fashion_mnist_idx, cifar10, celeb_a.
"""

from configs import common
from gan_jax.optimizers import OPTIMIZERS


def get_config(arg=None):
  preset, overrides = common.parse_arg(arg)
  c = common.with_preset(common.base('hinge'), preset)
  c.model.d_sn = True
  c.optim.g = common.entry(OPTIMIZERS, 'adam', lr=2e-4, b1=0.5, b2=0.999)
  c.optim.d = common.entry(OPTIMIZERS, 'adam', lr=2e-4, b1=0.5, b2=0.999)
  return common.apply_overrides(c, overrides, arg)
