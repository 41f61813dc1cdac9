"""PyTorch reference of the training loop of `configs/mixture_2d.py:grid25`.

  python benchmarks/torch_mlp.py [--iters=2000] [--warmup=200] [--threads=1]
      [--compile] [--device=cpu|cuda] [--width=128]

torch is not a dependency of gan_jax; this script only needs torch (any 2.x).
The same iteration as gan_jax/step.py with that config: z in R^16, G and D 3x128
MLPs (G ReLU, linear output; D LeakyReLU(0.2)): 35,458 and 33,537 parameters
(`--width=W`: 3xW hidden units, as --config.model.{g,d}_hidden='(W,W,W)');
batch 128, one D step (non-saturating loss on one D forward of concat(real,
fake), plus 0.1 x R1 = 0.1 x 1/2 E ||grad D(x)||^2 on the real batch, a double
backward), one G step (-E log D(G(z))), Adam(5e-4, betas (0.5, 0.9)) (fused
where torch has it), an EMA (0.999) of G's weights. Real points are random, on
the device, one batch per iteration. Defaults are torch's fastest settings for
this size on a CPU: one thread (the matrices are too small to split), no
autograd anomaly checks, fused Adam. Prints as the last lines
  iters_per_s=<iterations/s>  samples_per_s=<iters_per_s x 128>
(and compile_s=<first iteration, compiling included> with --compile).
"""

import argparse
import time

BATCH, Z_DIM, WIDTH, R1, EMA = 128, 16, 128, 0.1, 0.999


def make_parser():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--iters', type=int, default=2000, help='timed iterations')
  parser.add_argument('--warmup', type=int, default=200, help='untimed iterations first')
  parser.add_argument('--device', default='cpu', choices=('cpu', 'cuda'))
  parser.add_argument('--width', type=int, default=WIDTH, help='units of each hidden layer')
  parser.add_argument('--threads', type=int, default=1, help='torch.set_num_threads (0: default)')
  parser.add_argument(
      '--compile', action='store_true', help='torch.compile G and D (R1 stays eager)'
  )
  return parser


if __name__ == '__main__':  # --help and bad flags answered without torch (not a gan_jax need)
  make_parser().parse_args()

import torch  # pylint: disable=g-import-not-at-top,wrong-import-position
from torch import nn  # pylint: disable=g-import-not-at-top,wrong-import-position
from torch.nn import functional as F  # pylint: disable=g-import-not-at-top,wrong-import-position


def mlp(sizes, activation):
  layers = []
  for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
    layers += [nn.Linear(n_in, n_out), activation()]
  return nn.Sequential(*layers, nn.Linear(sizes[-2], sizes[-1]))


def param_count(module):
  return sum(p.numel() for p in module.parameters())


def adam(params, lr=5e-4, betas=(0.5, 0.9)):
  try:
    return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)
  except (RuntimeError, TypeError):  # torch without fused Adam for this device
    return torch.optim.Adam(params, lr=lr, betas=betas, foreach=True)


def make_iteration(g, d, d_eager, g_opt, d_opt, ema, device):
  """One iteration on a real batch: one D step (loss + R1), one G step, the EMA.

  `d_eager` (D itself, never compiled: torch.compile has no double backward) computes R1.
  """

  def d_loss(real):
    with torch.no_grad():
      fake = g(torch.randn(BATCH, Z_DIM, device=device))
    real_logits, fake_logits = d(torch.cat([real, fake]))[:, 0].chunk(2)
    loss = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    x = real.detach().requires_grad_(True)
    (grads,) = torch.autograd.grad(d_eager(x).sum(), x, create_graph=True)
    norm = torch.sqrt(grads.square().sum(1) + 1e-12)
    return loss + R1 * 0.5 * norm.square().mean()

  def g_loss():
    return F.softplus(-d(g(torch.randn(BATCH, Z_DIM, device=device)))[:, 0]).mean()

  def iteration(real):
    d_opt.zero_grad(set_to_none=True)
    d_loss(real).backward()
    d_opt.step()
    g_opt.zero_grad(set_to_none=True)
    g_loss().backward()
    g_opt.step()
    with torch.no_grad():
      torch._foreach_lerp_(ema, list(g.parameters()), 1.0 - EMA)

  return iteration


def main():
  parser = make_parser()
  args = parser.parse_args()
  if args.iters < 1 or args.warmup < 0 or args.width < 1:
    parser.error('--iters and --width must be >= 1 and --warmup >= 0')
  if args.threads:
    torch.set_num_threads(args.threads)
  torch.autograd.set_detect_anomaly(False)
  device = torch.device(args.device)
  torch.manual_seed(0)
  hidden = (args.width,) * 3
  g = mlp((Z_DIM, *hidden, 2), nn.ReLU).to(device)
  d = mlp((2, *hidden, 1), lambda: nn.LeakyReLU(0.2)).to(device)
  print(f'params: G {param_count(g):,}  D {param_count(d):,}')
  print(
      f'torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, '
      f'compile {args.compile}'
  )
  g_opt, d_opt = adam(g.parameters()), adam(d.parameters())
  ema = [p.detach().clone() for p in g.parameters()]
  g_run, d_run = (torch.compile(g), torch.compile(d)) if args.compile else (g, d)
  iteration = make_iteration(g_run, d_run, d, g_opt, d_opt, ema, device)
  real = torch.randn(args.warmup + args.iters + 1, BATCH, 2, device=device)
  sync = torch.cuda.synchronize if device.type == 'cuda' else lambda: None
  start = time.perf_counter()
  iteration(real[0])  # with --compile, compiles here
  sync()
  first_s = time.perf_counter() - start
  for i in range(args.warmup):
    iteration(real[1 + i])
  sync()
  start = time.perf_counter()
  for i in range(args.iters):
    iteration(real[1 + args.warmup + i])
  sync()
  seconds = time.perf_counter() - start
  iters_per_s = args.iters / seconds
  print(f'timed: {args.iters} iterations in {seconds:.3f} s (first iteration {first_s:.2f} s)')
  if args.compile:
    print(f'compile_s={first_s:.3f}')
  print(f'iters_per_s={iters_per_s:.6g}')
  print(f'samples_per_s={iters_per_s * BATCH:.6g}')


if __name__ == '__main__':
  main()
