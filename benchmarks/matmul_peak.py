"""Measured float32 matmul FLOP/s of this machine: the "peak" that achieved FLOP/s compare to.

  python -m benchmarks.matmul_peak [--sizes=256,512,1024,2048,4096] [--repeats=5]

Times C = A @ B for square float32 matrices (2 n^3 FLOPs) in JAX (jitted, XLA_FLAGS
as `experiments.benchmark` sets them) and in PyTorch where each is importable
(run it with each environment), best of `--repeats` timings per size, and prints
the best over the sizes as the last line(s): `jax_matmul_flops_per_s=<x>`,
`torch_matmul_flops_per_s=<x>`.
"""

import argparse
import importlib.util
import os
import time


def best_seconds(fn, repeats, calls):
  """Best over `repeats` of the mean time of `calls` calls of fn() (fn synchronizes)."""
  fn()
  best = float('inf')
  for _ in range(repeats):
    start = time.perf_counter()
    for _ in range(calls):
      fn()
    best = min(best, (time.perf_counter() - start) / calls)
  return best


def jax_matmul(n, repeats):
  import jax  # pylint: disable=g-import-not-at-top

  a = jax.random.normal(jax.random.key(0), (n, n), jax.numpy.float32)
  b = jax.random.normal(jax.random.key(1), (n, n), jax.numpy.float32)
  mm = jax.jit(lambda a, b: a @ b)
  calls = max(1, int(2e9 // (2 * n**3)))
  return best_seconds(lambda: mm(a, b).block_until_ready(), repeats, calls)


def torch_matmul(n, repeats):
  import torch  # pylint: disable=g-import-not-at-top

  gen = torch.Generator().manual_seed(0)
  a, b = torch.randn(n, n, generator=gen), torch.randn(n, n, generator=gen)
  calls = max(1, int(2e9 // (2 * n**3)))
  with torch.no_grad():
    return best_seconds(lambda: a @ b, repeats, calls)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--sizes', default='256,512,1024,2048,4096')
  parser.add_argument('--repeats', type=int, default=5)
  args = parser.parse_args()
  sizes = [int(s) for s in args.sizes.split(',')]
  frameworks = {'jax': jax_matmul, 'torch': torch_matmul}
  found = {k: f for k, f in frameworks.items() if importlib.util.find_spec(k) is not None}
  if 'jax' in found:
    from gan_jax.cli import set_cpu_xla_flags  # pylint: disable=g-import-not-at-top

    set_cpu_xla_flags()
    import jax  # pylint: disable=g-import-not-at-top

    device = jax.devices()[0].device_kind
    print(f'jax {jax.__version__} on {device}, XLA_FLAGS={os.environ["XLA_FLAGS"]!r}')
  if 'torch' in found:
    import torch  # pylint: disable=g-import-not-at-top

    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads')
  print(f'{os.cpu_count()} CPUs, load {os.getloadavg()}')
  peaks = {}
  for name, matmul in found.items():
    for n in sizes:
      flops_per_s = 2 * n**3 / matmul(n, args.repeats)
      print(f'{name} n={n}: {flops_per_s / 1e9:.1f} GFLOP/s', flush=True)
      peaks[name] = max(peaks.get(name, 0.0), flops_per_s)
  for name, peak in peaks.items():
    print(f'{name}_matmul_flops_per_s={peak:.4g}')


if __name__ == '__main__':
  main()
