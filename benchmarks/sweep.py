"""A study's speed three ways, in one sitting: one process per run, vectorized groups, PyTorch.

  python -m benchmarks.sweep [--runs=8] [--steps=10000] [--parallel=2] [--rounds=2]
      [--torch_python=PATH] [--peak_flops=X] [--json=PATH]
  python -m benchmarks.sweep --what=step --sizes=1,8,64,256 [--calls=20]

--what=sweep (the default) times a fixed slice of configs/sweeps/losses_2d.py: grid25, the
non-saturating loss with R1 0.1 (the iteration of benchmarks/torch_mlp.py), `--runs` seeds,
`--steps` steps each (the study's 10,000 by default; its schedule ends there), with no periodic
evaluation, samples or intermediate checkpoints (torch's loop has none), each round running, one
after the other:
  (a) `launch.sweep --parallel=K`: one experiments.main process per run, K at a time, the cores
      split between them (or one GPU each);
  (b) `launch.sweep --vectorize --parallel=K --max_group=ceil(runs / K)`: K vectorized groups;
  (c) `benchmarks/torch_mlp.py --iters=steps` once per run, K at a time, pinned like (a)
      (needs --torch_python; torch is not a dependency).
Each is timed from start to end (Python start-up, compilation and data included: what a study
waits for). Printed: per way the median wall time over the rounds and its range, runs per hour,
samples per second summed over the runs (runs x steps x 128 / wall), the MFU (those samples x
XLA's FLOPs per sample of one run's iteration / the float32 matmul peak, measured first by
benchmarks.matmul_peak unless --peak_flops), and each way's speed against (a) and (c).

--what=step times the group step alone, in this process, for each S in --sizes: S stacked runs
of grid25's config on random data (the step the vectorized groups run), `--calls` calls after a
warm-up, and prints S, iterations/s, samples/s summed over the S runs and the MFU: how far one
program of S small runs fills the device (on a GPU one run leaves it nearly idle).
"""

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH = 128  # configs/mixture_2d.py's and benchmarks/torch_mlp.py's

SLICE = """# Written by benchmarks/sweep.py: a fixed slice of configs/sweeps/losses_2d.py.
from configs.sweeps import losses_2d

STEPS, RUNS = {steps}, {runs}


def get_config(arg=None):
  c = losses_2d.get_config(arg)
  c.train.num_steps = STEPS
  for net in ('g', 'd'):
    if 'decay_steps' in c.optim[net]:
      c.optim[net].decay_steps = STEPS
  c.train.sample_every = 0
  c.train.log_every = STEPS
  c.eval.every_steps = 0
  c.checkpoint.every_steps = STEPS
  return c


def sweep(add, arg=None):
  for seed in range(RUNS):
    add(config_arg='grid25', **{{'loss.name': 'non_saturating', 'reg.r1': 0.1, 'seed': seed}})
"""


def slice_config(steps):
  """grid25's config as the slice trains it (for its FLOPs)."""
  sys.path.insert(0, ROOT)
  from configs.sweeps import losses_2d  # pylint: disable=g-import-not-at-top

  c = losses_2d.get_config('grid25')
  c.train.num_steps = steps
  c.loss.name, c.reg.r1 = 'non_saturating', 0.1
  return c


def flops_per_sample(config):
  """XLA's FLOPs of one run's iteration per real sample D sees."""
  from gan_jax.benchmark import build_offline, compile_step, flops_per_iteration  # pylint: disable=g-import-not-at-top

  exp, _ = build_offline(config, 1)
  flops = flops_per_iteration(compile_step(exp))
  return flops / (config.train.d_steps * config.train.batch_size) if flops else None


def measured_peak():
  out = subprocess.run(
      [sys.executable, '-m', 'benchmarks.matmul_peak', '--sizes=1024,2048', '--repeats=3'],
      cwd=ROOT,
      capture_output=True,
      text=True,
      check=True,
  ).stdout
  return float(re.findall(r'^jax_matmul_flops_per_s=(\S+)$', out, re.M)[-1])


