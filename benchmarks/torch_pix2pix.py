"""PyTorch reference of one pix2pix iteration of `configs/pix2pix.py` (edges2mnist).

  python benchmarks/torch_pix2pix.py [--iters=10] [--warmup=2] [--device=cpu|cuda]
      [--compile] [--amp] [--threads=N] [--channels_last]

torch is not a dependency of gan_jax; this script only needs torch (any 2.x).
The reference's networks and iteration (junyanz/pytorch-CycleGAN-and-pix2pix:
models/networks.py UnetGenerator, NLayerDiscriminator, GANLoss('vanilla');
models/pix2pix_model.py optimize_parameters; written here anew) at the sizes of
the gan_jax preset: 32x32 images, 1 input (edge map) and 1 output channel, U-Net
num_downs 5, ngf 16, batch norm, dropout 0.5 on the 3 levels inside the innermost
(gan_jax's dropout_blocks 3; the reference's use_dropout places it on
num_downs - 5 levels, none at this depth); PatchGAN ndf 16, n_layers 2, batch
norm, on (input, output) pairs: 2 channels. G 1,042,081 and D 42,705 parameters,
as gan_jax/models/translation/unet.py and patchgan.py count them (compare the
`params:` line with experiments.benchmark's: benchmarks.side_by_side does).

One iteration on a random batch of 16 aligned pairs (a, b) in [-1, 1]:
  fake = G(a)                                          (train mode: dropout on)
  D step: 1/2 [BCE(D(a, fake.detach()), 0) + BCE(D(a, b), 1)], Adam
  G step (D frozen): BCE(D(a, fake), 1) + 100 mean|fake - b|, Adam
  EMA (0.999) of G's parameters and BatchNorm statistics (as the gan_jax config's
  train.ema_decay; the reference keeps none)
Adam(2e-4, betas (0.5, 0.999)); the rate's schedule (the reference steps it once
an epoch) is left out. On a GPU: cudnn.benchmark and fused Adam.
Prints the parameter counts, then as the last lines (compile_s only with --compile)
  compile_s=<s>  iters_per_s=<iterations/s>  samples_per_s=<iters_per_s x 16>
"""

BATCH, SIZE, IN_C, OUT_C = 16, 32, 1, 1
NUM_DOWNS, NGF, NDF, N_LAYERS, DROPOUT_LEVELS, LAMBDA_L1 = 5, 16, 16, 2, 3, 100.0


if __package__:  # python -m benchmarks.torch_pix2pix (--help alone: the tests')
  from benchmarks.torch_flags import parse_flags
else:  # python benchmarks/torch_pix2pix.py: this folder is on the path
  from torch_flags import parse_flags

if __name__ == '__main__':  # --help and bad flags answered without torch (not a gan_jax need)
  FLAGS = parse_flags(__doc__)

# pylint: disable=g-import-not-at-top,wrong-import-position
import torch
from torch import nn

import torch_translation as common


class UnetBlock(nn.Module):
  """The reference's UnetSkipConnectionBlock with BatchNorm2d (convolutions without bias but
  the outermost transposed one): x -> cat(x, up(sub(down(x)))), the outermost without the
  skip; `dropout` after the up path's norm."""

  def __init__(self, outer_nc, inner_nc, input_nc=None, sub=None, where='', dropout=False):
    super().__init__()
    self.outermost = where == 'outermost'
    down = nn.Conv2d(input_nc or outer_nc, inner_nc, 4, 2, 1, bias=False)
    up_in = inner_nc if where == 'innermost' else 2 * inner_nc
    up = nn.ConvTranspose2d(up_in, outer_nc, 4, 2, 1, bias=self.outermost)
    if self.outermost:
      layers = [down, sub, nn.ReLU(True), up, nn.Tanh()]
    elif where == 'innermost':
      layers = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True), up, nn.BatchNorm2d(outer_nc)]
    else:
      layers = [nn.LeakyReLU(0.2, True), down, nn.BatchNorm2d(inner_nc), sub]
      layers += [nn.ReLU(True), up, nn.BatchNorm2d(outer_nc)]
      layers += [nn.Dropout(0.5)] if dropout else []
    self.model = nn.Sequential(*layers)

  def forward(self, x):
    return self.model(x) if self.outermost else torch.cat([x, self.model(x)], 1)


def unet(input_nc, output_nc, num_downs, ngf, dropout_levels):
  """The reference's UnetGenerator (widths ngf * min(2^i, 8) at level i), with dropout on the
  `dropout_levels` levels just outside the innermost (gan_jax's dropout_blocks)."""
  widths = [ngf * min(2**i, 8) for i in range(num_downs)]
  block = UnetBlock(widths[-2], widths[-1], where='innermost')
  for i in reversed(range(1, num_downs - 1)):
    noisy = i >= num_downs - 1 - dropout_levels
    block = UnetBlock(widths[i - 1], widths[i], sub=block, dropout=noisy)
  return UnetBlock(output_nc, widths[0], input_nc, sub=block, where='outermost')


def make_iteration(g, d, g_opt, d_opt, ema, batch, amp, device):
  """pix2pix_model.optimize_parameters on the fixed batch (a, b), then the EMA."""
  gan_loss, l1 = common.GANLoss('vanilla').to(device), nn.L1Loss()
  autocast = lambda: torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp)
  a, b = batch

  def iteration():
    with autocast():
      fake = g(a)
    common.set_requires_grad([d], True)
    d_opt.zero_grad(set_to_none=True)
    with autocast():
      loss_fake = gan_loss(d(torch.cat((a, fake), 1).detach()).float(), False)
      loss_real = gan_loss(d(torch.cat((a, b), 1)).float(), True)
      loss_d = (loss_fake + loss_real) * 0.5
    loss_d.backward()
    d_opt.step()
    common.set_requires_grad([d], False)
    g_opt.zero_grad(set_to_none=True)
    with autocast():
      loss_g = gan_loss(d(torch.cat((a, fake), 1)).float(), True)
      loss_g = loss_g + l1(fake.float(), b) * LAMBDA_L1
    loss_g.backward()
    g_opt.step()
    ema.update()

  return iteration


def main():
  args = FLAGS
  g = unet(IN_C, OUT_C, NUM_DOWNS, NGF, DROPOUT_LEVELS)
  d = common.NLayerDiscriminator(IN_C + OUT_C, NDF, N_LAYERS, 'batch')
  device, fmt, (g, d) = common.setup(args, g, d)
  print(f'params: G {common.param_count(g):,}  D {common.param_count(d):,}')
  common.describe(args, device)
  g_opt, d_opt = common.adam(g.parameters(), device), common.adam(d.parameters(), device)
  ema = common.Ema(g)
  g_run, d_run = (torch.compile(g), torch.compile(d)) if args.compile else (g, d)
  batch = [common.images(device, fmt, BATCH, (c, SIZE, SIZE)) for c in (IN_C, OUT_C)]
  iteration = make_iteration(g_run, d_run, g_opt, d_opt, ema, batch, args.amp, device)
  common.time_iterations(args, iteration, BATCH, device)


if __name__ == '__main__':
  main()
