"""pix2pix (Isola et al. 2017): a U-Net G maps an input image to its target, a PatchGAN D judges
(input, output) pairs; G minimises the GAN loss + 100 L1, D half its loss; Adam 2e-4 (0.5,
0.999), the rate constant for the first half of the steps and linearly down to 0 over the
second (optim.*.hold_steps = decay_steps = train.num_steps / 2 as each preset sets them: with
another train.num_steps set them too, else the run warns that its schedule ends elsewhere);
gan_jax/programs/pix2pix.py trains it.

  python -m experiments.main --config=configs/pix2pix.py --workdir=runs/p2p

Presets: edges2mnist (default: the edge maps of the 5,000 MNIST digits shipped with the suite
-> the digits, gan_jax/data/edges2mnist.py, offline; 28x28 padded with 2 pixels of background to
32x32 for the U-Net's 5 halvings; CPU-sized widths ngf = ndf = 16, D n_layers 2: a 34x34
receptive field, 6x6 logits; 2,000 steps of 16 pairs; samples of input | output | target every
250 steps; L1, PSNR, SSIM and the MNIST classifier's accuracy of the outputs on the 500 test
pairs every 500 steps); sr_mnist, inpaint_mnist, edges2fashion (the same on the other paired
tasks of gan_jax/data/paired_tasks.py: 4x super-resolution from a bicubic-upsampled 7x7, the
centre 14x14 filled in, Fashion-MNIST's edges from Debian's IDX files); smoke (tiny widths and a
few steps: for tests). A second group
picks the loss terms of the paper's ablation (table 1): l1 (L1 alone), gan (the GAN loss alone,
D on the output only), cgan (the conditional GAN loss alone), l1_gan (L1 + GAN with an
unconditional D); none: L1 + cGAN, the paper's full objective.

Preset folder: your own pairs (gan_jax/data/translation_folders.py), data.data_dir=DIR holding
train/ and test/, each file A and B side by side; 64x64 crops of 72x72 (the reference's 256 of
286, scaled), the U-Net's 6 halvings to 1x1 (as unet_256's 8 at 256), the offline tasks' widths
and schedule; L1, PSNR and SSIM on the test pairs.
"""

from configs import common
from gan_jax.registries import DATASETS, LOSSES, OPTIMIZERS, TRANSLATION_MODELS

CPU_MODEL = dict(num_downs=5, ngf=16, ndf=16, n_layers=2)


def _run(c, steps, batch, model, data='edges2mnist'):
  c.data = common.entry(DATASETS, data)
  c.model = common.entry(TRANSLATION_MODELS, 'unet', **model)
  c.train.num_steps, c.train.batch_size = steps, batch
  for net in ('g', 'd'):  # constant for the first half, linear to 0 over the second
    c.optim[net].hold_steps, c.optim[net].decay_steps = steps // 2, steps - steps // 2


def _task(data):
  def preset(c):
    _run(c, 2000, 16, CPU_MODEL, data)
    c.train.log_every, c.train.sample_every = 100, 250
    c.checkpoint.every_steps = c.eval.every_steps = 500

  return preset


def _smoke(c):
  _run(c, 4, 4, dict(num_downs=3, ngf=4, ndf=4, n_layers=1))  # dropout on U-Net level 1
  c.train.log_every = c.train.sample_every = c.checkpoint.every_steps = 2
  c.train.num_samples, c.eval.num_samples = 8, 20
  c.eval.every_steps = 4


def _folder(c):
  """The user's A|B pairs under data.data_dir (train/, test/): 64x64 crops, a U-Net to 1x1."""
  _task('aligned_folder')(c)
  c.data.image_size, c.model.num_downs = 64, 6


TASKS = ('edges2mnist', 'sr_mnist', 'inpaint_mnist', 'edges2fashion')  # gan_jax/data/
PRESETS = {**{t: _task(t) for t in TASKS}, 'smoke': _smoke, 'folder': _folder}
# The loss ablation of the paper's table 1 (L1 + cGAN is the default): pix2pix.* fields.
ABLATION = {
    'l1': lambda c: c.pix2pix.update(gan_weight=0.0),
    'gan': lambda c: c.pix2pix.update(lambda_l1=0.0, d_conditional=False),
    'cgan': lambda c: c.pix2pix.update(lambda_l1=0.0),
    'l1_gan': lambda c: c.pix2pix.update(d_conditional=False),
}


def base():
  """The method's settings (loss, optimizers, schedule, metrics) before a preset picks data and
  sizes."""
  c = common.base('non_saturating')  # the reference's 'vanilla' GANLoss (BCE)
  c.loss = common.entry(LOSSES, 'non_saturating')
  for net in ('g', 'd'):
    c.optim[net] = common.entry(OPTIMIZERS, 'adam', lr=2e-4, b1=0.5, b2=0.999, schedule='linear')
  c.train.ema_decay = 0.999
  c.train.num_samples = 32
  c.eval.num_samples = 500  # the whole test split
  return c


def get_config(arg=None):
  return common.with_arg(base(), arg, (PRESETS, ABLATION), default=('edges2mnist',))
