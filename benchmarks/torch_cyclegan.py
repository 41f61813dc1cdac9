"""PyTorch reference of one CycleGAN iteration of `configs/cyclegan.py` (mnist2negative).

  python benchmarks/torch_cyclegan.py [--iters=10] [--warmup=2] [--device=cpu|cuda]
      [--compile] [--amp] [--threads=N] [--channels_last]

torch is not a dependency of gan_jax; this script only needs torch (any 2.x).
The reference's networks and iteration (junyanz/pytorch-CycleGAN-and-pix2pix:
models/networks.py ResnetGenerator, NLayerDiscriminator, GANLoss('lsgan');
util/image_pool.py ImagePool; models/cycle_gan_model.py optimize_parameters;
written here anew) at the sizes of the gan_jax preset: 28x28 images of 1 channel
in both domains; ResNet G ngf 8, 3 blocks, instance norm (no affine parameters,
convolutions with biases), no dropout; PatchGAN ndf 16, n_layers 2, instance
norm: G_AB and G_BA 67,873 parameters each, D_A and D_B 42,353, as
gan_jax/models/translation counts them; the `params:` line sums both generators
(135,746) and both discriminators (84,706), as experiments.benchmark's does
(benchmarks.side_by_side compares the two).

One iteration on random batches a, b of 8 images each in [-1, 1] (gan_jax's
names: G_AB: A -> B, G_BA: B -> A, D_X judges domain X; the reference's netG_A,
netG_B, netD_B, netD_A):
  fake_b = G_AB(a), rec_a = G_BA(fake_b), fake_a = G_BA(b), rec_b = G_AB(fake_a)
  G step (D's frozen), one Adam over both G's:
    MSE(D_B(fake_b), 1) + MSE(D_A(fake_a), 1) + 10 |rec_a - a| + 10 |rec_b - b|
    + 0.5 (10 |G_AB(b) - b| + 10 |G_BA(a) - a|)                      (means)
  D step, one Adam over both D's: for X in (B, A), fakes of X through X's image
    pool of 50 (the reference's, a Python list: while not full it stores and
    returns each image; then with probability 0.5 it returns a stored one and
    stores the new one in its place), 1/2 [MSE(D_X(real), 1) + MSE(D_X(fake), 0)]
  EMA (0.999) of both G's (as the gan_jax config's train.ema_decay; the
  reference keeps none)
Adam(2e-4, betas (0.5, 0.999)); the rate's schedule (stepped once an epoch) is
left out. On a GPU: cudnn.benchmark and fused Adam.
Prints the parameter counts, then as the last lines (compile_s only with --compile)
  compile_s=<s>  iters_per_s=<iterations/s>  samples_per_s=<iters_per_s x 8>
"""

BATCH, SIZE, CHANNELS, NGF, N_BLOCKS, NDF, N_LAYERS = 8, 28, 1, 8, 3, 16, 2
LAMBDA_A = LAMBDA_B = 10.0
LAMBDA_IDENTITY, POOL_SIZE = 0.5, 50


if __package__:  # python -m benchmarks.torch_cyclegan (--help alone: the tests')
  from benchmarks.torch_flags import parse_flags
else:  # python benchmarks/torch_cyclegan.py: this folder is on the path
  from torch_flags import parse_flags

if __name__ == '__main__':  # --help and bad flags answered without torch (not a gan_jax need)
  FLAGS = parse_flags(__doc__)

# pylint: disable=g-import-not-at-top,wrong-import-position
import itertools
import random

import torch
from torch import nn

import torch_translation as common


def instance_norm(channels):
  return common.norm_layer('instance')[0](channels)


class ResnetBlock(nn.Module):
  """x + [ReflectionPad 1, conv 3x3, norm, ReLU, ReflectionPad 1, conv 3x3, norm](x)."""

  def __init__(self, dim):
    super().__init__()
    self.block = nn.Sequential(
        nn.ReflectionPad2d(1),
        nn.Conv2d(dim, dim, 3),
        instance_norm(dim),
        nn.ReLU(True),
        nn.ReflectionPad2d(1),
        nn.Conv2d(dim, dim, 3),
        instance_norm(dim),
    )

  def forward(self, x):
    return x + self.block(x)


