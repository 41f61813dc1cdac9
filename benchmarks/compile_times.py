"""Compile seconds of the train step of every shipped config and preset.

  python -m benchmarks.compile_times [--only=wgan_gp,mixture_2d] [--json=PATH]

Finds configs/*.py and the presets each `get_config(arg)` accepts (from the
one-line error an unknown arg gives: `config arg ...: allowed: a, b`), builds each
step as `experiments.benchmark` does (datasets that are not here are replaced by
their shape) and prints a markdown table of lowering and compilation seconds,
one process for all (a first tiny compile warms XLA up). XLA_FLAGS as in
`experiments.benchmark`.
"""

import argparse
import glob
import importlib
import json
import os
import re
import time

from gan_jax.cli import set_cpu_xla_flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NO_SUCH_PRESET = '__no_such_preset__'


def config_modules():
  """Names of the experiment configs in configs/ (every module with a get_config)."""
  names = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, 'configs', '*.py')))
  modules = {n: importlib.import_module(f'configs.{n}') for n in names if not n.startswith('_')}
  return {n: m for n, m in modules.items() if hasattr(m, 'get_config')}


def presets(module):
  """The args get_config accepts, read from the error an unknown one gives."""
  try:
    module.get_config(_NO_SUCH_PRESET)
  except ValueError as e:
    match = re.search(r'allowed: (.*)$', str(e))
    if match:
      return [p.strip() for p in match.group(1).split(',')]
  raise ValueError(f'{module.__name__}.get_config does not list its presets')


def _warm_up():
  import jax  # pylint: disable=g-import-not-at-top

  jax.jit(lambda x: x @ x).lower(jax.numpy.ones((8, 8))).compile()


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--only', default='', help='comma-separated config names (default: all)')
  parser.add_argument('--json', default=None, help='also write the rows to this JSON file')
  args = parser.parse_args()
  set_cpu_xla_flags()
  from gan_jax import benchmark  # pylint: disable=g-import-not-at-top

  modules = config_modules()
  only = [n for n in args.only.split(',') if n]
  unknown = sorted(set(only) - set(modules))
  if unknown:
    parser.error(f'--only: unknown configs {unknown}; allowed: {", ".join(modules)}')
  _warm_up()
  rows = []
  print('| config | model | data shape | D steps | lower s | compile s | total s |')
  print('|---|---|---|---|---|---|---|')
  for name, module in modules.items():
    if only and name not in only:
      continue
    for preset in presets(module):
      config = module.get_config(preset)
      start = time.perf_counter()
      exp, _ = benchmark.build_offline(config)
      built_s = time.perf_counter() - start
      compiled = benchmark.compile_step(exp)
      row = {
          'config': f'configs/{name}.py:{preset}',
          'model': config.model.name,
          'data_shape': list(exp.source.shape),
          'd_steps': config.train.d_steps,
          'steps_per_call': config.train.steps_per_call,
          'build_s': built_s,
          'lower_s': compiled.lower_s,
          'compile_s': compiled.compile_s,
      }
      rows.append(row)
      print(
          f'| `{row["config"]}` | {row["model"]} | {tuple(row["data_shape"])} | '
          f'{row["d_steps"]} | {row["lower_s"]:.2f} | {row["compile_s"] - row["lower_s"]:.2f} | '
          f'{row["compile_s"]:.2f} |',
          flush=True,
      )
      del exp, compiled
  worst = max(rows, key=lambda r: r['compile_s'])
  print(f'slowest: {worst["config"]} {worst["compile_s"]:.2f} s; load {os.getloadavg()}')
  if args.json:
    with open(args.json, 'w') as f:
      json.dump(rows, f, indent=2)


if __name__ == '__main__':
  main()
