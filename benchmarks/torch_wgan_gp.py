"""PyTorch reference of one WGAN-GP iteration of `configs/wgan_gp.py:cifar10`.

  python benchmarks/torch_wgan_gp.py [--iters=5] [--warmup=2] [--device=cpu|cuda]
      [--compile] [--amp] [--threads=N] [--channels_last]

torch is not a dependency of gan_jax; this script only needs torch (any 2.x).
The same work as gan_jax/step.py on SNGAN's standard CNN at 32x32x3 (G 3,813,379
and D 2,935,873 parameters, as gan_jax/models/sngan_cnn.py): per iteration
5 critic steps, each on a fresh real batch of 64: fake = G(z) (no gradient),
one D forward on concat(real, fake), the Wasserstein loss plus 10 x the gradient
penalty E(||grad D(x^)|| - 1)^2 on x^ uniform on real-fake lines (a double
backward), Adam(1e-4, betas (0, 0.9)); then one generator step (-E D(G(z))),
Adam, and an EMA (0.999) of G's weights. Real data are random, on the device.
On a GPU it takes torch's fastest settings: cudnn.benchmark (the convolution
algorithm timed per shape, as XLA autotunes) and fused Adam; float32 convolutions
then run in TF32 (torch's default for cuDNN, JAX's default for float32 on GPUs).
Prints the parameter counts, then as the last lines (compile_s only with --compile)
  compile_s=<s>  iters_per_s=<iterations/s>  samples_per_s=<iters_per_s x 5 x 64>
"""

import argparse
import time

def make_parser():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--iters', type=int, default=5, help='timed iterations')
  parser.add_argument('--warmup', type=int, default=2, help='untimed iterations first')
  parser.add_argument('--device', default='cpu', choices=('cpu', 'cuda'))
  parser.add_argument(
      '--compile', action='store_true', help='torch.compile G and D (the GP stays eager)'
  )
  parser.add_argument('--amp', action='store_true', help='bfloat16 autocast')
  parser.add_argument('--threads', type=int, default=None, help='torch.set_num_threads')
  parser.add_argument('--channels_last', action='store_true', help='NHWC memory format')
  return parser


if __name__ == '__main__':  # --help and bad flags answered without torch (not a gan_jax need)
  make_parser().parse_args()

import torch  # pylint: disable=g-import-not-at-top,wrong-import-position
from torch import nn  # pylint: disable=g-import-not-at-top,wrong-import-position

BATCH, D_STEPS, Z_DIM, WIDTH, GP, EMA = 64, 5, 128, 64, 10.0, 0.999


class Generator(nn.Module):
  """z -> Dense(4*4*512) -> BN -> ReLU -> 3 x [deconv 4x4/2 -> BN -> ReLU] -> conv 3x3 -> tanh."""

  def __init__(self, w=WIDTH):
    super().__init__()
    self.dense = nn.Linear(Z_DIM, 4 * 4 * 8 * w)
    layers = [nn.BatchNorm2d(8 * w, momentum=0.1), nn.ReLU()]
    for c_in, c_out in ((8 * w, 4 * w), (4 * w, 2 * w), (2 * w, w)):
      layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.BatchNorm2d(c_out), nn.ReLU()]
    layers += [nn.Conv2d(w, 3, 3, 1, 1), nn.Tanh()]
    self.body = nn.Sequential(*layers)

  def forward(self, z):
    return self.body(self.dense(z).view(z.shape[0], -1, 4, 4))


class Discriminator(nn.Module):
  """x -> 7 x [conv (pad 1) -> LeakyReLU(0.1)] -> flatten -> Dense(1)."""

  def __init__(self, w=WIDTH):
    super().__init__()
    layers, c_in = [], 3
    for c_out, k, s in zip(
        (w, w, 2 * w, 2 * w, 4 * w, 4 * w, 8 * w), (3, 4, 3, 4, 3, 4, 3), (1, 2, 1, 2, 1, 2, 1)
    ):
      layers += [nn.Conv2d(c_in, c_out, k, s, 1), nn.LeakyReLU(0.1)]
      c_in = c_out
    self.body = nn.Sequential(*layers)
    self.dense = nn.Linear(4 * 4 * 8 * w, 1)

  def forward(self, x):
    return self.dense(self.body(x).flatten(1))[:, 0]