def run_pool(commands, parallel):
  """Runs `commands` K at a time, each pinned to its share of the cores (launch.sweep's slots);
  returns the wall seconds; raises RuntimeError with a failing command's stderr."""
  from launch.sweep import slot_env, slots  # pylint: disable=g-import-not-at-top

  free, queue, running = slots(parallel, 1), list(commands), []
  start = time.perf_counter()
  while queue or running:
    while queue and free:
      slot, cmd = free.pop(0), queue.pop(0)
      cpus = slot.get('cpus')
      proc = subprocess.Popen(
          cmd,
          cwd=ROOT,
          env=slot_env(slot),
          stdout=subprocess.DEVNULL,
          stderr=subprocess.PIPE,
          text=True,
          preexec_fn=(lambda c=cpus: os.sched_setaffinity(0, c)) if cpus else None,
      )
      running.append((proc, slot))
    for proc, slot in list(running):
      if proc.poll() is None:
        continue
      running.remove((proc, slot))
      free.append(slot)
      if proc.returncode:
        raise RuntimeError(
            f'{" ".join(proc.args)} exited {proc.returncode}: {proc.stderr.read()[-1500:]}'
        )
    time.sleep(0.05)
  return time.perf_counter() - start


def timed(cmd):
  start = time.perf_counter()
  result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
  if result.returncode:
    raise RuntimeError(f'{" ".join(cmd)} exited {result.returncode}: {result.stderr[-1500:]}')
  return time.perf_counter() - start


def sweep_ways(args, sweep_file, scratch):
  """{way: function(round) -> wall seconds}."""
  python = sys.executable
  group = math.ceil(args.runs / args.parallel)
  base = [python, '-m', 'launch.sweep', f'--config={sweep_file}', f'--parallel={args.parallel}']
  ways = {
      f'(a) one process per run, {args.parallel} at a time': lambda r: timed(
          base + [f'--workdir={scratch}/a{r}']
      ),
      f'(b) vectorized, {args.parallel} groups of {group}': lambda r: timed(
          base + [f'--workdir={scratch}/b{r}', '--vectorize', f'--max_group={group}']
      ),
  }
  if args.torch_python:
    torch = [args.torch_python, 'benchmarks/torch_mlp.py', f'--iters={args.steps}', '--warmup=0']
    if args.device == 'gpu':
      torch.append('--device=cuda')
    ways[f'(c) PyTorch, one process per run, {args.parallel} at a time'] = lambda r: run_pool(
        [torch] * args.runs, args.parallel
    )
  return ways


def main_sweep(args):
  peak = args.peak_flops or (measured_peak() if args.device == 'cpu' else None)
  per_sample = flops_per_sample(slice_config(args.steps))
  print(f'FLOPs per sample {per_sample:.4g}; peak {peak and peak / 1e9:.1f} GFLOP/s', flush=True)
  walls = {}
  with tempfile.TemporaryDirectory() as scratch:
    sweep_file = os.path.join(scratch, 'slice.py')
    with open(sweep_file, 'w') as f:
      f.write(SLICE.format(steps=args.steps, runs=args.runs))
    ways = sweep_ways(args, sweep_file, scratch)
    for r in range(args.rounds):
      for name, way in ways.items():
        try:
          seconds = way(r)
        except RuntimeError as e:
          print(f'round {r + 1}: {name}: FAILED {e}', flush=True)
          continue
        walls.setdefault(name, []).append(seconds)
        print(f'round {r + 1}: {name}: {seconds:.1f} s', flush=True)
        if args.json:
          with open(args.json, 'w') as f:
            json.dump({'walls': walls, 'flops_per_sample': per_sample, 'peak': peak}, f, indent=1)
  samples = args.runs * args.steps * BATCH
  medians = {n: statistics.median(w) for n, w in walls.items()}
  names = list(medians)
  print(
      f'\n{args.runs} runs x {args.steps} steps of grid25 (batch {BATCH}), {args.rounds} rounds\n'
  )
  print('| way | wall s (range) | runs/hour | samples/s summed | MFU | vs (a) | vs (c) |')
  print('|---|---|---|---|---|---|---|')
  base_a = next((medians[n] for n in names if n.startswith('(a)')), None)
  base_c = next((medians[n] for n in names if n.startswith('(c)')), None)
  for name in names:
    m, w = medians[name], walls[name]
    rate = samples / m
    mfu = f'{100 * rate * per_sample / peak:.1f} %' if peak and per_sample else '-'
    vs = lambda b: f'{b / m:.2f}x' if b else '-'
    print(
        f'| {name} | {m:.1f} ({min(w):.1f}-{max(w):.1f}) | {3600 * args.runs / m:.0f} | '
        f'{rate:,.0f} | {mfu} | {vs(base_a)} | {vs(base_c)} |'
    )


