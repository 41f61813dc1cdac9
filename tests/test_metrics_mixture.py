"""Mode coverage on cases with known answers."""

import numpy as np

from gan_jax.data import get_dataset
from gan_jax.metrics.mixture import mode_coverage


def test_a_perfect_sampler_captures_every_mode():
  for name, k in (('grid25', 25), ('ring8', 8)):
    src = get_dataset(name)
    result = mode_coverage(src.batch(0, 0, 2500)['x'], src.modes, src.std)
    assert result['modes'] == k
    assert result['high_quality'] > 0.99
    assert result['reverse_kl'] < 0.02
    # |N(0, std^2 I_2)| is Rayleigh: its median is std sqrt(2 ln 2) = 1.177 std
    assert abs(result['median_distance'] - np.sqrt(2 * np.log(2))) < 0.05


def test_a_sampler_stuck_on_one_mode_captures_one():
  src = get_dataset('grid25')
  stuck = src.modes[7] + src.std * np.random.default_rng(0).normal(size=(2500, 2))
  result = mode_coverage(stuck, src.modes, src.std)
  assert result['modes'] == 1 and result['counts'][7] > 2400
  np.testing.assert_allclose(result['reverse_kl'], np.log(25), rtol=1e-6)  # KL(delta || uniform)


def test_samples_between_modes_are_not_high_quality():
  src = get_dataset('ring8')
  far = np.zeros((100, 2))  # the centre of the ring: 2 away from every mode
  result = mode_coverage(far, src.modes, src.std)
  assert result['high_quality'] == 0.0 and result['modes'] == 0
  np.testing.assert_allclose(result['median_distance'], 2 / src.std, rtol=1e-6)


def test_modes_any_counts_modes_with_one_hq_sample_where_modes_needs_twenty():
  src = get_dataset('ring8')
  on = lambda m, n: np.repeat(src.modes[m][None], n, axis=0)  # n samples exactly on mode m
  samples = np.concatenate([on(0, 20), on(1, 19), on(2, 1), np.zeros((5, 2))])
  result = mode_coverage(samples, src.modes, src.std)
  assert result['modes'] == 1 and result['modes_any'] == 3
  assert list(result['counts'][:4]) == [20, 19, 1, 0]
