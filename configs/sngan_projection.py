"""cGAN with a projection discriminator (Miyato & Koyama 2018) on SNGAN's ResNet (Miyato et
al. 2018): conditional BatchNorm in G, projection D, spectral norm on D, hinge loss.

  python -m experiments.main --config=configs/sngan_projection.py --workdir=runs/proj  # mnist5k
  python -m experiments.main --config=configs/sngan_projection.py:cifar10 --workdir=runs/proj_c10

Presets:
- cifar10: the published setting: ResNet G 256 / D 128 channels (32x32), z 128, Adam 2e-4
  (0, 0.9), 5 D steps per G step, batch 64, 50,000 G steps; intra-FID every 5,000 steps.
- mnist5k (default): CPU-sized: G and D 32 channels at 28x28 (two up-sampling blocks),
  1 D step, 3,000 steps.
- folder: your images under --config.data.data_dir=DIR, a class per first-level subfolder,
  at 32x32 with the cifar10 setting.
"""

from configs import common
from gan_jax.registries import DATASETS, MODELS, OPTIMIZERS


def _cifar10(c):
  c.data = common.entry(DATASETS, 'cifar10')
  c.model = common.entry(
      MODELS, 'resnet', g_width=256, d_width=128, d_sn=True, conditioning='projection'
  )
  c.train.d_steps = 5
  c.train.num_steps = 50_000
  c.train.sample_every = 5000
  c.checkpoint.every_steps = 5000
  c.eval.every_steps = 5000


def _mnist5k(c):
  c.data = common.entry(DATASETS, 'mnist5k')
  c.model = common.entry(
      MODELS, 'resnet', z_dim=64, g_width=32, d_width=32, d_sn=True, conditioning='projection'
  )
  c.train.d_steps = 1
  c.train.num_steps = 3000
  c.train.sample_every = 1000
  c.checkpoint.every_steps = 1000


def _folder(c):
  _cifar10(c)
  c.data = common.entry(DATASETS, 'folder', image_size=32, labels='subfolders')


def get_config(arg=None):
  c = common.base('hinge')
  c.optim.g = common.entry(OPTIMIZERS, 'adam', lr=2e-4, b1=0.0, b2=0.9)
  c.optim.d = common.entry(OPTIMIZERS, 'adam', lr=2e-4, b1=0.0, b2=0.9)
  presets = {'cifar10': _cifar10, 'mnist5k': _mnist5k, 'folder': _folder}
  return common.with_arg(c, arg, {**common.DATA_PRESETS, **presets}, default='mnist5k')
