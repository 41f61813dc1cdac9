"""Time the train step of a config, on random data of its shape (no dataset is read).

  python -m experiments.benchmark --config=configs/wgan_gp.py:cifar10 [--iters=10] [--warmup=2]
      [--json=PATH] [--peak_flops=X] [--config.train.batch_size=128 ...]

Builds the models and the jitted step exactly as training does, compiles it
(timed: `compile_s` = lowering + compilation), runs `--warmup` calls, then times
`--iters` calls back to back. Each call runs `train.steps_per_call` iterations;
an iteration is `train.d_steps` D updates and one G update. A translation config
(configs/pix2pix.py, configs/cyclegan.py) times its program's step on random
(input, target) pairs: an iteration is one D update (CycleGAN: D_A and D_B) and
one G update (CycleGAN: G_AB and G_BA) on `train.batch_size` pairs, and G and D
count all of its generators and discriminators. Prints the devices,
parameter counts, FLOPs per iteration (XLA's cost analysis of all devices' work)
and FLOP/s, the MFU (FLOP/s over the devices' peak at the step's precision: known
accelerators' from gan_jax/device_peaks.py, or --peak_flops, e.g. a CPU's measured
by `python -m benchmarks.matmul_peak`), peak memory, then as the last three lines
  compile_s=<s>
  iters_per_s=<iterations per second>
  samples_per_s=<real samples D consumes per second = iters_per_s * d_steps * batch_size>
(translation: d_steps 1; a sample is one (input, target) pair, CycleGAN's one image of each
domain)
As every entry point, it turns XLA:CPU's YNNPACK fusions off unless XLA_FLAGS
sets them (gan_jax/cli.py CPU_XLA_FLAGS; XLA's default:
XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=+individual_dot).
"""

import json
import os
import resource

import jax
from absl import app, flags
from ml_collections import config_flags

from gan_jax.cli import parse_flags, run_cli
from gan_jax import benchmark, device_peaks
from gan_jax.errors import UserError

config_flags.DEFINE_config_file('config', None, 'Experiment config file[:arg].')
flags.DEFINE_integer(
    'iters', 10, 'Timed calls of the train step (each train.steps_per_call iterations).'
)
flags.DEFINE_integer('warmup', 2, 'Untimed calls after compiling.')
flags.DEFINE_string('json', None, 'Also write the numbers to this JSON file.')
flags.DEFINE_float(
    'peak_flops',
    None,
    'Peak FLOP/s of one device for the MFU (default: gan_jax/device_peaks.py by device kind).',
)
flags.mark_flags_as_required(['config'])
FLAGS = flags.FLAGS


def _check_flags():
  if FLAGS.iters < 1:
    raise UserError(f'--iters={FLAGS.iters}: must be >= 1')
  if FLAGS.warmup < 0:
    raise UserError(f'--warmup={FLAGS.warmup}: must be >= 0')
  if FLAGS.peak_flops is not None and not FLAGS.peak_flops > 0:
    raise UserError(f'--peak_flops={FLAGS.peak_flops}: must be > 0 (FLOP/s of one device)')
  if FLAGS.json is not None:
    folder = os.path.dirname(os.path.abspath(FLAGS.json))
    if os.path.isdir(FLAGS.json) or not os.path.isdir(folder) or not os.access(folder, os.W_OK):
      raise UserError(f'--json={FLAGS.json}: cannot write there')


def _device_peak_bytes(devices):
  """Sum over the devices of peak_bytes_in_use, or None where they do not report it."""
  peaks = [(d.memory_stats() or {}).get('peak_bytes_in_use') for d in devices]
  return None if None in peaks else int(sum(peaks))


def _mib(n):
  return 'n/a' if n is None else f'{n / 2**20:,.1f} MiB'


def _si(x, unit):
  if x is None:
    return 'n/a'
  for scale, prefix in ((1e12, 'T'), (1e9, 'G'), (1e6, 'M'), (1e3, 'k')):
    if x >= scale:
      return f'{x / scale:.3g} {prefix}{unit}'
  return f'{x:.3g} {unit}'


def _utilization(config, devices, flops_per_s, peak_per_device):
  """(precision, peak FLOP/s of all devices or None, MFU or None)."""
  dtype = config.model.dtype if 'dtype' in config.model else None  # models without the field
  precision = device_peaks.compute_precision(
      jax.default_backend(), dtype, jax.config.jax_default_matmul_precision
  )
  if peak_per_device is None:
    peak_per_device = device_peaks.peak_flops(devices[0].device_kind, precision)
  peak = None if peak_per_device is None else peak_per_device * len(devices)
  mfu = None if peak is None or flops_per_s is None else flops_per_s / peak
  return precision, peak, mfu


def _print_setup(config, exp, devices):
  """The run's data, program, model and devices, one line each."""
  t, shape = config.train, tuple(exp.source.shape)
  if hasattr(exp, 'input_shape'):  # a translation program's: input -> target
    shape = f'{tuple(exp.input_shape)} -> {shape}'
  print(
      f'data: {config.data.name} {shape}, program {benchmark.program_name(exp)}, '
      f'model {config.model.name}, loss {config.loss.name}, batch {t.batch_size}, '
      f'd_steps {benchmark.d_steps(exp)}, steps_per_call {t.steps_per_call}'
  )
  print(
      f'devices: {len(devices)} x {devices[0].device_kind} ({jax.default_backend()}), '
      f'jax {jax.__version__}, XLA_FLAGS={os.environ.get("XLA_FLAGS", "")!r}'
  )


