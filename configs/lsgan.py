"""Least-squares GAN (Mao et al. 2017), a=0, b=c=1: D and G regress D's output.

  python -m experiments.main --config=configs/lsgan.py --workdir=runs/lsgan
Presets: mnist5k (default), mnist, fashion_mnist, fashion_mnist_idx, cifar10, celeb_a,
folder (your images: --config.data.data_dir=DIR, 32x32).
"""

from configs import common


def get_config(arg=None):
  return common.with_arg(common.base('least_squares'), arg)
