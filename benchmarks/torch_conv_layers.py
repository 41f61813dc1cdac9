"""PyTorch reference of `python -m benchmarks.fast_conv --what=layers`: the same layers, inputs
and derivatives (fwd; bwd = grad wrt params and input of <act(layer(x)), r>; gp = grad wrt
params of ||grad_x <act(layer(x)), r>||^2, a double backward), fastest of --calls, in ms.

  /path/to/torch/venv/bin/python benchmarks/torch_conv_layers.py [--calls=5] [--channels_last]

torch is not a dependency of gan_jax; this script only needs torch (any 2.x).
"""

import argparse
import time

def make_parser():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--calls', type=int, default=5)
  parser.add_argument('--channels_last', action='store_true')
  return parser


if __name__ == '__main__':  # --help and bad flags answered without torch (not a gan_jax need)
  make_parser().parse_args()

import torch  # pylint: disable=g-import-not-at-top,wrong-import-position
from torch import nn  # pylint: disable=g-import-not-at-top,wrong-import-position

# (name, transposed, in channels, out channels, kernel, stride, padding, batch, input size):
# benchmarks/fast_conv.py LAYERS with PyTorch's padding (4x4/2 transposed 'SAME' = padding 1).
LAYERS = [
    ('D0 3x3/1', False, 3, 64, 3, 1, 1, 128, 32),
    ('D1 4x4/2', False, 64, 64, 4, 2, 1, 128, 32),
    ('D2 3x3/1', False, 64, 128, 3, 1, 1, 128, 16),
    ('D3 4x4/2', False, 128, 128, 4, 2, 1, 128, 16),
    ('D4 3x3/1', False, 128, 256, 3, 1, 1, 128, 8),
    ('D5 4x4/2', False, 256, 256, 4, 2, 1, 128, 8),
    ('D6 3x3/1', False, 256, 512, 3, 1, 1, 128, 4),
    ('G0 4x4/2 T', True, 512, 256, 4, 2, 1, 64, 4),
    ('G1 4x4/2 T', True, 256, 128, 4, 2, 1, 64, 8),
    ('G2 4x4/2 T', True, 128, 64, 4, 2, 1, 64, 16),
    ('G3 3x3/1', False, 64, 3, 3, 1, 1, 64, 32),
]


def main():
  parser = make_parser()
  args = parser.parse_args()
  fmt = torch.channels_last if args.channels_last else torch.contiguous_format
  print(f'torch {torch.__version__}, threads {torch.get_num_threads()}, {fmt}')
  print(f'{"layer":12s}{"fwd":>9s}{"bwd":>9s}{"gp":>9s}  (ms)')
  for name, transposed, cin, cout, k, s, p, batch, size in LAYERS:
    layer = (nn.ConvTranspose2d if transposed else nn.Conv2d)(cin, cout, k, s, p)
    layer = layer.to(memory_format=fmt)
    act = nn.ReLU() if name.startswith('G') else nn.LeakyReLU(0.1)
    x = torch.randn(batch, cin, size, size).contiguous(memory_format=fmt)
    with torch.no_grad():
      r = torch.randn_like(layer(x))

    def fwd():
      with torch.no_grad():
        layer(x)

    def bwd():
      xg = x.detach().requires_grad_(True)
      torch.autograd.grad((act(layer(xg)) * r).sum(), [xg, *layer.parameters()])

    def gp():
      xg = x.detach().requires_grad_(True)
      (gx,) = torch.autograd.grad((act(layer(xg)) * r).sum(), xg, create_graph=True)
      torch.autograd.grad(gx.square().sum(), list(layer.parameters()), allow_unused=True)

    best = {}
    for fn in (fwd, bwd, gp):
      fn()
    for _ in range(args.calls):
      for fn in (fwd, bwd, gp):
        start = time.perf_counter()
        fn()
        seconds = time.perf_counter() - start
        best[fn.__name__] = min(best.get(fn.__name__, seconds), seconds)
    row = ''.join(f'{1e3 * best[n]:9.1f}' for n in ('fwd', 'bwd', 'gp'))
    print(f'{name:12s}{row}', flush=True)


if __name__ == '__main__':
  main()