def main_step(args):
  import jax  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top

  from gan_jax import rng  # pylint: disable=g-import-not-at-top
  from gan_jax import config as config_lib  # pylint: disable=g-import-not-at-top
  from gan_jax.benchmark import build_offline, random_batches  # pylint: disable=g-import-not-at-top
  from gan_jax.programs.group import stack  # pylint: disable=g-import-not-at-top
  from gan_jax.sharding import batch_sharding, replicated  # pylint: disable=g-import-not-at-top
  from gan_jax.step import build_group_step  # pylint: disable=g-import-not-at-top

  config = slice_config(args.steps)
  exp, _ = build_offline(config, None)
  per_sample = flops_per_sample(config)
  peak = args.peak_flops
  if not peak:
    from gan_jax.device_peaks import compute_precision, peak_flops  # pylint: disable=g-import-not-at-top

    device = jax.devices()[0]
    precision = compute_precision(device.platform, 'float32')
    peak = peak_flops(device.device_kind, precision) or (
        measured_peak() if jax.devices()[0].platform == 'cpu' else None
    )
  step = build_group_step(exp)
  t = config.train
  print(f'device {jax.devices()[0].device_kind}; {t.steps_per_call} iterations per call')
  print('| S runs | iterations/s | samples/s summed | MFU |')
  print('|---|---|---|---|')
  rep = replicated(exp.mesh)
  for size in args.sizes:
    keys = jax.random.split(rng.key(0), size)
    states = jax.device_put(stack([exp.init_state(k) for k in keys]), rep)
    one = random_batches(exp, rng.key(1))
    batches = jax.tree_util.tree_map(lambda b: jax.numpy.broadcast_to(b, (size, *b.shape)), one)
    batches = jax.device_put(batches, batch_sharding(exp.mesh, 3))
    hp = jax.device_put(
        {k: np.full(size, v, np.float32) for k, v in config_lib.hparams(config).items()}, rep
    )
    alive = jax.numpy.ones(size, bool)
    for _ in range(2):
      states, metrics = step(states, batches, keys, hp, alive)
    jax.block_until_ready(states)
    start = time.perf_counter()
    for _ in range(args.calls):
      states, metrics = step(states, batches, keys, hp, alive)
    jax.block_until_ready((states, metrics))
    seconds = time.perf_counter() - start
    iters = args.calls * t.steps_per_call / seconds
    rate = iters * size * t.d_steps * t.batch_size
    mfu = f'{100 * rate * per_sample / peak:.1f} %' if peak and per_sample else '-'
    print(f'| {size} | {iters:,.0f} | {rate:,.0f} | {mfu} |', flush=True)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--what', default='sweep', choices=('sweep', 'step'))
  parser.add_argument('--runs', type=int, default=8)
  parser.add_argument('--steps', type=int, default=10_000)
  parser.add_argument('--parallel', type=int, default=2)
  parser.add_argument('--rounds', type=int, default=2)
  parser.add_argument('--device', default='cpu', choices=('cpu', 'gpu'))
  parser.add_argument('--torch_python', default=None)
  parser.add_argument('--peak_flops', type=float, default=None)
  parser.add_argument('--json', default=None)
  parser.add_argument('--sizes', default='1,2,4,8')
  parser.add_argument('--calls', type=int, default=20)
  args = parser.parse_args()
  args.sizes = [int(s) for s in args.sizes.split(',')]
  if min(args.runs, args.steps, args.parallel, args.rounds, *args.sizes) < 1:
    parser.error('--runs, --steps, --parallel, --rounds and --sizes must be >= 1')
  (main_step if args.what == 'step' else main_sweep)(args)


if __name__ == '__main__':
  main()
