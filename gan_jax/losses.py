"""GAN losses as pure functions of the discriminator's logits.

`LOSSES[name](**fields) -> Loss(d, g)`: each entry is a builder whose keyword fields (all with
defaults) are the `config.loss.*` fields; `build_loss(config.loss)` builds the configured one.
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

from gan_jax.checks import check_choice
from gan_jax.registries import LOSSES  # pylint: disable=unused-import (re-exported)


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


# f-GAN's exponentials are exact up to this argument and continue along their tangent beyond.
F_GAN_EXP_LINEAR_FROM = 20.0


def _exp_linear(v):
  """exp(v) for v <= 20, e^20 (1 + v - 20) beyond: its tangent, so that the loss and its
  gradient (at most e^20 ~ 4.9e8) stay finite for any finite v. A clamp would leave D without
  a gradient where G has pushed its output past the bound, and its Adam statistics overflow
  with gradients near exp(80); the tangent keeps D's gradient and lets it pull the output back.
  """
  c = F_GAN_EXP_LINEAR_FROM
  return jnp.where(v <= c, jnp.exp(jnp.minimum(v, c)), jnp.exp(c) * (1.0 + v - c))


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


def minimax() -> Loss:
  """The 2014 minimax game: D cross-entropy, G minimises E log(1 - D(G(z)))."""
  return Loss(_d_cross_entropy, _g_minimax)


def non_saturating() -> Loss:
  """D cross-entropy, G minimises -E log D(G(z))."""
  return Loss(_d_cross_entropy, _g_non_saturating)


def maximum_likelihood() -> Loss:
  """D cross-entropy, G minimises -1/2 E exp(l) (Goodfellow 2016)."""
  return Loss(_d_cross_entropy, _g_maximum_likelihood)


def wasserstein() -> Loss:
  """WGAN critic and generator losses (Arjovsky et al. 2017)."""
  return Loss(_d_wasserstein, _g_wasserstein)


def least_squares() -> Loss:
  """LSGAN (Mao et al. 2017), a=0, b=c=1."""
  return Loss(_d_least_squares, _g_least_squares)


def hinge() -> Loss:
  """Hinge D loss, G minimises -E D(G(z))."""
  return Loss(_d_hinge, _g_wasserstein)


class Divergence(NamedTuple):
  """One f of f-GAN (Nowozin et al. 2016, table 6) in terms of D's raw output v.

  activation(v) = g_f(v), the output activation that maps v into the domain of f*;
  conjugate(v) = f*(g_f(v)), written in closed form so that it is stable.
  """

  activation: Callable[[jax.Array], jax.Array]
  conjugate: Callable[[jax.Array], jax.Array]


_LOG2 = 0.6931471805599453

# Each f's g_f and f*(g_f(v)), the latter simplified (which is where the stability comes from):
# reverse KL    g = -e^-v,                f*(t) = -1 - log(-t)      -> f*(g) = v - 1
# sq. Hellinger g = 1 - e^-v,             f*(t) = t / (1 - t)       -> f*(g) = e^v - 1
# Jensen-Shannon g = log 2 - softplus(-v), f*(t) = -log(2 - e^t)    -> f*(g) = softplus(v) - log 2
# GAN           g = -softplus(-v),        f*(t) = -log(1 - e^t)     -> f*(g) = softplus(v)
# exp(+-v) continues linearly past an argument of 20 (`_exp_linear`): finite for logits of
# +-1e4, exact where |v| <= 20 (KL: density ratios up to e^19).
DIVERGENCES: dict[str, Divergence] = {
    # f(u) = u log u
    'kl': Divergence(lambda v: v, lambda v: _exp_linear(v - 1.0)),
    # f(u) = -log u
    'reverse_kl': Divergence(lambda v: -_exp_linear(-v), lambda v: v - 1.0),
    # f(u) = (u - 1)^2
    'pearson': Divergence(lambda v: v, lambda v: 0.25 * jnp.square(v) + v),
    # f(u) = (sqrt(u) - 1)^2
    'squared_hellinger': Divergence(
        lambda v: 1.0 - _exp_linear(-v), lambda v: _exp_linear(v) - 1.0
    ),
    # f(u) = -(u + 1) log((1 + u) / 2) + u log u
    'jensen_shannon': Divergence(
        lambda v: _LOG2 - jax.nn.softplus(-v), lambda v: jax.nn.softplus(v) - _LOG2
    ),
    # f(u) = u log u - (u + 1) log(u + 1)
    'gan': Divergence(lambda v: -jax.nn.softplus(-v), jax.nn.softplus),
}
F_GAN_G_LOSSES = ('alternative', 'saturating')


def f_gan(divergence: str = 'kl', g_loss: str = 'alternative') -> Loss:
  """f-GAN (Nowozin et al. 2016): the variational bound on D_f(P || Q) = E_Q f(p/q).

  D maximises F = E_P[g_f(V(x))] - E_Q[f*(g_f(V(G(z))))] (eq. 6), i.e. minimises -F; at
  its optimum g_f(V(x)) = f'(p(x)/q(x)) and F = D_f(P || Q). G's loss:
    'alternative' (section 3.2, default): -E_Q[g_f(V(G(z)))];
    'saturating': -E_Q[f*(g_f(V(G(z))))] (G minimises F itself).
  For 'gan' the pair is the cross-entropy D loss and the non-saturating G loss.
  """
  div = DIVERGENCES[check_choice('divergence', divergence, tuple(DIVERGENCES))]
  check_choice('g_loss', g_loss, F_GAN_G_LOSSES)

  def d(real, fake):
    return jnp.mean(div.conjugate(fake)) - jnp.mean(div.activation(real))

  def g(fake):
    return -jnp.mean((div.activation if g_loss == 'alternative' else div.conjugate)(fake))

  return Loss(d, g)


# LOSSES (name -> the builders above) is declared in gan_jax/registries.py: configs read it.


def build_loss(section) -> Loss:
  """The Loss a `config.loss` section ({'name': ..., field: value, ...}) names.

  Raises FieldError('<field>=<value>: ...') for a field value the builder refuses.
  """
  return LOSSES[section['name']](**{k: v for k, v in section.items() if k != 'name'})
