"""benchmarks/side_by_side.py: what it reads from each run and how it sums the rounds up."""

import pytest

from benchmarks import side_by_side


def test_the_last_samples_per_s_line_is_read():
  out = 'params: G 1\nsamples_per_s=3\ncompile_s=1.5\niters_per_s=0.25\nsamples_per_s=80.5\n'
  assert side_by_side.samples_per_s(out) == 80.5
  with pytest.raises(RuntimeError, match='no samples_per_s'):
    side_by_side.samples_per_s('iters_per_s=1\n')


def test_the_table_gives_medians_ranges_and_ratios_to_gan_jax():
  rows, medians = side_by_side.summarize(
      ['gan_jax', 'torch'], {'gan_jax': [50.0, 60.0, 55.0], 'torch': [40.0, 50.0, 44.0]}
  )
  assert medians == {'gan_jax': 55.0, 'torch': 44.0}
  assert rows[2] == '| gan_jax | 55.0 | 50.0-60.0 | 1.00x |'
  assert rows[3] == '| torch | 44.0 | 40.0-50.0 | 1.25x |'


def test_both_sides_of_a_pair_time_the_same_config():
  (_, _, jax_cmd), *torch_runs = side_by_side.PAIRS['wgan_gp']
  assert '--config=configs/wgan_gp.py:cifar10' in jax_cmd
  assert all(cmd[0] == 'benchmarks/torch_wgan_gp.py' for _, _, cmd in torch_runs)
  (_, _, jax_cmd), (_, _, torch_cmd) = side_by_side.PAIRS['mlp']
  assert '--config=configs/mixture_2d.py:grid25' in jax_cmd
  assert torch_cmd[0] == 'benchmarks/torch_mlp.py'