def _print_params(exp, state):
  """(G's, D's parameters), printed: all generators' and all discriminators' (CycleGAN: a line
  per network first)."""
  if benchmark.program_name(exp) == 'cyclegan':  # two of each: {'ab', 'ba'}, {'a', 'b'}
    nets = {f'G_{k.upper()}': v for k, v in state.g_params.items()}
    nets.update({f'D_{k.upper()}': v for k, v in state.d_params.items()})
    print('networks: ' + '  '.join(f'{k} {benchmark.param_count(v):,}' for k, v in nets.items()))
  g, d = benchmark.param_count(state.g_params), benchmark.param_count(state.d_params)
  print(f'params: G {g:,}  D {d:,}')
  return g, d


def _print_results(r, devices, memory):
  """The timing, FLOPs, MFU and memory lines of a measurement `r` (measure's dict)."""
  print(
      f'timed: {r["timed_calls"]} calls x {r["steps_per_call"]} iterations in '
      f'{r["timed_s"]:.3f} s (after {r["warmup_calls"]} warm-up calls)'
  )
  print(
      f'FLOPs per iteration: {_si(r["flops_per_iter"], "FLOP")}; '
      f'achieved {_si(r["flops_per_s"], "FLOP/s")}'
  )
  if r['mfu'] is None:
    print(
        f'MFU: n/a (no {r["precision"]} peak known for {devices[0].device_kind}; '
        'see --peak_flops)'
    )
  else:
    print(
        f'MFU: {100 * r["mfu"]:.1f} % of {_si(r["peak_flops"], "FLOP/s")} '
        f'({r["precision"]} peak of {len(devices)} x {devices[0].device_kind})'
    )
  print(
      f'peak memory: host {_mib(r["host_peak_bytes"])} (ru_maxrss), '
      f'devices {_mib(r["device_peak_bytes"])}'
      + (
          f'; step buffers: arguments {_mib(memory.argument_size_in_bytes)}, '
          f'temporaries {_mib(memory.temp_size_in_bytes)}'
          if memory is not None
          else ''
      )
  )


def measure(config, iters, warmup, peak_flops=None):
  """All the numbers of one benchmark run, as a dict (printing as it goes); `peak_flops`:
  one device's, None to look it up."""
  exp, note = benchmark.build_offline(config)
  if note:
    print(f'note: {note}', flush=True)
  t, d_steps = config.train, benchmark.d_steps(exp)
  devices = jax.devices()
  _print_setup(config, exp, devices)
  compiled = benchmark.compile_step(exp)
  params_g, params_d = _print_params(exp, compiled.state)
  print(f'compile: {compiled.compile_s:.2f} s (lowering {compiled.lower_s:.2f} s)', flush=True)
  flops = benchmark.flops_per_iteration(compiled)
  seconds = benchmark.time_calls(compiled, iters, warmup)
  iterations = iters * t.steps_per_call
  iters_per_s = iterations / seconds
  flops_per_s = None if flops is None else flops * iters_per_s
  precision, peak, mfu = _utilization(config, devices, flops_per_s, peak_flops)
  result = {
      'data': config.data.name,
      'data_shape': list(exp.source.shape),
      'program': benchmark.program_name(exp),
      'model': config.model.name,
      'batch_size': t.batch_size,
      'd_steps': d_steps,
      'steps_per_call': t.steps_per_call,
      'backend': jax.default_backend(),
      'devices': [str(d) for d in devices],
      'device_kind': devices[0].device_kind,
      'jax_version': jax.__version__,
      'xla_flags': os.environ.get('XLA_FLAGS', ''),
      'params_g': params_g,
      'params_d': params_d,
      'lower_s': compiled.lower_s,
      'compile_s': compiled.compile_s,
      'warmup_calls': warmup,
      'timed_calls': iters,
      'timed_iterations': iterations,
      'timed_s': seconds,
      'flops_per_iter': flops,
      'flops_per_s': flops_per_s,
      'precision': precision,
      'peak_flops': peak,
      'mfu': mfu,
      'host_peak_bytes': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,  # KiB
      'device_peak_bytes': _device_peak_bytes(devices),
      'iters_per_s': iters_per_s,
      'samples_per_s': iters_per_s * d_steps * t.batch_size,
  }
  _print_results(result, devices, compiled.step.memory_analysis())
  return result


@run_cli
def main(argv):
  del argv
  _check_flags()
  result = measure(FLAGS.config, FLAGS.iters, FLAGS.warmup, FLAGS.peak_flops)
  result['config'] = config_flags.get_config_filename(FLAGS['config'])
  if FLAGS.json is not None:
    with open(FLAGS.json, 'w') as f:
      json.dump(result, f, indent=2)
  print(f'compile_s={result["compile_s"]:.3f}')
  print(f'iters_per_s={result["iters_per_s"]:.6g}')
  print(f'samples_per_s={result["samples_per_s"]:.6g}')


if __name__ == '__main__':
  app.run(main, flags_parser=parse_flags)
