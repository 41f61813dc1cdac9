"""PyTorch port of WGAN-GP's released toy training (igul222/improved_wgan_training gan_toy.py,
FIXED_GENERATOR False), scored by our mode protocol: the reference our
`configs/papers/gulrajani2017_toy.py` runs are compared with at equal iterations.

  python benchmarks/torch_wgan_toy.py [--data=8gaussians|25gaussians] [--method=gp|clip]
      [--iters=3000] [--eval_every=600] [--seed=0] [--threads=1] [--out=FILE.json]

torch is not a dependency of gan_jax; this script needs torch (any 2.x) and numpy. It follows
gan_toy.py line for line, as our config's docstring cites it: G z ~ N(0, I_2) -> 3 x (512, ReLU)
-> 2, the critic 2 -> 3 x (512, ReLU) -> 1; ReLU layers tflib's 'he' init (uniform, variance
2 / fan_in), output layers its default (uniform, variance 2 / (fan_in + fan_out)), biases 0;
batch 256; each iteration one G step (from the second on), then 5 critic steps, each on a fresh
real batch; critic loss E D(G(z)) - E D(x) (+ 0.1 (||grad D(x_hat)|| - 1)^2 on x_hat = a x +
(1 - a) G(z), a ~ U(0, 1) per sample: 'gp', Adam 1e-4 (0.5, 0.9)), or weights and biases
clipped to [-0.01, 0.01] after each critic step ('clip', TF's RMSProp 5e-5: decay 0.9, mean
square from 1, eps 1e-10 inside the root); G's loss -E D(G(z)). The data: 8 Gaussians at
radius 2 with std 0.02, or the 25 at {-4..4}^2 step 2 with std 0.05, divided by 1.414 / 2.828
(ours are fresh draws; the code's 25 are a fixed set of 100,000 points: fresh here as well).
Every --eval_every iterations it prints the mode coverage of 2,500 samples of G
(gan_jax/metrics/mixture.py, loaded by path: no JAX needed): modes (>= 20 HQ samples), HQ share,
modes_any, reverse KL, median distance to the nearest mode in the mixture's std.
"""

import argparse
import importlib.util
import json
import math
import os
import time

DIM, BATCH, CRITIC_ITERS, LAMBDA = 512, 256, 5, 0.1
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_parser():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--data', default='8gaussians', choices=('8gaussians', '25gaussians'))
  parser.add_argument('--method', default='gp', choices=('gp', 'clip'))
  parser.add_argument('--iters', type=int, default=3000, help='generator iterations')
  parser.add_argument('--eval_every', type=int, default=600)
  parser.add_argument('--seed', type=int, default=0)
  parser.add_argument('--threads', type=int, default=1, help='torch.set_num_threads')
  parser.add_argument('--out', default=None, help='also write the evaluations to this .json')
  return parser


if __name__ == '__main__':  # --help and bad flags answered without torch (not a gan_jax need)
  ARGS = make_parser().parse_args()

import numpy as np  # pylint: disable=g-import-not-at-top,wrong-import-position
import torch  # pylint: disable=g-import-not-at-top,wrong-import-position
from torch import nn  # pylint: disable=g-import-not-at-top,wrong-import-position


