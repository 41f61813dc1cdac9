"""SNGAN (Miyato et al. 2018): hinge loss with spectral normalization on D.

  python -m experiments.main --config=configs/hinge.py --workdir=runs/hinge
Presets: mnist5k (default), mnist, fashion_mnist, fashion_mnist_idx, cifar10, celeb_a,
folder (your images: --config.data.data_dir=DIR, 32x32).
"""

from configs import common
from gan_jax.registries import OPTIMIZERS


def _hinge(c):
  """After the preset: spectral norm on its D."""
  c.model.d_sn = True
  c.optim.g = common.entry(OPTIMIZERS, 'adam', lr=2e-4, b1=0.5, b2=0.999)
  c.optim.d = common.entry(OPTIMIZERS, 'adam', lr=2e-4, b1=0.5, b2=0.999)


def get_config(arg=None):
  return common.with_arg(common.base('hinge'), arg, finish=_hinge)
