"""FID, KID, IS, precision/recall and Parzen on cases with known answers."""

import numpy as np
import pytest
import scipy.linalg
import scipy.special

from gan_jax.metrics.fid import feature_stats, fid, frechet_distance, trace_sqrt_product
from gan_jax.metrics.inception_score import inception_score
from gan_jax.metrics.kid import kid, mmd2_unbiased
from gan_jax.metrics.parzen import log_likelihoods, parzen, select_sigma
from gan_jax.metrics.precision_recall import manifold_radii, precision_recall


def _spd(rng, d):
  a = rng.normal(size=(d, d))
  return a @ a.T / d + 0.1 * np.eye(d)


def test_fid_of_identical_sets_is_zero():
  x = np.random.default_rng(0).normal(size=(500, 16))
  assert abs(fid(x, x)) < 1e-8


def test_fid_of_a_shifted_set_is_the_squared_shift():
  x = np.random.default_rng(1).normal(size=(400, 8))
  shift = np.arange(8) / 4.0
  np.testing.assert_allclose(fid(x, x + shift), shift @ shift, rtol=1e-9)


def test_frechet_distance_of_diagonal_gaussians_has_the_closed_form():
  a, b = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 0.25])
  mu1, mu2 = np.zeros(3), np.ones(3)
  expected = 3.0 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
  np.testing.assert_allclose(frechet_distance(mu1, np.diag(a), mu2, np.diag(b)), expected)


@pytest.mark.parametrize('d', [5, 64])
def test_trace_sqrt_matches_scipy_sqrtm(d):
  rng = np.random.default_rng(d)
  s1, s2 = _spd(rng, d), _spd(rng, d)
  expected = np.trace(scipy.linalg.sqrtm(s1 @ s2).real)
  np.testing.assert_allclose(trace_sqrt_product(s1, s2), expected, rtol=1e-9)


def test_trace_sqrt_survives_singular_covariances():
  # fewer samples than dimensions: sqrtm of the product is ill-conditioned, ours is exact
  rng = np.random.default_rng(3)
  _, s = feature_stats(rng.normal(size=(10, 50)))
  np.testing.assert_allclose(trace_sqrt_product(s, s), np.trace(s), rtol=1e-6)
  assert abs(frechet_distance(np.zeros(50), s, np.zeros(50), s)) < 1e-5


def _mmd2_loops(x, y):
  k = lambda a, b: (a @ b / x.shape[1] + 1) ** 3
  m, n = len(x), len(y)
  sxx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
  syy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
  sxy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
  return sxx + syy - 2 * sxy


def test_mmd2_matches_the_definition():
  rng = np.random.default_rng(4)
  x, y = rng.normal(size=(12, 3)), rng.normal(1.0, size=(9, 3))
  np.testing.assert_allclose(mmd2_unbiased(x, y), _mmd2_loops(x, y), rtol=1e-10)


def test_kid_is_about_zero_for_one_distribution_and_positive_for_two():
  rng = np.random.default_rng(5)
  x, y = rng.normal(size=(600, 16)), rng.normal(size=(600, 16))
  same = kid(x, y, num_subsets=20, subset_size=300)
  other = kid(x, y + 0.5, num_subsets=20, subset_size=300)
  assert abs(same['kid']) < 3 * same['kid_std'] + 1e-3
  assert other['kid'] > 10 * max(same['kid_std'], 1e-3)


def test_inception_score_of_uniform_and_of_confident_balanced_predictions():
  uniform = np.full((100, 10), 0.1)
  assert inception_score(uniform)['is'] == pytest.approx(1.0)
  confident = np.eye(10)[np.arange(1000) % 10]  # each split holds every class equally often
  result = inception_score(confident)
  assert result['is'] == pytest.approx(10.0) and result['is_std'] == pytest.approx(0.0, abs=1e-9)


def test_precision_recall_extremes():
  rng = np.random.default_rng(6)
  x = rng.normal(size=(300, 8))
  assert precision_recall(x, x) == {'precision': 1.0, 'recall': 1.0}
  assert precision_recall(x, x + 100.0) == {'precision': 0.0, 'recall': 0.0}


