"""DCGAN (Radford et al. 2016): the all-convolutional G and D with BatchNorm, non-saturating
loss, Adam 2e-4 (0.5, 0.999), batch 128.

  python -m experiments.main --config=configs/dcgan.py:celeb_a --workdir=runs/dcgan_celeba

Presets: celeb_a (64x64 faces, the paper's LSUN/faces architecture; 100k steps), cifar10
(the 32x32 variant), mnist5k (default; the 28x28 variant, width 32, 5,000 steps: CPU-sized),
folder (your images under --config.data.data_dir=DIR at 64x64, the paper's architecture,
20,000 steps; --config.data.image_size=32 or 48 for the smaller variants).

  python -m experiments.main --config=configs/dcgan.py:folder --config.data.data_dir=DIR \
    --workdir=runs/mine
"""

from configs import common
from gan_jax.registries import DATASETS, MODELS


def _images(name, steps, **model):
  def preset(c):
    c.data = common.entry(DATASETS, name)
    c.model = common.entry(MODELS, 'dcgan', **model)
    c.train.num_steps = steps
    if steps >= 100_000:
      c.train.sample_every = 5000
      c.checkpoint.every_steps = 5000
      c.eval.every_steps = 5000

  return preset


def get_config(arg=None):
  c = common.base('non_saturating')
  c.train.batch_size = 128
  presets = {
      'celeb_a': _images('celeb_a', 100_000),
      'cifar10': _images('cifar10', 100_000),
      'mnist5k': _images('mnist5k', 5000, width=32),
      'folder': _images('folder', 20_000),
  }
  return common.with_arg(c, arg, {**common.DATA_PRESETS, **presets}, default='mnist5k')
