"""GAN losses as pure functions of the discriminator's logits.

Each entry of `LOSSES` is a `Loss(d, g)`:
  d(real_logits, fake_logits) -> scalar loss the discriminator minimises,
  g(fake_logits)              -> scalar loss the generator minimises.
Logits are D's raw outputs l; for the probabilistic losses D(x) = sigmoid(l), and
every log-probability is written with softplus, using
  -log sigmoid(l) = softplus(-l),   -log(1 - sigmoid(l)) = softplus(l),
so each loss is finite for logits as large as +-1e4 in float32.
"""

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp


class Loss(NamedTuple):
  d: Callable[[jax.Array, jax.Array], jax.Array]
  g: Callable[[jax.Array], jax.Array]


def _d_cross_entropy(real, fake):
  """-E log D(x) - E log(1 - D(G(z))) (Goodfellow et al. 2014, eq. 1)."""
  return jnp.mean(jax.nn.softplus(-real)) + jnp.mean(jax.nn.softplus(fake))


def _g_minimax(fake):
  """E log(1 - D(G(z))): the saturating cost of the 2014 minimax game."""
  return -jnp.mean(jax.nn.softplus(fake))


def _g_non_saturating(fake):
  """-E log D(G(z)): the heuristic non-saturating cost (2014, section 3)."""
  return jnp.mean(jax.nn.softplus(-fake))


# exp(l) is D/(1-D); clamped so that float32 stays finite (exp(80) ~ 5.5e34).
_ML_MAX_LOGIT = 80.0


def _g_maximum_likelihood(fake):
  """-1/2 E exp(sigma^-1(D(G(z)))) = -1/2 E exp(l) (Goodfellow 2016, eq. 15).

  Logits are clamped at 80 to stay finite; below that the cost is exact.
  """
  return -0.5 * jnp.mean(jnp.exp(jnp.minimum(fake, _ML_MAX_LOGIT)))


def _d_wasserstein(real, fake):
  """E f(G(z)) - E f(x): the critic's side of the Kantorovich dual (WGAN)."""
  return jnp.mean(fake) - jnp.mean(real)


def _g_wasserstein(fake):
  """-E f(G(z)); also the hinge GAN's generator loss."""
  return -jnp.mean(fake)


def _d_least_squares(real, fake):
  """1/2 E (D(x) - 1)^2 + 1/2 E D(G(z))^2 (LSGAN, a=0, b=c=1)."""
  return 0.5 * jnp.mean(jnp.square(real - 1.0)) + 0.5 * jnp.mean(jnp.square(fake))


def _g_least_squares(fake):
  """1/2 E (D(G(z)) - 1)^2."""
  return 0.5 * jnp.mean(jnp.square(fake - 1.0))


def _d_hinge(real, fake):
  """E max(0, 1 - D(x)) + E max(0, 1 + D(G(z))) (Lim & Ye 2017; Miyato 2018)."""
  return jnp.mean(jax.nn.relu(1.0 - real)) + jnp.mean(jax.nn.relu(1.0 + fake))


LOSSES: dict[str, Loss] = {
    'minimax': Loss(_d_cross_entropy, _g_minimax),
    'non_saturating': Loss(_d_cross_entropy, _g_non_saturating),
    'maximum_likelihood': Loss(_d_cross_entropy, _g_maximum_likelihood),
    'wasserstein': Loss(_d_wasserstein, _g_wasserstein),
    'least_squares': Loss(_d_least_squares, _g_least_squares),
    'hinge': Loss(_d_hinge, _g_wasserstein),
}
