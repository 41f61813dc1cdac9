"""Compile seconds of random draws and of state inits, with JAX's keys and with gan_jax.rng's.

  python -m benchmarks.random_compile [--shapes=3x3x4x8,64x32x32x3] [--configs=hinge:cifar10]

gan_jax.rng draws every array of rank >= 3 as a (first axis, rest) matrix, the same numbers
(tests/test_rng.py), because XLA:CPU's compile of JAX's threefry hash grows with small trailing
axes. This prints, per shape, the seconds to compile `jax.random.normal` of it, and per config,
to compile its state init (every kernel of both networks drawn), each with `jax.random.key` and
with `gan_jax.rng.key`. Each measurement is a fresh jit with the persistent compilation cache
off; the two keys alternate, and each row reports the faster of --rounds.
"""

import argparse
import math
import time

from gan_jax.cli import set_cpu_xla_flags


def _shape(text):
  return tuple(int(n) for n in text.split('x'))


def _seconds(fn, key):
  import jax  # pylint: disable=g-import-not-at-top

  start = time.perf_counter()
  jax.jit(lambda k: fn(k)).lower(key).compile()  # a new function: nothing cached
  return time.perf_counter() - start


def _init(config_arg):
  """The state init of configs/<name>.py:<arg>, as training builds it (dataset by shape)."""
  import importlib  # pylint: disable=g-import-not-at-top

  from gan_jax import benchmark  # pylint: disable=g-import-not-at-top

  name, _, arg = config_arg.partition(':')
  config = importlib.import_module(f'configs.{name}').get_config(arg or None)
  exp, _ = benchmark.build_offline(config)
  return exp.init_state


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--shapes', default='3x3x4x8,3x3x64x128,64x32x32x3,288')
  parser.add_argument('--configs', default='hinge:cifar10,dcgan:mnist5k')
  parser.add_argument('--rounds', type=int, default=2)
  args = parser.parse_args()
  set_cpu_xla_flags()
  import jax  # pylint: disable=g-import-not-at-top

  jax.config.update('jax_enable_compilation_cache', False)
  from gan_jax import rng  # pylint: disable=g-import-not-at-top

  shapes = [_shape(s) for s in args.shapes.split(',') if s]
  work = [(f'normal {s}', lambda k, s=s: jax.random.normal(k, s)) for s in shapes]
  work += [(f'init {c}', _init(c)) for c in args.configs.split(',') if c]
  print(f'{jax.devices()[0].device_kind}; seconds to compile, best of {args.rounds}')
  print('| draw | jax.random.key | gan_jax.rng.key | ratio |')
  print('|---|---|---|---|')
  for name, fn in work:
    best = {'jax': math.inf, 'rng': math.inf}
    for _ in range(args.rounds):
      best['jax'] = min(best['jax'], _seconds(fn, jax.random.key(0)))
      best['rng'] = min(best['rng'], _seconds(fn, rng.key(0)))
    print(f'| {name} | {best["jax"]:.2f} | {best["rng"]:.2f} | {best["jax"] / best["rng"]:.1f}x |',
          flush=True)


if __name__ == '__main__':
  main()
