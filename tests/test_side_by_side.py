"""benchmarks/side_by_side.py: what it reads from each run and how it sums the rounds up."""

import json
import os

import pytest

from benchmarks import side_by_side


def test_the_last_samples_per_s_line_is_read():
  out = 'params: G 1\nsamples_per_s=3\ncompile_s=1.5\niters_per_s=0.25\nsamples_per_s=80.5\n'
  assert side_by_side.samples_per_s(out) == 80.5
  with pytest.raises(RuntimeError, match='no samples_per_s'):
    side_by_side.samples_per_s('iters_per_s=1\n')


def test_the_table_gives_medians_ranges_ratios_to_gan_jax_at_the_same_precision_and_mfu():
  runs = [
      side_by_side.Run('gan_jax', 'jax', 'float32', []),
      side_by_side.Run('torch', 'torch', 'float32', []),
      side_by_side.Run('gan_jax bf16', 'jax', 'bfloat16', []),
      side_by_side.Run('torch bf16', 'torch', 'bfloat16', []),
  ]
  rates = {
      'gan_jax': [50.0, 60.0, 55.0],
      'torch': [40.0, 50.0, 44.0],
      'gan_jax bf16': [100.0],
      'torch bf16': [80.0],
  }
  flops = {'float32': (1e9, 1e12), 'bfloat16': (None, None)}  # 1 GFLOP per sample
  rows, medians = side_by_side.summarize(runs, rates, flops)
  assert medians == {'gan_jax': 55.0, 'torch': 44.0, 'gan_jax bf16': 100.0, 'torch bf16': 80.0}
  assert rows[2] == '| gan_jax | 55.0 | 50.0-60.0 | 1.00x | 5.5 % |'
  assert rows[3] == '| torch | 44.0 | 40.0-50.0 | 1.25x | 4.4 % |'
  assert rows[5] == '| torch bf16 | 80.0 | 80.0-80.0 | 1.25x | n/a |'


def test_flops_per_sample_come_from_the_benchmark_json():
  saved = {'flops_per_iter': 640.0, 'd_steps': 5, 'batch_size': 64, 'peak_flops': 2e11}
  assert side_by_side.flops_per_sample(saved) == (2.0, 2e11)
  assert side_by_side.flops_per_sample({'flops_per_iter': None}) == (None, None)


def test_both_sides_of_a_pair_time_the_same_config():
  for device in ('cpu', 'gpu'):
    gan_jax, *torch_runs = side_by_side.runs('wgan_gp', device)
    assert '--config=configs/wgan_gp.py:cifar10' in gan_jax.args and gan_jax.framework == 'jax'
    assert all(
        r.args[0] == 'benchmarks/torch_wgan_gp.py' for r in torch_runs if r.framework == 'torch'
    )
    gan_jax, *torch_runs = side_by_side.runs('mlp', device, width=32)
    assert '--config=configs/mixture_2d.py:grid25' in gan_jax.args
    assert '--config.model.d_hidden=(32,32,32)' in gan_jax.args
    assert all(
        r.args[0] == 'benchmarks/torch_mlp.py' and '--width=32' in r.args for r in torch_runs
    )


def test_the_translation_pairs_time_their_preset_against_their_reference_script():
  for pair, config, script in (
      ('pix2pix', 'configs/pix2pix.py:edges2mnist', 'benchmarks/torch_pix2pix.py'),
      ('cyclegan', 'configs/cyclegan.py:mnist2negative', 'benchmarks/torch_cyclegan.py'),
  ):
    gan_jax, *torch_runs = side_by_side.runs(pair, 'cpu')
    assert f'--config={config}' in gan_jax.args and gan_jax.framework == 'jax'
    assert [r.args[0] for r in torch_runs] == [script] * 4
    threads = sorted(a for r in torch_runs for a in r.args if a.startswith('--threads='))
    assert threads == ['--threads=1'] * 2 + [f'--threads={os.cpu_count()}'] * 2
    assert sum('--channels_last' in r.args for r in torch_runs) == 2
    gpu = side_by_side.runs(pair, 'gpu')
    assert {r.args[0] for r in gpu if r.framework == 'torch'} == {script} and len(gpu) == 6


def test_parameter_counts_are_read_and_compared():
  assert side_by_side.param_counts('params: G 1,042,081  D 42,705\nsamples_per_s=1\n') == (
      1042081,
      42705,
  )
  assert side_by_side.param_counts('samples_per_s=1\n') is None
  line, equal = side_by_side.compare_params({'gan_jax': (5, 3), 'torch': (5, 3), 'mlp': None})
  assert equal and line == 'parameter counts: G 5  D 3 in gan_jax, torch: equal'
  line, equal = side_by_side.compare_params({'gan_jax': (5, 3), 'torch': (5, 4)})
  assert not equal and line == 'parameter counts differ: gan_jax: G 5  D 3; torch: G 5  D 4'


def test_on_a_gpu_each_precision_runs_both_frameworks_eager_and_compiled():
  runs = side_by_side.runs('wgan_gp', 'gpu')
  for r in runs:
    if r.framework == 'jax':
      assert '--config.model.conv=xla' in r.args  # cuDNN takes the plain layers
      assert ('--config.model.dtype=bfloat16' in r.args) == (r.precision == 'bfloat16')
    else:
      assert '--device=cuda' in r.args and ('--amp' in r.args) == (r.precision == 'bfloat16')
  assert sorted((r.precision, '--compile' in r.args) for r in runs if r.framework == 'torch') == [
      ('bfloat16', False),
      ('bfloat16', True),
      ('float32', False),
      ('float32', True),
  ]


def test_a_failing_command_is_reported_and_the_others_are_kept(tmp_path, capsys, monkeypatch):
  # Stand-in interpreters: "jax" prints a rate and writes the benchmark JSON; "torch" fails.
  jax_python, torch_python = tmp_path / 'jax_python', tmp_path / 'torch_python'
  jax_python.write_text(
      '#!/bin/sh\n'
      'for a in "$@"; do case "$a" in --json=*) out="${a#--json=}";; esac; done\n'
      'echo \'{"flops_per_iter": 1280, "d_steps": 1, "batch_size": 128, "peak_flops": 1e3}\''
      ' > "$out"\n'
      'echo "params: G 2  D 3"\n'
      'echo samples_per_s=5\n'
  )
  torch_python.write_text('#!/bin/sh\necho "RuntimeError: no CUDA" >&2\nexit 3\n')
  for f in (jax_python, torch_python):
    f.chmod(0o755)
  out = tmp_path / 'sitting.json'
  argv = ['side_by_side', '--pair=mlp', '--rounds=2', '--peak_flops=1e3', f'--json={out}']
  argv += [f'--jax_python={jax_python}', f'--torch_python={torch_python}']
  monkeypatch.setattr('sys.argv', argv)
  assert side_by_side.main() == 1
  captured = capsys.readouterr()
  assert '| gan_jax | 5.0 | 5.0-5.0 | 1.00x | 5.0 % |' in captured.out  # 5 x 10 FLOPs / 1e3
  assert '| torch | failed | - | - | - |' in captured.out
  assert 'parameter counts: G 2  D 3 in gan_jax: equal' in captured.out  # torch printed none
  assert 'round 2 torch: failed: benchmarks/torch_mlp.py' in captured.err
  assert 'exited 3' in captured.err and 'no CUDA' in captured.err
  saved = json.loads(out.read_text())
  assert saved['samples_per_s'] == {'gan_jax': [5.0, 5.0], 'torch': []}
  assert [f['round'] for f in saved['failures']] == [1, 2]
