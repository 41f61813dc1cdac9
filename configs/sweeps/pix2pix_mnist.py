"""pix2pix's ablations (Isola et al. 2017, tables 1 and 2) and its two restoration tasks on the
offline digit tasks of configs/pix2pix.py, seeds 0-2, each run the preset's 2,000 steps of 16
pairs, scored on the 500 held-out test pairs (L1, PSNR, SSIM, the MNIST classifier's accuracy
and its FID/KID of outputs against targets) every 500 steps.

  python -m launch.sweep --config=configs/sweeps/pix2pix_mnist.py --workdir=runs/pix2pix_mnist \\
      --parallel=2
  python -m launch.report --workdir=runs/pix2pix_mnist

Sweep arg (comma-separated; default all three):
  losses  edges2mnist with each objective of table 1: L1 alone (`l1`), GAN with an unconditional
          D (`gan`), cGAN (`cgan`), L1 + GAN (`l1_gan`) and L1 + cGAN (the default, no preset);
  patch   edges2mnist with D's receptive field of table 2 scaled to 32x32 images: model.n_layers
          0 (1x1, the PixelGAN), 1 (16x16, half the image) and the default 2 (34x34: the whole
          image; the `losses` runs of L1 + cGAN, not trained twice);
  tasks   sr_mnist (4x super-resolution; its bicubic baseline is its input) and inpaint_mnist.
With `--vectorize`, runs that differ only in seed and loss weights train as one group
(gan_jax/programs/translation_group.py; `--dry_run` prints the 6 groups).

Cost: each run took 7 to 11 minutes (launch.report's time.minutes, 2026-12-06) with two runs at
a time on this 2-core VM, itself shared with other work: the 27 runs, ~2 hours with --parallel=2.
"""

from configs import pix2pix

SEEDS = range(3)
LOSSES = (None, 'l1', 'gan', 'cgan', 'l1_gan')  # None: L1 + cGAN, the paper's objective
PATCH_LAYERS = (0, 1)  # and 2, the default, from `losses`
TASKS = ('sr_mnist', 'inpaint_mnist')
PARTS = ('losses', 'patch', 'tasks')


def get_config(arg=None):
  return pix2pix.get_config(arg)


def sweep(add, arg=None):
  parts = [p for p in (arg or '').split(',') if p] or list(PARTS)
  if any(p not in PARTS for p in parts):
    raise ValueError(f'sweep arg {arg!r}: allowed: {", ".join(PARTS)}')
  for seed in SEEDS:
    if 'losses' in parts:
      for loss in LOSSES:
        add(config_arg='edges2mnist' + (f',{loss}' if loss else ''), seed=seed)
    if 'patch' in parts:
      for n in PATCH_LAYERS:
        add(config_arg='edges2mnist', seed=seed, **{'model.n_layers': n})
    if 'tasks' in parts:
      for task in TASKS:
        add(config_arg=task, seed=seed)