def test_precision_recall_matches_brute_force():
  rng = np.random.default_rng(7)
  real, fake = rng.normal(size=(200, 5)), rng.normal(0.7, 1.3, size=(150, 5))

  def radii(a):
    d = np.linalg.norm(a[:, None] - a[None], axis=-1)
    return np.sort(d, axis=1)[:, 3]  # column 0 is the point itself

  def share(q, p, r):
    return np.mean((np.linalg.norm(q[:, None] - p[None], axis=-1) <= r[None]).any(1))

  np.testing.assert_allclose(np.sqrt(manifold_radii(real, chunk=64)), radii(real), rtol=1e-4)
  result = precision_recall(real, fake, chunk=64)
  assert result['precision'] == pytest.approx(share(fake, real, radii(real)), abs=1 / 150)
  assert result['recall'] == pytest.approx(share(real, fake, radii(fake)), abs=1 / 200)
  assert 0.1 < result['precision'] < 0.95 and 0.1 < result['recall'] < 0.95


def test_parzen_log_likelihood_matches_scipy_logsumexp():
  rng = np.random.default_rng(8)
  samples, x, sigma = rng.uniform(size=(300, 6)), rng.uniform(size=(70, 6)), 0.2
  sq = ((x[:, None] - samples[None]) ** 2).sum(-1)
  expected = (
      scipy.special.logsumexp(-sq / (2 * sigma**2), axis=1)
      - np.log(300)
      - 3 * np.log(2 * np.pi * sigma**2)
  )
  np.testing.assert_allclose(
      log_likelihoods(x, samples, sigma, chunk=32), expected, rtol=1e-5, atol=1e-5
  )


def test_parzen_of_one_sample_at_the_test_point_is_the_gaussian_peak():
  sigma, d = 0.5, 4
  ll = log_likelihoods(np.zeros((1, d)), np.zeros((1, d)), sigma)
  np.testing.assert_allclose(ll, [-d / 2 * np.log(2 * np.pi * sigma**2)], rtol=1e-6)


def test_parzen_selects_the_best_sigma_on_validation():
  rng = np.random.default_rng(9)
  samples, valid, test = (rng.normal(0.5, 0.1, size=(n, 3)) for n in (500, 200, 200))
  sigmas = (0.01, 0.05, 0.3, 2.0)
  best, scores = select_sigma(samples, valid, sigmas)
  assert best == max(scores, key=scores.get) and best in (0.05, 0.3)
  result = parzen(samples, valid, test, sigmas)
  assert result['parzen_sigma'] == best
  ll = log_likelihoods(test, samples, best)
  assert result['parzen_ll'] == pytest.approx(np.mean(ll))
  assert result['parzen_se'] == pytest.approx(np.std(ll) / np.sqrt(200))


def test_parzen_valid_size_picks_sigma_on_the_first_n_validation_points_only():
  from benchmarks.parzen_valid_size import compare

  rng = np.random.default_rng(10)
  samples = rng.normal(0.5, 0.1, size=(500, 3))
  # The first 100 validation points are samples themselves (the smallest sigma fits them best),
  # the other 200 lie far wider (a large sigma fits all 300 best).
  valid = np.concatenate([samples[:100], rng.normal(0.5, 0.6, size=(200, 3))])
  test = rng.normal(0.5, 0.1, size=(150, 3))
  out = compare(samples, valid, test, limit=100)
  first, every = out['valid_100'], out['valid_300']
  assert first['sigma'] == select_sigma(samples, valid[:100])[0] == min(first['valid_means'])
  assert every['sigma'] == parzen(samples, valid, test)['parzen_sigma'] > first['sigma']
  assert every['parzen_ll'] == pytest.approx(parzen(samples, valid, test)['parzen_ll'], rel=1e-6)
  assert first['parzen_ll'] == pytest.approx(
      np.mean(log_likelihoods(test, samples, first['sigma'])), rel=1e-6
  )