def param_count(module):
  return sum(p.numel() for p in module.parameters())


def gradient_penalty(d, real, fake):
  """E (||grad_x D(x^)|| - 1)^2, x^ = real + eps (fake - real), eps ~ U[0, 1] per example."""
  eps = torch.rand(real.shape[0], 1, 1, 1, device=real.device)
  x_hat = (real + eps * (fake - real)).requires_grad_(True)
  (grads,) = torch.autograd.grad(d(x_hat).sum(), x_hat, create_graph=True)
  norm = torch.sqrt(grads.flatten(1).square().sum(1) + 1e-12)
  return (norm - 1.0).square().mean()


def make_iteration(g, d, d_eager, g_opt, d_opt, ema, device, amp):
  """One iteration: D_STEPS critic steps on batches[i], one G step, the EMA.

  `d_eager` (D itself, never compiled: torch.compile has no double backward) computes the GP.
  """
  autocast = lambda: torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp)

  def d_step(real):
    with torch.no_grad(), autocast():
      fake = g(torch.randn(BATCH, Z_DIM, device=device)).float()
    with autocast():
      real_logits, fake_logits = d(torch.cat([real, fake])).float().chunk(2)
      loss = fake_logits.mean() - real_logits.mean() + GP * gradient_penalty(d_eager, real, fake)
    d_opt.zero_grad(set_to_none=True)
    loss.backward()
    d_opt.step()

  def g_step():
    with autocast():
      loss = -d(g(torch.randn(BATCH, Z_DIM, device=device))).float().mean()
    g_opt.zero_grad(set_to_none=True)
    loss.backward()
    g_opt.step()
    with torch.no_grad():
      torch._foreach_lerp_(ema, list(g.parameters()), 1.0 - EMA)

  def iteration(batches):
    for real in batches:
      d_step(real)
    g_step()

  return iteration


def main():
  parser = make_parser()
  args = parser.parse_args()
  if args.iters < 1 or args.warmup < 0:
    parser.error('--iters must be >= 1 and --warmup >= 0')
  if args.threads:
    torch.set_num_threads(args.threads)
  device = torch.device(args.device)
  torch.manual_seed(0)
  if device.type == 'cuda':
    torch.backends.cudnn.benchmark = True
  fmt = torch.channels_last if args.channels_last else torch.contiguous_format
  g = Generator().to(device, memory_format=fmt)
  d = Discriminator().to(device, memory_format=fmt)
  print(f'params: G {param_count(g):,}  D {param_count(d):,}')
  print(
      f'torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, '
      f'compile {args.compile}, amp {args.amp}, channels_last {args.channels_last}'
  )
  # None: torch's default (foreach), with which the README's CPU numbers were taken.
  fused = True if device.type == 'cuda' else None
  g_opt = torch.optim.Adam(g.parameters(), lr=1e-4, betas=(0.0, 0.9), fused=fused)
  d_opt = torch.optim.Adam(d.parameters(), lr=1e-4, betas=(0.0, 0.9), fused=fused)
  ema = [p.detach().clone() for p in g.parameters()]
  g_run, d_run = (torch.compile(g), torch.compile(d)) if args.compile else (g, d)
  iteration = make_iteration(g_run, d_run, d, g_opt, d_opt, ema, device, args.amp)
  batches = [
      (torch.rand(BATCH, 3, 32, 32, device=device) * 2 - 1).contiguous(memory_format=fmt)
      for _ in range(D_STEPS)
  ]
  sync = torch.cuda.synchronize if device.type == 'cuda' else lambda: None
  start = time.perf_counter()
  iteration(batches)  # with --compile, compiles here
  sync()
  first_s = time.perf_counter() - start
  for _ in range(args.warmup):
    iteration(batches)
  sync()
  start = time.perf_counter()
  for _ in range(args.iters):
    iteration(batches)
  sync()
  seconds = time.perf_counter() - start
  iters_per_s = args.iters / seconds
  print(f'timed: {args.iters} iterations in {seconds:.3f} s (first iteration {first_s:.2f} s)')
  if args.compile:
    print(f'compile_s={first_s:.3f}')
  print(f'iters_per_s={iters_per_s:.6g}')
  print(f'samples_per_s={iters_per_s * D_STEPS * BATCH:.6g}')


if __name__ == '__main__':
  main()