def resnet_generator(input_nc, output_nc, ngf, n_blocks):
  """The reference's ResnetGenerator (reflection padding, 2 stride-2 downs, n_blocks residual
  blocks, 2 transposed-convolution ups, instance norm, biases)."""
  seq = [nn.ReflectionPad2d(3), nn.Conv2d(input_nc, ngf, 7), instance_norm(ngf), nn.ReLU(True)]
  for mult in (1, 2):
    seq += [nn.Conv2d(ngf * mult, ngf * mult * 2, 3, 2, 1), instance_norm(ngf * mult * 2)]
    seq += [nn.ReLU(True)]
  seq += [ResnetBlock(ngf * 4) for _ in range(n_blocks)]
  for mult in (4, 2):
    seq += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, 2, 1, output_padding=1)]
    seq += [instance_norm(ngf * mult // 2), nn.ReLU(True)]
  seq += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh()]
  return nn.Sequential(*seq)


class ImagePool:
  """The reference's ImagePool (module docstring)."""

  def __init__(self, size):
    self.size, self.images = size, []

  def query(self, images):
    if self.size == 0:
      return images
    out = []
    for image in images.detach():
      image = image.unsqueeze(0)
      if len(self.images) < self.size:
        self.images.append(image)
        out.append(image)
      elif random.uniform(0, 1) > 0.5:
        i = random.randint(0, self.size - 1)
        out.append(self.images[i].clone())
        self.images[i] = image
      else:
        out.append(image)
    return torch.cat(out, 0)


def make_iteration(nets, g_opt, d_opt, ema, batch, amp, device):
  """cycle_gan_model.optimize_parameters on the fixed batches (a, b), then the EMA."""
  g_ab, g_ba, d_a, d_b = nets
  gan_loss, l1 = common.GANLoss('lsgan').to(device), nn.L1Loss()
  pools = {'a': ImagePool(POOL_SIZE), 'b': ImagePool(POOL_SIZE)}
  autocast = lambda: torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp)
  a, b = batch

  def d_loss(d, real, fake):
    with autocast():
      loss = gan_loss(d(real).float(), True) + gan_loss(d(fake.detach()).float(), False)
    (loss * 0.5).backward()

  def iteration():
    with autocast():
      fake_b = g_ab(a)
      rec_a = g_ba(fake_b)
      fake_a = g_ba(b)
      rec_b = g_ab(fake_a)
    common.set_requires_grad([d_a, d_b], False)
    g_opt.zero_grad(set_to_none=True)
    with autocast():
      idt = l1(g_ab(b).float(), b) * LAMBDA_B + l1(g_ba(a).float(), a) * LAMBDA_A
      gan = gan_loss(d_b(fake_b).float(), True) + gan_loss(d_a(fake_a).float(), True)
      cycle = l1(rec_a.float(), a) * LAMBDA_A + l1(rec_b.float(), b) * LAMBDA_B
    (gan + cycle + idt * LAMBDA_IDENTITY).backward()
    g_opt.step()
    common.set_requires_grad([d_a, d_b], True)
    d_opt.zero_grad(set_to_none=True)
    d_loss(d_b, b, pools['b'].query(fake_b))
    d_loss(d_a, a, pools['a'].query(fake_a))
    d_opt.step()
    ema.update()

  return iteration


def main():
  args = FLAGS
  random.seed(0)
  gens = [resnet_generator(CHANNELS, CHANNELS, NGF, N_BLOCKS) for _ in range(2)]
  discs = [common.NLayerDiscriminator(CHANNELS, NDF, N_LAYERS, 'instance') for _ in range(2)]
  device, fmt, nets = common.setup(args, *gens, *discs)
  names = ('G_AB', 'G_BA', 'D_A', 'D_B')
  print('networks: ' + '  '.join(f'{k} {common.param_count(n):,}' for k, n in zip(names, nets)))
  print(f'params: G {common.param_count(*nets[:2]):,}  D {common.param_count(*nets[2:]):,}')
  common.describe(args, device)
  g_opt = common.adam(itertools.chain(*(n.parameters() for n in nets[:2])), device)
  d_opt = common.adam(itertools.chain(*(n.parameters() for n in nets[2:])), device)
  ema = common.Ema(*nets[:2])
  runs = [torch.compile(n) for n in nets] if args.compile else nets
  batch = [common.images(device, fmt, BATCH, (CHANNELS, SIZE, SIZE)) for _ in range(2)]
  iteration = make_iteration(runs, g_opt, d_opt, ema, batch, args.amp, device)
  common.time_iterations(args, iteration, BATCH, device)


if __name__ == '__main__':
  main()
