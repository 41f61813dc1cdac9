"""Auxiliary-classifier GAN (Odena et al. 2017): D also predicts the class; its cross-entropy on
real and fake samples (weight `reg.acgan`) joins both players' losses.

  python -m experiments.main --config=configs/acgan.py --workdir=runs/acgan
  python -m experiments.evaluate --workdir=runs/acgan --metrics=class_agreement

Default (mnist5k): the MLP pair of configs/nsgan.py, G conditioned by one-hot concatenation,
D with a 10-way class head, non-saturating loss, reg.acgan 1, Adam 2e-4 (0.5, 0.999), 10,000
steps. Preset cifar10: SNGAN's ResNet (G 256 / D 128, conditional BatchNorm G, class head on
the pooled D features, spectral norm on D), Adam 2e-4 (0, 0.9), 5 D steps, 50,000 steps.
Preset folder: your images, a class per first-level subfolder (--config.data.data_dir=DIR),
32x32, with the MLP pair.
Fake labels: `train.fake_labels` ('uniform' or 'data': the data's label frequencies).
"""

from configs import common
from gan_jax.registries import DATASETS, MODELS, OPTIMIZERS


def _cifar10(c):
  c.data = common.entry(DATASETS, 'cifar10')
  c.model = common.entry(
      MODELS, 'resnet', g_width=256, d_width=128, d_sn=True, conditioning='acgan'
  )
  c.optim.g = common.entry(OPTIMIZERS, 'adam', lr=2e-4, b1=0.0, b2=0.9)
  c.optim.d = common.entry(OPTIMIZERS, 'adam', lr=2e-4, b1=0.0, b2=0.9)
  c.train.d_steps = 5
  c.train.num_steps = 50_000
  c.train.sample_every = 5000
  c.checkpoint.every_steps = 5000
  c.eval.every_steps = 5000


def get_config(arg=None):
  c = common.base('non_saturating')
  c.reg.acgan = 1.0
  c.train.num_steps = 10_000
  c.train.sample_every = 2000
  c.checkpoint.every_steps = 2000
  presets = {
      **common.DATA_PRESETS,
      'cifar10': _cifar10,
      'folder': common.folder(labels='subfolders'),
  }
  return common.with_arg(c, arg, presets, finish=_acgan)


def _acgan(c):
  c.model.conditioning = 'acgan'  # after the preset (celeb_a: sngan_cnn with cBN + class head)
