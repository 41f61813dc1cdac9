"""Lucic et al. 2018's losses (and hinge) on CIFAR-10 with SNGAN's standard CNN: a GPU study.

  python -m launch.sweep --config=configs/sweeps/losses_cifar10.py --workdir=runs/losses_cifar10 \
      --parallel=8                                    # 8 GPUs, one run each
  python -m launch.sweep --config=configs/sweeps/losses_cifar10.py --workdir=runs/losses_cifar10 \
      --backend=slurm --partition=gpu --gpus_per_run=1 --time=12:00:00 --parallel=21
  python -m launch.report --workdir=runs/losses_cifar10

MM GAN, NS GAN, WGAN (clipping 0.01, 5 critic steps), WGAN GP (penalty 10, 5 critic steps), LS GAN,
DRAGAN (penalty 10), hinge x 3 seeds = 21 runs of the CNN preset (configs/common.py `cifar10`:
the SNGAN standard CNN with model.conv='xla' for cuDNN, batch 64, 100k G steps), Adam 2e-4 (0.5,
0.999) for every loss as in Lucic et al.; FID, KID and precision/recall on 10,000 samples every
10k steps (the preset's config.eval). CIFAR-10 comes from TFDS: prepare it once and pass
`data.data_dir` in the config arg (`configs/sweeps/losses_cifar10.py:data.data_dir=DIR`).
"""

from configs import common

SEEDS = range(3)
LOSSES = (
    ('minimax', {}),
    ('non_saturating', {}),
    ('wasserstein', {'reg.clip': 0.01, 'train.d_steps': 5}),
    ('wasserstein', {'reg.gp': 10.0, 'train.d_steps': 5}),
    ('least_squares', {}),
    ('non_saturating', {'reg.dragan': 10.0}),
    ('hinge', {}),
)


def get_config(arg=None):
  """The cifar10 preset (SNGAN standard CNN, 100k steps, eval every 10k) with cuDNN convolutions."""
  c = common.base('non_saturating')
  return common.with_arg(c, arg, default='cifar10', finish=_gpu)


def _gpu(c):
  c.model.conv = 'xla'
  c.eval.every_steps = 10_000
  c.checkpoint.every_steps = 10_000


def sweep(add, arg=None):
  for loss, fields in LOSSES:
    for seed in SEEDS:
      add(config_arg=arg, **{'loss.name': loss, **fields, 'seed': seed})
