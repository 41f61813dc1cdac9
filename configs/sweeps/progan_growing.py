"""Progressive growing against the same final networks trained at 32x32 from the start (Karras
et al. 2018's claim: growing reaches a better SWD in less time), for the same images shown.

  python -m launch.sweep --config=configs/sweeps/progan_growing.py --workdir=runs/progan_growing \\
      --parallel=1
  python -m launch.report --workdir=runs/progan_growing

configs/progan.py's CPU networks (widths 32, 32, 16, 8 from 4x4 to 32x32, z 128), WGAN-GP with
the drift term, Adam 1e-3 (0, 0.99), batch 64, on mnist5k (the 5,000 digits shipped with the
suite) and fashion_mnist_idx (Debian's dataset-fashion-mnist: `apt-get install
dataset-fashion-mnist`), 3 seeds, 1,000 steps = 64,000 images each:
  growing: 8k images at 4x4, then 8k fade + 8k stable per stage (32x32 reached at 56k images);
  fixed:   progressive.first_resolution=32, the final stage (alpha 1) from the first step.
At the end FID and KID (Inception, 500 samples vs 1,000 training images; FID is biased upward at
500 samples, the same for both arms) and SWD x 10^3 (the paper's metric; at 28x28 one pyramid
level). Samples every 125 steps (each stage's end on the growing schedule); `wall_seconds` is
each run's training time (TensorBoard scalar; launch.report's `time.minutes`). --parallel=1
so runs do not share the CPU. Config arg: a dataset and/or a mode (`growing`, `fixed`).
"""

from configs import common
from configs import progan

STEPS = 1_000
IMAGES_PER_PHASE = 8_000
SEEDS = range(3)
DATASETS = ('mnist5k', 'fashion_mnist_idx')
MODES = {
    'growing': lambda c: setattr(c.progressive, 'first_resolution', 4),
    'fixed': lambda c: setattr(c.progressive, 'first_resolution', 32),
}


def _short(c):
  c.train.num_steps = c.eval.every_steps = STEPS
  c.progressive.fade_images = c.progressive.stable_images = IMAGES_PER_PHASE
  c.train.sample_every = 125
  c.checkpoint.every_steps = 250
  c.eval.metrics = 'fid,kid,swd'
  c.eval.num_samples = 500
  c.eval.num_reference = 1000


def get_config(arg=None):
  presets = ({k: progan.PRESETS[k] for k in DATASETS}, MODES)
  return common.with_arg(progan.base(), arg, presets, ('mnist5k', 'growing'), _short)


def sweep(add, arg=None):
  names = [p for p in (arg or '').split(',') if p]
  datasets = [n for n in names if n in DATASETS] or DATASETS
  modes = [n for n in names if n in MODES] or MODES
  for seed in SEEDS:  # seed-major, the two arms side by side: a cut-short study has whole pairs
    for data in datasets:
      for mode in modes:
        add(config_arg=f'{data},{mode}', seed=seed)
