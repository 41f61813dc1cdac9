"""gan_jax against its PyTorch reference, in one sitting, runs alternating.

  python -m benchmarks.side_by_side --pair=wgan_gp [--device=cpu|gpu] [--rounds=4]
      [--torch_python=PATH] [--peak_flops=X] [--json=PATH]
  python -m benchmarks.side_by_side --pair=mlp [--width=128]
  python -m benchmarks.side_by_side --pair=pix2pix|cyclegan [--device=cpu|gpu] [--rounds=3]

Each round runs, one after the other, every command of the pair (below) as its own
process and reads the `samples_per_s=` line each prints last; alternating rounds
spread a varying machine load over all of them. Prints one line per run, then a
markdown table: per command the median and range of samples/s over the rounds, the
ratio of gan_jax's median (at the same precision) to each, and the MFU: samples/s x
FLOPs per sample (XLA's count of gan_jax's iteration, the same work on both sides) /
the peak FLOP/s at that precision (gan_jax/device_peaks.py on known accelerators; on
a CPU measured first by benchmarks.matmul_peak, unless --peak_flops gives one).
`--torch_python` is the Python that has torch (torch is not a dependency of gan_jax).
The parameter counts each run prints (`params: G <n>  D <m>`) are compared: a line before
the table says they are equal, or which differ (then the exit status is 1).

A command that fails is reported (its stderr's end) and left out of the table; the
others go on, and the exit status is 1. `--json` is rewritten after every run.

Pairs (the same iteration on both sides; see each script's docstring):
  wgan_gp: experiments.benchmark --config=configs/wgan_gp.py:cifar10 against
           benchmarks/torch_wgan_gp.py. CPU: torch's defaults and channels_last
           (NHWC, oneDNN's faster layout on CPUs). GPU: gan_jax with the plain Flax
           layers (model.conv=xla) in float32 and in bfloat16 (model.dtype) against
           torch eager and torch.compile, each in float32 and with bfloat16 autocast.
  mlp:     experiments.benchmark --config=configs/mixture_2d.py:grid25 against
           benchmarks/torch_mlp.py (CPU: 1 thread, fused Adam: torch's fastest here;
           GPU: eager and torch.compile); --width=W makes both 3xW MLPs.
  pix2pix: experiments.benchmark --config=configs/pix2pix.py:edges2mnist against
           benchmarks/torch_pix2pix.py (the reference's U-Net, PatchGAN, GANLoss and
           optimize_parameters at the preset's sizes).
  cyclegan: experiments.benchmark --config=configs/cyclegan.py:mnist2negative against
           benchmarks/torch_cyclegan.py (the reference's ResNet generators, PatchGANs,
           LSGAN loss, image pools and optimize_parameters at the preset's sizes).
           Both: CPU as wgan_gp, torch on as many threads as the CPU has cores, and
           both torch forms again on one thread; GPU as wgan_gp (the CPU preset's sizes).
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from typing import NamedTuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Run(NamedTuple):
  name: str
  framework: str  # 'jax' or 'torch': which Python runs it
  precision: str  # 'float32' or 'bfloat16': gan_jax's run of the same precision is its pair
  args: list


# The translation pairs: pair -> (gan_jax's config, the torch script); iterations on a CPU.
TRANSLATION = {
    'pix2pix': ('configs/pix2pix.py:edges2mnist', 'benchmarks/torch_pix2pix.py'),
    'cyclegan': ('configs/cyclegan.py:mnist2negative', 'benchmarks/torch_cyclegan.py'),
}
PAIRS = ('wgan_gp', 'mlp', *TRANSLATION)


def gpu_runs(jax_args, torch_args):
  """gan_jax with the plain Flax layers (model.conv=xla) in float32 and bfloat16 (model.dtype)
  against torch eager and torch.compile in float32 and with bfloat16 autocast."""
  jax_args = jax_args + ['--config.model.conv=xla', '--iters=50', '--warmup=5']
  torch_args = torch_args + ['--device=cuda', '--iters=50', '--warmup=5']
  found = []
  for precision, jax_flags, amp in (
      ('float32', [], []),
      ('bfloat16', ['--config.model.dtype=bfloat16'], ['--amp']),
  ):
    suffix = '' if precision == 'float32' else ' bf16'
    found += [
        Run('gan_jax' + suffix, 'jax', precision, jax_args + jax_flags),
        Run('torch eager' + suffix, 'torch', precision, torch_args + amp),
        Run('torch compiled' + suffix, 'torch', precision, torch_args + amp + ['--compile']),
    ]
  return found


def cpu_runs(jax_args, torch_args, one_thread=False):
  """gan_jax against torch's defaults and channels_last (NHWC, oneDNN's faster layout on CPUs);
  `one_thread`: both again on one thread (torch's fastest on a CPU other work shares)."""
  found = [
      Run('gan_jax', 'jax', 'float32', jax_args),
      Run('torch', 'torch', 'float32', torch_args),
      Run('torch channels_last', 'torch', 'float32', torch_args + ['--channels_last']),
  ]
  if one_thread:
    torch_args = [a for a in torch_args if not a.startswith('--threads=')] + ['--threads=1']
    found += [
        Run('torch 1 thread', 'torch', 'float32', torch_args),
        Run('torch 1 thread channels_last', 'torch', 'float32', torch_args + ['--channels_last']),
    ]
  return found


def runs(pair, device='cpu', width=None):
  """The commands of one round of `pair` on `device` ('cpu' or 'gpu'), gan_jax's first."""
  if pair in TRANSLATION:
    config, script = TRANSLATION[pair]
    jax_args, torch_args = ['-m', 'experiments.benchmark', f'--config={config}'], [script]
    if device == 'gpu':
      return gpu_runs(jax_args, torch_args)
    threads = f'--threads={os.cpu_count()}'  # torch's threads: the cores
    jax_args += ['--iters=20', '--warmup=3']
    return cpu_runs(jax_args, [script, '--iters=10', threads], one_thread=True)
  if pair == 'wgan_gp':
    jax_args = ['-m', 'experiments.benchmark', '--config=configs/wgan_gp.py:cifar10']
    torch_args = ['benchmarks/torch_wgan_gp.py']
    if device == 'gpu':
      return gpu_runs(jax_args, torch_args)
    jax_args, torch_args = jax_args + ['--iters=4', '--warmup=1'], torch_args + ['--iters=4']
    return cpu_runs(jax_args, torch_args + ['--warmup=2'])
  if pair != 'mlp':
    raise ValueError(f'pair {pair!r}: allowed: {", ".join(PAIRS)}')
  jax_args = ['-m', 'experiments.benchmark', '--config=configs/mixture_2d.py:grid25']
  jax_args += ['--iters=30', '--warmup=3']
  torch_args = ['benchmarks/torch_mlp.py', '--iters=3000', '--warmup=300']
  if width is not None:
    hidden = f'({width},{width},{width})'
    jax_args += [f'--config.model.g_hidden={hidden}', f'--config.model.d_hidden={hidden}']
    torch_args += [f'--width={width}']
  if device == 'cpu':
    return [
        Run('gan_jax', 'jax', 'float32', jax_args),
        Run('torch', 'torch', 'float32', torch_args),
    ]
  torch_args += ['--device=cuda']
  return [
      Run('gan_jax', 'jax', 'float32', jax_args),
      Run('torch eager', 'torch', 'float32', torch_args),
      Run('torch compiled', 'torch', 'float32', torch_args + ['--compile']),
  ]


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


def param_counts(stdout):
  """(G, D) of the last `params: G <n>  D <m>` line, or None where there is none."""
  found = re.findall(r'^params: G ([0-9,]+)  D ([0-9,]+)$', stdout, re.M)
  return tuple(int(n.replace(',', '')) for n in found[-1]) if found else None


def compare_params(params):
  """(a line, whether they agree) of the parameter counts {run: (G, D) or None} the runs
  printed; runs that print none are left out."""
  known = {name: p for name, p in params.items() if p is not None}
  if not known:
    return 'parameter counts: none printed', True
  if len(set(known.values())) == 1:
    g, d = next(iter(known.values()))
    return f'parameter counts: G {g:,}  D {d:,} in {", ".join(known)}: equal', True
  each = '; '.join(f'{name}: G {g:,}  D {d:,}' for name, (g, d) in known.items())
  return f'parameter counts differ: {each}', False


def run(python, args):
  """(samples/s, param_counts) of one run of `python args...` in the repository root."""
  result = subprocess.run(
      [python, *args],
      cwd=ROOT,
      capture_output=True,
      text=True,
      check=False,
  )
  if result.returncode:
    raise RuntimeError(f'{" ".join(args)} exited {result.returncode}:\n{result.stderr[-2000:]}')
  return samples_per_s(result.stdout), param_counts(result.stdout)


def measured_peak(python):
  """This machine's float32 matmul FLOP/s in JAX (benchmarks.matmul_peak, the larger sizes)."""
  result = subprocess.run(
      [python, '-m', 'benchmarks.matmul_peak', '--sizes=1024,2048', '--repeats=3'],
      cwd=ROOT,
      capture_output=True,
      text=True,
      check=True,
  )
  return float(re.findall(r'^jax_matmul_flops_per_s=(\S+)$', result.stdout, re.M)[-1])


def flops_per_sample(benchmark_json):
  """(FLOPs per real sample D sees, peak FLOP/s of the devices or None) from the JSON of
  experiments.benchmark; None, None where XLA counted no FLOPs."""
  flops = benchmark_json.get('flops_per_iter')
  if not flops:
    return None, None
  samples = benchmark_json['d_steps'] * benchmark_json['batch_size']
  return flops / samples, benchmark_json.get('peak_flops')


def summarize(all_runs, rates, flops=None):
  """Markdown rows: name, median, min-max, the median ratio of the gan_jax run of the same
  precision to this one, and the MFU where `flops` ({precision: (FLOPs per sample, peak)})
  knows both. A run with no samples/s (it failed every time) shows as failed."""
  flops = flops or {}
  medians = {r.name: statistics.median(rates[r.name]) for r in all_runs if rates[r.name]}
  reference = {}
  for r in all_runs:
    if r.framework == 'jax' and r.name in medians:
      reference.setdefault(r.precision, medians[r.name])
  rows = [
      '| run | samples/s (median) | min-max | gan_jax / this | MFU |',
      '|---|---|---|---|---|',
  ]
  for r in all_runs:
    if r.name not in medians:
      rows.append(f'| {r.name} | failed | - | - | - |')
      continue
    median = medians[r.name]
    per_sample, peak = flops.get(r.precision, (None, None))
    mfu = f'{100 * median * per_sample / peak:.1f} %' if per_sample and peak else 'n/a'
    ratio = f'{reference[r.precision] / median:.2f}x' if r.precision in reference else 'n/a'
    lo, hi = min(rates[r.name]), max(rates[r.name])
    rows.append(f'| {r.name} | {median:,.1f} | {lo:,.1f}-{hi:,.1f} | {ratio} | {mfu} |')
  return rows, medians


def write_json(path, args, all_runs, rates, flops, failures):
  with open(path, 'w') as f:
    json.dump(
        {
            'pair': args.pair,
            'device': args.device,
            'commands': {r.name: r.args for r in all_runs},
            'samples_per_s': rates,
            'medians': summarize(all_runs, rates, flops)[1],
            'flops_per_sample_and_peak': flops,
            'failures': failures,
        },
        f,
        indent=1,
    )


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--pair', choices=PAIRS, default='wgan_gp')
  parser.add_argument('--device', choices=('cpu', 'gpu'), default='cpu')
  parser.add_argument('--rounds', type=int, default=4)
  parser.add_argument('--jax_python', default=sys.executable)
  parser.add_argument('--torch_python', default=os.environ.get('TORCH_PYTHON', 'python3'))
  parser.add_argument('--width', type=int, default=None, help='mlp: hidden units per layer')
  parser.add_argument(
      '--peak_flops',
      type=float,
      default=None,
      help="one device's peak FLOP/s (default: measured on a CPU, looked up on a GPU)",
  )
  parser.add_argument('--json', default=None, help='also write every run to this JSON file')
  args = parser.parse_args()
  if args.rounds < 1:
    parser.error('--rounds must be >= 1')
  if args.width is not None and (args.pair != 'mlp' or args.width < 1):
    parser.error('--width is a positive number of units, for --pair=mlp')
  if args.peak_flops is not None and not args.peak_flops > 0:
    parser.error('--peak_flops must be > 0')
  all_runs = runs(args.pair, args.device, args.width)
  pythons = {'jax': args.jax_python, 'torch': args.torch_python}
  print(
      f'{platform.machine()}, {os.cpu_count()} CPUs, {cpu_name()}; '
      f'load {os.getloadavg()[0]:.2f}',
      flush=True,
  )
  peak = args.peak_flops
  if peak is None and args.device == 'cpu':
    peak = measured_peak(args.jax_python)
    print(f'measured float32 matmul peak: {peak / 1e9:.1f} GFLOP/s', flush=True)
  rates, params = {r.name: [] for r in all_runs}, {}
  flops, failures = {}, []
  with tempfile.TemporaryDirectory() as folder:
    for i in range(args.rounds):
      for r in all_runs:
        cmd, out = list(r.args), os.path.join(folder, 'benchmark.json')
        if r.framework == 'jax':
          cmd += [f'--json={out}'] + ([f'--peak_flops={peak}'] if peak else [])
        start = time.perf_counter()
        try:
          rate, params[r.name] = run(pythons[r.framework], cmd)
          rates[r.name].append(rate)
        except RuntimeError as e:  # one failing command does not lose the others' numbers
          failures.append({'round': i + 1, 'run': r.name, 'error': str(e)})
          print(f'round {i + 1} {r.name}: failed: {e}', file=sys.stderr, flush=True)
          continue
        if r.framework == 'jax':
          with open(out) as f:
            flops[r.precision] = flops_per_sample(json.load(f))
        print(
            f'round {i + 1} {r.name}: {rates[r.name][-1]:,.1f} samples/s '
            f'({time.perf_counter() - start:.0f} s, load {os.getloadavg()[0]:.2f})',
            flush=True,
        )
        if args.json:  # after every run: a sitting cut short keeps what it measured
          write_json(args.json, args, all_runs, rates, flops, failures)
  rows, _ = summarize(all_runs, rates, flops)
  line, equal = compare_params(params)
  print('\n'.join([line, *rows]))
  if not equal:  # not the same networks: the table compares other work
    failures.append({'round': None, 'run': None, 'error': line})
  if args.json:
    write_json(args.json, args, all_runs, rates, flops, failures)
  return 1 if failures else 0


if __name__ == '__main__':
  sys.exit(main())
