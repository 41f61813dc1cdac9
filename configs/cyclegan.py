"""CycleGAN (Zhu et al. 2017): two ResNet generators G_AB, G_BA and two PatchGAN discriminators
trained on unpaired domains A and B with the least-squares GAN loss, cycle consistency (lambda
10 per direction) and the identity loss (0.5 lambda); an image pool of 50 fakes per D; one Adam
(2e-4, (0.5, 0.999)) over both generators and one over both discriminators, the rate constant for
the first half of the steps and linearly down to 0 over the second (optim.*.hold_steps =
decay_steps = half the preset's train.num_steps: numbers of their own, so with
--config.train.num_steps=N pass optim.g and optim.d's hold_steps and decay_steps too);
gan_jax/programs/cyclegan.py trains it.

  python -m experiments.main --config=configs/cyclegan.py --workdir=runs/cg

The suite's least_squares G loss is 1/2 (D - 1)^2, half the reference's MSE: cyclegan.gan_weight
2 weighs it against the cycle terms as the reference does.

Presets (data and sizes): mnist2negative (default: MNIST digits <-> negatives of other MNIST
digits, gan_jax/data/unpaired.py, offline; 28x28; CPU-sized ResNet G with ngf 8 and 3 blocks,
PatchGAN ndf 16 with n_layers 2; 1,000 steps of 8 images per domain; samples of a | G_AB(a) |
G_BA(G_AB(a)) and b | G_BA(b) | G_AB(G_BA(b)) rows every 250 steps; pixel agreement, L1, PSNR,
SSIM against the true counterparts and the MNIST classifier's accuracy, both directions, on the
500 test pairs every 500 steps), mnist2digits (B = the 1,797 UCI 8x8 digits of scikit-learn
upscaled to 28x28; the accuracy of the MNIST classifier on G_BA(b) against the untranslated b),
smoke (tiny widths, a few steps: for tests). The ablation of the paper's table 4 (the full
objective is the default): cycle (cycle terms alone, no GAN), gan (GAN alone), gan_forward (GAN +
the forward cycle A -> B -> A), gan_backward (GAN + the backward cycle B -> A -> B); and
no_identity (identity weight 0, the paper's table 4 setting) in a group of its own.

Preset folder: your own domains (gan_jax/data/translation_folders.py), data.data_dir=DIR holding
trainA/, trainB/, testA/, testB/; 64x64 crops of 72x72 (the reference's 256 of 286, scaled), the
CPU sizes and schedule above; no metrics (an unaligned test split without labels has nothing to
score against), the samples only.
"""

from configs import common
from gan_jax.registries import DATASETS, LOSSES, OPTIMIZERS, TRANSLATION_MODELS

# conv 'xla': at these sizes as fast a step as 'fast' (0.2 s), half the compile time
CPU_MODEL = dict(n_blocks=3, ngf=8, ndf=16, n_layers=2, conv='xla')


def _run(c, data, steps, batch, model):
  c.data = common.entry(DATASETS, data)
  c.model = common.entry(TRANSLATION_MODELS, 'resnet_generator', **model)
  c.train.num_steps, c.train.batch_size = steps, batch
  for net in ('g', 'd'):  # numbers of their own (as configs/mixture_2d.py's decay_steps)
    c.optim[net].hold_steps, c.optim[net].decay_steps = steps // 2, steps - steps // 2


def _task(data):
  def preset(c):
    _run(c, data, 1000, 8, CPU_MODEL)
    c.train.log_every, c.train.sample_every = 50, 250
    c.checkpoint.every_steps = c.eval.every_steps = 500

  return preset


def _smoke(c):
  _run(c, 'mnist2negative', 4, 2, dict(n_blocks=0, ngf=2, ndf=2, n_layers=1, conv='xla'))
  c.train.log_every = c.train.sample_every = c.checkpoint.every_steps = 2
  c.train.num_samples, c.eval.num_samples = 4, 10
  c.eval.every_steps = 4
  c.cyclegan.pool_size = 3


def _folder(c):
  """The user's domains under data.data_dir (trainA/, trainB/, testA/, testB/), 64x64 crops."""
  _task('unaligned_folder')(c)
  c.data.image_size = 64


PRESETS = {
    'mnist2negative': _task('mnist2negative'),
    'mnist2digits': _task('mnist2digits'),
    'folder': _folder,
    'smoke': _smoke,
}
# The ablation of the paper's table 4 (cyclegan.* fields; the full objective is the default).
ABLATION = {
    'cycle': lambda c: c.cyclegan.update(gan_weight=0.0),
    'gan': lambda c: c.cyclegan.update(lambda_forward=0.0, lambda_backward=0.0),
    'gan_forward': lambda c: c.cyclegan.update(lambda_backward=0.0),
    'gan_backward': lambda c: c.cyclegan.update(lambda_forward=0.0),
}
IDENTITY = {'no_identity': lambda c: c.cyclegan.update(identity_weight=0.0)}


def base():
  """The method's settings (loss, loss weights, pool, optimizers, schedule, metrics) before a
  preset picks data and sizes."""
  c = common.base('least_squares')
  c.loss = common.entry(LOSSES, 'least_squares')
  c.cyclegan.update(gan_weight=2.0)  # the reference's MSE (module docstring)
  for net in ('g', 'd'):
    c.optim[net] = common.entry(OPTIMIZERS, 'adam', lr=2e-4, b1=0.5, b2=0.999, schedule='linear')
  c.train.ema_decay = 0.999
  c.train.num_samples = 8
  c.eval.num_samples = 500  # the whole MNIST test split
  return c


def get_config(arg=None):
  return common.with_arg(base(), arg, (PRESETS, ABLATION, IDENTITY), default=('mnist2negative',))