def _mixture_module():
  path = os.path.join(ROOT, 'gan_jax', 'metrics', 'mixture.py')
  spec = importlib.util.spec_from_file_location('mixture', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module


def modes_and_std(data):
  """The mixture's centres and std, after the code's scaling."""
  if data == '8gaussians':
    angles = np.arange(8) * np.pi / 4
    centres = 2 * np.stack([np.cos(angles), np.sin(angles)], 1)
    return centres / 1.414, 0.02 / 1.414
  grid = np.arange(-4, 5, 2, dtype=np.float64)
  centres = np.stack(np.meshgrid(grid, grid), -1).reshape(-1, 2)
  return centres / 2.828, 0.05 / 2.828


def real_batch(rng, centres, std):
  idx = rng.integers(len(centres), size=BATCH)
  return torch.as_tensor(centres[idx] + std * rng.normal(size=(BATCH, 2)), dtype=torch.float32)


def linear(n_in, n_out, he):
  """tflib's Linear: uniform weights of variance 2 / n_in ('he') or 2 / (n_in + n_out)."""
  layer = nn.Linear(n_in, n_out)
  std = math.sqrt(2 / n_in) if he else math.sqrt(2 / (n_in + n_out))
  with torch.no_grad():
    layer.weight.uniform_(-std * math.sqrt(3), std * math.sqrt(3))
    layer.bias.zero_()
  return layer


def net(n_in, n_out):
  return nn.Sequential(
      linear(n_in, DIM, True), nn.ReLU(), linear(DIM, DIM, True), nn.ReLU(),
      linear(DIM, DIM, True), nn.ReLU(), linear(DIM, n_out, False),
  )


class TFRMSProp(torch.optim.Optimizer):
  """TensorFlow 1's RMSProp: ms = 0.9 ms + 0.1 g^2 (ms starts at 1), p -= lr g / sqrt(ms + eps)."""

  def __init__(self, params, lr=5e-5, decay=0.9, eps=1e-10):
    super().__init__(params, dict(lr=lr, decay=decay, eps=eps))

  @torch.no_grad()
  def step(self):
    for group in self.param_groups:
      for p in group['params']:
        ms = self.state[p].setdefault('ms', torch.ones_like(p))
        ms.mul_(group['decay']).addcmul_(p.grad, p.grad, value=1 - group['decay'])
        p.addcdiv_(p.grad, (ms + group['eps']).sqrt(), value=-group['lr'])


def optimizer(params, method):
  if method == 'gp':
    return torch.optim.Adam(params, lr=1e-4, betas=(0.5, 0.9), eps=1e-8)
  return TFRMSProp(params)


def penalty(critic, real, fake):
  alpha = torch.rand(BATCH, 1)
  x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
  (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
  return LAMBDA * ((grad.norm(dim=1) - 1) ** 2).mean()


def train(args):
  torch.manual_seed(args.seed)
  torch.set_num_threads(args.threads)
  rng = np.random.default_rng(args.seed)
  centres, std = modes_and_std(args.data)
  coverage = _mixture_module().mode_coverage
  gen, critic = net(2, 2), net(2, 1)
  g_opt, d_opt = optimizer(gen.parameters(), args.method), optimizer(critic.parameters(), args.method)
  records, start = [], time.time()
  for iteration in range(1, args.iters + 1):
    if iteration > 1:  # the code's G step comes first from the second iteration on
      g_loss = -critic(gen(torch.randn(BATCH, 2))).mean()
      g_opt.zero_grad()
      g_loss.backward()
      g_opt.step()
    for _ in range(CRITIC_ITERS):
      real = real_batch(rng, centres, std)
      with torch.no_grad():
        fake = gen(torch.randn(BATCH, 2))
      d_loss = critic(fake).mean() - critic(real).mean()
      if args.method == 'gp':
        d_loss = d_loss + penalty(critic, real, fake)
      d_opt.zero_grad()
      d_loss.backward()
      d_opt.step()
      if args.method == 'clip':
        with torch.no_grad():
          for p in critic.parameters():
            p.clamp_(-0.01, 0.01)
    if iteration % args.eval_every == 0 or iteration == args.iters:
      with torch.no_grad():
        samples = gen(torch.randn(2500, 2)).numpy()
      values = coverage(samples, centres, std)
      record = {k: (v.tolist() if k == 'counts' else v) for k, v in values.items()}
      records.append({'iteration': iteration, **record})
      rate = iteration / (time.time() - start)
      print(
          f"iteration {iteration}: modes={values['modes']} high_quality={values['high_quality']:.4f}"
          f" modes_any={values['modes_any']} reverse_kl={values['reverse_kl']:.3f}"
          f" median_distance={values['median_distance']:.1f} ({rate:.2f} it/s)",
          flush=True,
      )
  if args.out:
    with open(args.out, 'w', encoding='utf-8') as f:
      json.dump({'args': vars(args), 'evaluations': records}, f, indent=1)


if __name__ == '__main__':
  train(ARGS)
