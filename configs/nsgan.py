"""Non-saturating GAN: G minimises -log D(G(z)) (Goodfellow et al. 2014, section 3).

  python -m experiments.main --config=configs/nsgan.py --workdir=runs/nsgan
Presets: mnist5k (default), mnist, fashion_mnist, fashion_mnist_idx, cifar10, celeb_a,
folder (your images: --config.data.data_dir=DIR, 32x32).
"""

from configs import common


def get_config(arg=None):
  return common.with_arg(common.base('non_saturating'), arg)
