"""XLA:CPU with and without YNNPACK: which kernels the models here run faster on.

  python -m benchmarks.xla_cpu_flags [--rounds=3] [--steps]

XLA:CPU (jax 0.10) hands dots and convolutions to YNNPACK by default
(`--xla_cpu_experimental_ynn_fusion_type` lists the fusion types; '+x' / '-x' edit
the default list, '' empties it). Each setting runs in its own process (XLA reads
XLA_FLAGS once), the settings alternate for `--rounds` rounds, and each workload
reports its best time over everything it ran: the machine may be shared.
Workloads: a 3x3 convolution (64 -> 64 channels, 32x32, batch 128) forward and
its gradients, the SNGAN D (batch 128) and G (batch 64) forward + backward, the
gradient of D's gradient penalty (batch 64 real + 64 fake), a
1024^2 matmul and the 3x128 MLP D of configs/mixture_2d.py (forward + backward,
batch 256); with --steps also one call of the train step of wgan_gp:cifar10 and
of mixture_2d:grid25 (100 iterations).
"""

import argparse
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAG = '--xla_cpu_experimental_ynn_fusion_type'
SETTINGS = {
    'default (YNNPACK dots + convs)': f'{FLAG}=+individual_dot',
    'off (Eigen dots + convs)': f'{FLAG}=',
    'YNNPACK dots, Eigen convs': f'{FLAG}=-individual_convolution',
}


def _best_ms(fn, args, calls, repeats):
  """Best over `repeats` of the mean time of `calls` back-to-back calls, in ms."""
  import jax  # pylint: disable=g-import-not-at-top

  jax.block_until_ready(fn(*args))
  best = float('inf')
  for _ in range(repeats):
    start = time.perf_counter()
    for _ in range(calls):
      out = fn(*args)
    jax.block_until_ready(out)
    best = min(best, (time.perf_counter() - start) / calls)
  return 1e3 * best


def _workloads(with_steps):
  """name -> (jitted function, args, calls per timing)."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top

  from gan_jax.models import build_models  # pylint: disable=g-import-not-at-top
  from gan_jax.regularizers import gradient_penalty  # pylint: disable=g-import-not-at-top

  k = jax.random.key(0)
  conv = lambda x, w: jax.lax.conv_general_dilated(
      x, w, (1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC')
  )
  x, w = jax.random.normal(k, (128, 32, 32, 64)), 0.05 * jax.random.normal(k, (3, 3, 64, 64))
  g_cnn, d_cnn = build_models('sngan_cnn', (32, 32, 3))
  z = jax.random.normal(k, (64, 128))
  images = jax.random.uniform(k, (128, 32, 32, 3), minval=-1, maxval=1)
  g_vars = g_cnn.init(k, z, train=False)
  d_vars = d_cnn.init(k, images, train=False)

  def g_loss(params, z):
    out, _ = g_cnn.apply({**g_vars, 'params': params}, z, train=True, mutable=['batch_stats'])
    return jnp.mean(out)

  _, d_mlp = build_models('mlp', (2,), d_hidden=(128, 128, 128), d_activation='leaky_relu')
  points = jax.random.normal(k, (256, 2))
  mlp_vars = d_mlp.init(k, points, train=False)
  mlp_loss = lambda p, x: jnp.mean(d_mlp.apply({'params': p}, x, train=True))
  d_loss = lambda p, x: jnp.mean(d_cnn.apply({'params': p}, x, train=True))

  def d_gp(params, x):  # the WGAN-GP term of the critic loss: a double backward
    d_fn = lambda x: d_cnn.apply({'params': params}, x, train=False)
    return gradient_penalty(d_fn, params, x[:64], x[64:], k)

  a = jax.random.normal(k, (1024, 1024))
  work = {
      'conv3x3 64ch fwd': (jax.jit(conv), (x, w), 5),
      'conv3x3 64ch grad x, w': (
          jax.jit(jax.grad(lambda x, w: jnp.sum(conv(x, w)), (0, 1))),
          (x, w),
          5,
      ),
      'SNGAN D fwd+bwd B128': (jax.jit(jax.grad(d_loss)), (d_vars['params'], images), 3),
      'SNGAN D grad of GP B64': (jax.jit(jax.grad(d_gp)), (d_vars['params'], images), 1),
      'SNGAN G fwd+bwd B64': (jax.jit(jax.grad(g_loss)), (g_vars['params'], z), 1),
      'matmul 1024^2': (jax.jit(lambda a: a @ a), (a,), 20),
      'MLP D 3x128 fwd+bwd B256': (jax.jit(jax.grad(mlp_loss)), (mlp_vars['params'], points), 200),
  }
  if with_steps:
    from gan_jax import benchmark  # pylint: disable=g-import-not-at-top
    from configs import mixture_2d, wgan_gp  # pylint: disable=g-import-not-at-top

    for name, config, calls in (
        ('train step wgan_gp:cifar10 (1 it)', wgan_gp.get_config('cifar10'), 2),
        ('train step mixture_2d:grid25 (100 it)', mixture_2d.get_config('grid25'), 3),
    ):
      exp, _ = benchmark.build_offline(config)
      c = benchmark.compile_step(exp)
      # the step donates its state: feed each call's output state to the next one
      holder = [c.state]

      def step(c=c, holder=holder):
        holder[0], metrics = c.step(holder[0], c.batches, c.rng)
        return metrics

      work[name] = (step, (), calls)
  return work


def child(repeats, with_steps):
  """Times every workload under this process's XLA_FLAGS; prints {name: ms} as JSON."""
  times = {
      name: _best_ms(fn, args, calls, repeats)
      for name, (fn, args, calls) in _workloads(with_steps).items()
  }
  print(json.dumps(times))


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--rounds', type=int, default=3, help='alternations of the settings')
  parser.add_argument('--repeats', type=int, default=3, help='timings per workload and process')
  parser.add_argument('--steps', action='store_true', help='also time the full train steps')
  parser.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
  args = parser.parse_args()
  if args.child:
    return child(args.repeats, args.steps)
  best = {s: {} for s in SETTINGS}
  for r in range(args.rounds):
    for setting, flag in SETTINGS.items():
      env = {**os.environ, 'XLA_FLAGS': flag, 'PYTHONPATH': ROOT}
      cmd = [
          sys.executable,
          '-m',
          'benchmarks.xla_cpu_flags',
          '--child',
          f'--repeats={args.repeats}',
      ]
      out = subprocess.run(
          cmd + ['--steps'] * args.steps,
          cwd=ROOT,
          env=env,
          capture_output=True,
          text=True,
          check=True,
      ).stdout
      for name, ms in json.loads(out.strip().splitlines()[-1]).items():
        best[setting][name] = min(ms, best[setting].get(name, float('inf')))
      print(f'round {r + 1}/{args.rounds}: {setting} done', file=sys.stderr, flush=True)
  names = list(next(iter(best.values())))
  base = next(iter(SETTINGS))
  header = ['workload (best ms)'] + list(SETTINGS)
  print('| ' + ' | '.join(header) + ' |')
  print('|' + '---|' * len(header))
  for name in names:
    cells = [f'{best[base][name]:.3g}'] + [
        f'{best[s][name]:.3g} ({best[base][name] / best[s][name]:.2f}x)' for s in list(SETTINGS)[1:]
    ]
    print(f'| {name} | ' + ' | '.join(cells) + ' |')
  print(f'({os.cpu_count()} CPUs; speed-ups relative to the default; load {os.getloadavg()})')


if __name__ == '__main__':
  main()
