"""The flags of benchmarks/torch_pix2pix.py and torch_cyclegan.py, without torch: --help and a
bad flag are answered before torch is imported (torch is not a dependency of gan_jax)."""

import argparse


def parse_flags(doc, iters=10, warmup=2):
  """The flags of a reference script whose module docstring is `doc` (usage: its first line);
  exits 2 with the usage for a bad one, as argparse does."""
  parser = argparse.ArgumentParser(description=doc.splitlines()[0])
  parser.add_argument('--iters', type=int, default=iters, help='timed iterations')
  parser.add_argument('--warmup', type=int, default=warmup, help='untimed iterations first')
  parser.add_argument('--device', default='cpu', choices=('cpu', 'cuda'))
  parser.add_argument('--compile', action='store_true', help='torch.compile every network')
  parser.add_argument('--amp', action='store_true', help='bfloat16 autocast')
  parser.add_argument('--threads', type=int, default=None, help='torch.set_num_threads')
  parser.add_argument('--channels_last', action='store_true', help='NHWC memory format')
  args = parser.parse_args()
  if args.iters < 1 or args.warmup < 0:
    parser.error('--iters must be >= 1 and --warmup >= 0')
  return args
