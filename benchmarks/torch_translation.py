"""What benchmarks/torch_pix2pix.py and torch_cyclegan.py share: the reference's PatchGAN, its
GAN loss, init, an EMA, the device and timing harness (a library: it needs torch).

The layers are those of junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py (written here
anew): NLayerDiscriminator, GANLoss ('vanilla': BCEWithLogitsLoss; 'lsgan': MSELoss against 1
or 0), init_weights('normal', 0.02) (conv weights N(0, 0.02²), biases 0, BatchNorm weights
N(1, 0.02²)), and `use_bias` of a convolution followed by a norm: only with InstanceNorm2d.
"""

import time

import torch
from torch import nn


def norm_layer(kind):
  """The reference's get_norm_layer: BatchNorm2d (affine) or InstanceNorm2d (no affine, no
  running statistics), and whether the convolutions before it have a bias."""
  if kind == 'batch':
    return nn.BatchNorm2d, False
  return (lambda c: nn.InstanceNorm2d(c, affine=False, track_running_stats=False)), True


class NLayerDiscriminator(nn.Sequential):
  """The reference's PatchGAN: conv 4x4/2 (bias) + LeakyReLU 0.2; n_layers - 1 x [conv 4x4/2,
  norm, LeakyReLU]; conv 4x4/1, norm, LeakyReLU; conv 4x4/1 to 1 channel (bias)."""

  def __init__(self, input_nc, ndf, n_layers, norm):
    layer, bias = norm_layer(norm)
    seq = [nn.Conv2d(input_nc, ndf, 4, 2, 1), nn.LeakyReLU(0.2, True)]
    mult = 1
    for n in range(1, n_layers + 1):
      prev, mult = mult, min(2**n, 8)
      stride = 2 if n < n_layers else 1
      seq += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride, 1, bias=bias), layer(ndf * mult)]
      seq += [nn.LeakyReLU(0.2, True)]
    super().__init__(*seq, nn.Conv2d(ndf * mult, 1, 4, 1, 1))


class GANLoss(nn.Module):
  """The reference's GANLoss: loss(prediction, target_is_real) against a constant target."""

  def __init__(self, mode):
    super().__init__()
    self.loss = nn.BCEWithLogitsLoss() if mode == 'vanilla' else nn.MSELoss()

  def forward(self, prediction, target_is_real):
    target = torch.ones_like(prediction) if target_is_real else torch.zeros_like(prediction)
    return self.loss(prediction, target)


def init_weights(net, gain=0.02):
  """The reference's init_weights(net, 'normal', 0.02)."""

  def init(m):
    name = type(m).__name__
    if hasattr(m, 'weight') and ('Conv' in name or 'Linear' in name):
      nn.init.normal_(m.weight, 0.0, gain)
      if m.bias is not None:
        nn.init.zeros_(m.bias)
    elif 'BatchNorm2d' in name:
      nn.init.normal_(m.weight, 1.0, gain)
      nn.init.zeros_(m.bias)

  net.apply(init)
  return net


def set_requires_grad(nets, requires_grad):
  for net in nets:
    for p in net.parameters():
      p.requires_grad = requires_grad


def param_count(*modules):
  return sum(p.numel() for m in modules for p in m.parameters())


class Ema:
  """An EMA (decay 0.999, as the gan_jax configs' train.ema_decay; the reference keeps none) of
  the generators' parameters and float buffers (BatchNorm's running statistics)."""

  def __init__(self, *nets, decay=0.999):
    self.live = [t for n in nets for t in [*n.parameters(), *n.buffers()] if t.is_floating_point()]
    self.copy, self.weight = [t.detach().clone() for t in self.live], 1.0 - decay

  @torch.no_grad()
  def update(self):
    torch._foreach_lerp_(self.copy, self.live, self.weight)  # pylint: disable=protected-access


def setup(args, *nets):
  """(device, memory format, the nets there in it, initialised as the reference) after the
  flags' threads and seed."""
  if args.threads:
    torch.set_num_threads(args.threads)
  torch.manual_seed(0)
  device = torch.device(args.device)
  if device.type == 'cuda':
    torch.backends.cudnn.benchmark = True
  fmt = torch.channels_last if args.channels_last else torch.contiguous_format
  return device, fmt, [init_weights(n).to(device, memory_format=fmt) for n in nets]


def adam(params, device, lr=2e-4, betas=(0.5, 0.999)):
  """The reference's Adam; fused on a GPU (torch's fastest there), torch's default on a CPU."""
  return torch.optim.Adam(params, lr=lr, betas=betas, fused=True if device.type == 'cuda' else None)


def images(device, fmt, batch, shape):
  """A random batch of (C, H, W) images uniform in [-1, 1] on the device, in `fmt`."""
  return (torch.rand(batch, *shape, device=device) * 2 - 1).contiguous(memory_format=fmt)


def time_iterations(args, iteration, batch, device):
  """Runs one iteration (compiling, with --compile), --warmup more, then --iters timed; prints
  the timing lines, samples_per_s = iterations/s x `batch` last."""
  sync = torch.cuda.synchronize if device.type == 'cuda' else lambda: None
  start = time.perf_counter()
  iteration()
  sync()
  first_s = time.perf_counter() - start
  for _ in range(args.warmup):
    iteration()
  sync()
  start = time.perf_counter()
  for _ in range(args.iters):
    iteration()
  sync()
  seconds = time.perf_counter() - start
  print(f'timed: {args.iters} iterations in {seconds:.3f} s (first iteration {first_s:.2f} s)')
  if args.compile:
    print(f'compile_s={first_s:.3f}')
  print(f'iters_per_s={args.iters / seconds:.6g}')
  print(f'samples_per_s={args.iters / seconds * batch:.6g}')


def describe(args, device):
  print(
      f'torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, '
      f'compile {args.compile}, amp {args.amp}, channels_last {args.channels_last}'
  )
