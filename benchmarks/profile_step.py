"""Where one train step's time goes: XLA:CPU's fused kernels by kind, from a jax.profiler trace.

  python -m benchmarks.profile_step --config=configs/wgan_gp.py:cifar10 [--top=15]

Compiles the step as `experiments.benchmark` does, runs it once untraced, then once under
`jax.profiler.trace` and sums the trace's kernel events by kind (the HLO name without its
number: transpose_copy_fusion, wrapped_reduce-window, ...). Convolutions and large dots run
as library calls whose trace events cover only their dispatch; the step time not covered by
any kernel event is printed as `untraced` (on this CPU: the convolutions).
"""

import collections
import glob
import gzip
import json
import re
import tempfile

from absl import app, flags
from ml_collections import config_flags

from gan_jax.cli import parse_flags, run_cli

config_flags.DEFINE_config_file('config', None, 'Experiment config file[:arg].')
flags.DEFINE_integer('top', 15, 'Kinds of kernels to list.')
flags.mark_flags_as_required(['config'])
FLAGS = flags.FLAGS


def kernel_seconds(trace_events):
  """{kind: (seconds, count)} of the complete events that are XLA kernels."""
  totals = collections.defaultdict(lambda: [0.0, 0])
  for event in trace_events:
    name = event.get('name', '')
    if event.get('ph') != 'X' or name.startswith(('$', 'Thunk', 'PjitFunction')):
      continue
    kind = re.sub(r'\.\d+$', '', name)
    totals[kind][0] += event['dur'] / 1e6
    totals[kind][1] += 1
  return {k: tuple(v) for k, v in totals.items()}


@run_cli
def main(argv):
  del argv
  import jax  # pylint: disable=g-import-not-at-top

  from gan_jax import benchmark  # pylint: disable=g-import-not-at-top

  exp, note = benchmark.build_offline(FLAGS.config)
  if note:
    print(f'note: {note}')
  compiled = benchmark.compile_step(exp)
  print(f'untraced call: {benchmark.time_calls(compiled, 1, 1):.3f} s')
  with tempfile.TemporaryDirectory() as folder:
    with jax.profiler.trace(folder):
      step_s = benchmark.time_calls(compiled, 1, 0)
    (path,) = glob.glob(f'{folder}/**/*.trace.json.gz', recursive=True)
    with gzip.open(path) as f:
      kernels = kernel_seconds(json.load(f)['traceEvents'])
  print(f'traced call: {step_s:.3f} s')
  ranked = sorted(kernels.items(), key=lambda kv: -kv[1][0])
  for kind, (seconds, count) in ranked[: FLAGS.top]:
    print(f'{seconds:8.3f} s {count:5d}x  {kind}')
  traced = sum(s for s, _ in kernels.values())
  print(f'{traced:8.3f} s in all kernel events; untraced {max(step_s - traced, 0):.3f} s')


if __name__ == '__main__':
  app.run(main, flags_parser=parse_flags)
