"""The 2014 GAN: the minimax game with the saturating generator cost log(1 - D(G(z))).

Goodfellow et al. 2014: ReLU generator, maxout discriminator with dropout.
  python -m experiments.main --config=configs/gan.py --workdir=runs/gan
Presets (`configs/gan.py:<arg>`): mnist5k (default), mnist, fashion_mnist,
fashion_mnist_idx, cifar10, celeb_a, folder (your images: --config.data.data_dir=DIR, 32x32).
"""

from configs import common


def get_config(arg=None):
  c = common.base('minimax')
  c.model.d_activation = 'maxout'
  c.model.d_hidden = (240, 240)
  c.model.d_dropout = 0.5
  return common.with_arg(c, arg)
