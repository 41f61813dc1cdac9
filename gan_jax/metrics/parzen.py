"""Gaussian Parzen-window log-likelihood, as in Goodfellow et al. 2014 (section 5).

A Gaussian kernel density with isotropic width sigma is fit to generated
samples s_1..s_N (pixels in [0, 1]); the log-likelihood of a point x is

  log p(x) = logsumexp_i( -|x - s_i|^2 / (2 sigma^2) ) - log N - (D/2) log(2 pi sigma^2).

sigma is the grid value (default np.logspace(-1, 0, 10), as in the paper's code)
that maximises the mean log-likelihood of a validation set; the reported number
is the mean over the test set and its standard error (std / sqrt(n)).
"""

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.metrics.distances import map_row_chunks, sq_distances

SIGMAS = tuple(np.logspace(-1, 0, 10))


@jax.jit
def _log_likelihoods(x, samples, sigmas):
  """(n, S): log p(x_j) for each sigma; the distances are computed once."""
  n, d = samples.shape
  sq = sq_distances(x, samples)
  lse = jax.vmap(lambda s: jax.nn.logsumexp(-sq / (2 * s**2), axis=1), out_axes=1)(sigmas)
  return lse - jnp.log(n) - d / 2 * jnp.log(2 * jnp.pi * sigmas**2)


def log_likelihoods(x, samples, sigma, chunk=512) -> np.ndarray:
  """log p(x_j) under the Parzen window of `samples`, for each row of x (n, D);
  `sigma` a number (-> (n,)) or a sequence (-> (n, S))."""
  s = np.asarray(samples, np.float32)
  sig = np.atleast_1d(np.asarray(sigma, np.float32))
  ll = map_row_chunks(_log_likelihoods, x, s, sig, chunk=chunk)
  return ll[:, 0] if np.ndim(sigma) == 0 else ll


def select_sigma(samples, valid, sigmas=SIGMAS, chunk=512) -> tuple[float, dict]:
  """(best sigma, {sigma: mean validation log-likelihood})."""
  means = log_likelihoods(valid, samples, list(sigmas), chunk).mean(axis=0)
  scores = {float(s): float(m) for s, m in zip(sigmas, means)}
  return max(scores, key=scores.get), scores


def estimate(test, samples, sigma, chunk=512) -> dict:
  """{'parzen_ll': mean log-likelihood of the test rows at `sigma`, 'parzen_se': its standard
  error, std / sqrt(n)}."""
  ll = log_likelihoods(test, samples, sigma, chunk)
  return {'parzen_ll': float(np.mean(ll)), 'parzen_se': float(np.std(ll) / np.sqrt(len(ll)))}


def parzen(samples, valid, test, sigmas=SIGMAS, chunk=512) -> dict:
  """{'parzen_ll': mean test log-likelihood, 'parzen_se': its standard error, 'parzen_sigma'}."""
  sigma, _ = select_sigma(samples, valid, sigmas, chunk)
  return {**estimate(test, samples, sigma, chunk), 'parzen_sigma': sigma}
