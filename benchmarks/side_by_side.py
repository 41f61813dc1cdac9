"""gan_jax against its PyTorch reference, in one sitting, runs alternating.

  python -m benchmarks.side_by_side --pair=wgan_gp [--rounds=4] [--torch_python=PATH]
      [--json=PATH]
  python -m benchmarks.side_by_side --pair=mlp [--width=128]

Each round runs, one after the other, every command of the pair (below) as its own
process and reads the `samples_per_s=` line each prints last; alternating rounds
spread a varying machine load over all of them. Prints one line per run, then a
markdown table: per command the median and range of samples/s over the rounds and
the ratio of gan_jax's median to each PyTorch median. `--torch_python` is the Python
that has torch (torch is not a dependency of gan_jax).

Pairs (the same iteration on both sides; see each script's docstring):
  wgan_gp: experiments.benchmark --config=configs/wgan_gp.py:cifar10 against
           benchmarks/torch_wgan_gp.py with torch's defaults and with channels_last
           (NHWC, oneDNN's faster layout on CPUs).
  mlp:     experiments.benchmark --config=configs/mixture_2d.py:grid25 against
           benchmarks/torch_mlp.py (1 thread, fused Adam: torch's fastest here);
           --width=W makes both 3xW MLPs (the config's and the reference's).
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PAIRS = {
    'wgan_gp': (
        (
            'gan_jax',
            'jax',
            [
                '-m',
                'experiments.benchmark',
                '--config=configs/wgan_gp.py:cifar10',
                '--iters=4',
                '--warmup=1',
            ],
        ),
        ('torch', 'torch', ['benchmarks/torch_wgan_gp.py', '--iters=4', '--warmup=2']),
        (
            'torch channels_last',
            'torch',
            ['benchmarks/torch_wgan_gp.py', '--iters=4', '--warmup=2', '--channels_last'],
        ),
    ),
    'mlp': (
        (
            'gan_jax',
            'jax',
            [
                '-m',
                'experiments.benchmark',
                '--config=configs/mixture_2d.py:grid25',
                '--iters=30',
                '--warmup=3',
            ],
        ),
        ('torch', 'torch', ['benchmarks/torch_mlp.py', '--iters=3000', '--warmup=300']),
    ),
}


def cpu_name():
  try:
    with open('/proc/cpuinfo') as f:
      return next(l.split(':', 1)[1].strip() for l in f if l.startswith('model name'))
  except (OSError, StopIteration):
    return platform.processor() or '?'


def samples_per_s(stdout):
  """The value of the last `samples_per_s=` line."""
  found = re.findall(r'^samples_per_s=([0-9.eE+-]+)$', stdout, re.M)
  if not found:
    raise RuntimeError(f'no samples_per_s= line in:\n{stdout[-2000:]}')
  return float(found[-1])


def run(python, args):
  """samples/s of one run of `python args...` in the repository root."""
  result = subprocess.run(
      [python, *args],
      cwd=ROOT,
      capture_output=True,
      text=True,
      check=False,
  )
  if result.returncode:
    raise RuntimeError(f'{" ".join(args)} exited {result.returncode}:\n{result.stderr[-2000:]}')
  return samples_per_s(result.stdout)


def summarize(names, rates):
  """Markdown rows: name, median, min-max and median ratio of the first name to each other."""
  medians = {n: statistics.median(rates[n]) for n in names}
  rows = ['| run | samples/s (median) | min-max | gan_jax / this |', '|---|---|---|---|']
  for n in names:
    ratio = medians[names[0]] / medians[n]
    rows.append(
        f'| {n} | {medians[n]:,.1f} | {min(rates[n]):,.1f}-{max(rates[n]):,.1f} | {ratio:.2f}x |'
    )
  return rows, medians


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--pair', choices=sorted(PAIRS), default='wgan_gp')
  parser.add_argument('--rounds', type=int, default=4)
  parser.add_argument('--jax_python', default=sys.executable)
  parser.add_argument('--torch_python', default=os.environ.get('TORCH_PYTHON', 'python3'))
  parser.add_argument('--width', type=int, default=None, help='mlp: hidden units per layer')
  parser.add_argument('--json', default=None, help='also write every run to this JSON file')
  args = parser.parse_args()
  if args.rounds < 1:
    parser.error('--rounds must be >= 1')
  commands = PAIRS[args.pair]
  if args.width is not None:
    if args.pair != 'mlp' or args.width < 1:
      parser.error('--width is a positive number of units, for --pair=mlp')
    hidden = f'({args.width},{args.width},{args.width})'
    widths = {
        'jax': [f'--config.model.g_hidden={hidden}', f'--config.model.d_hidden={hidden}'],
        'torch': [f'--width={args.width}'],
    }
    commands = tuple((n, p, c + widths[p]) for n, p, c in commands)
  names = [name for name, _, _ in commands]
  pythons = {'jax': args.jax_python, 'torch': args.torch_python}
  print(
      f'{platform.machine()}, {os.cpu_count()} CPUs, {cpu_name()}; '
      f'load {os.getloadavg()[0]:.2f}',
      flush=True,
  )
  rates = {n: [] for n in names}
  for r in range(args.rounds):
    for name, python, cmd in commands:
      start = time.perf_counter()
      rates[name].append(run(pythons[python], cmd))
      print(
          f'round {r + 1} {name}: {rates[name][-1]:,.1f} samples/s '
          f'({time.perf_counter() - start:.0f} s, load {os.getloadavg()[0]:.2f})',
          flush=True,
      )
  rows, medians = summarize(names, rates)
  print('\n'.join(rows))
  if args.json:
    with open(args.json, 'w') as f:
      json.dump(
          {
              'pair': args.pair,
              'commands': {n: c for n, _, c in commands},
              'samples_per_s': rates,
              'medians': medians,
          },
          f,
          indent=1,
      )


if __name__ == '__main__':
  main()
