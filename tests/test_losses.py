"""Each loss against hand-computed values, and finite at extreme logits; f-GAN's bound is tight."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.checks import FieldError
from gan_jax.config import ConfigError, validate
from gan_jax.losses import DIVERGENCES, LOSSES, F_GAN_G_LOSSES, Loss, build_loss

REAL = np.array([0.0, 2.0], np.float32)
FAKE = np.array([-1.0, 1.0], np.float32)


def softplus(x):
  return np.log1p(np.exp(x))


def sigmoid(x):
  return 1 / (1 + np.exp(-x))


# -E log D(x) - E log(1 - D(G(z))), with D = sigmoid(logit)
D_CE = -np.mean(np.log(sigmoid(REAL))) - np.mean(np.log(1 - sigmoid(FAKE)))
EXPECTED = {
    'minimax': (D_CE, np.mean(np.log(1 - sigmoid(FAKE)))),
    'non_saturating': (D_CE, -np.mean(np.log(sigmoid(FAKE)))),
    'maximum_likelihood': (D_CE, -0.5 * np.mean(sigmoid(FAKE) / (1 - sigmoid(FAKE)))),
    'wasserstein': (np.mean(FAKE) - np.mean(REAL), -np.mean(FAKE)),
    'least_squares': (
        0.5 * np.mean((REAL - 1) ** 2) + 0.5 * np.mean(FAKE**2),
        0.5 * np.mean((FAKE - 1) ** 2),
    ),
    'hinge': (np.mean(np.maximum(0, 1 - REAL)) + np.mean(np.maximum(0, 1 + FAKE)), -np.mean(FAKE)),
}


# Every loss with every value of its fields: (name, fields).
ALL_LOSSES = [(n, {}) for n in EXPECTED] + [
    ('f_gan', {'divergence': d, 'g_loss': g}) for d in DIVERGENCES for g in F_GAN_G_LOSSES
]


def test_every_loss_has_an_expectation():
  assert set(EXPECTED) | {'f_gan'} == set(LOSSES)


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_hand_computed_values(name):
  d, g = EXPECTED[name]
  loss = build_loss({'name': name})
  assert isinstance(loss, Loss)
  np.testing.assert_allclose(loss.d(REAL, FAKE), d, rtol=1e-6)
  np.testing.assert_allclose(loss.g(FAKE), g, rtol=1e-6)


@pytest.mark.parametrize('name,fields', ALL_LOSSES, ids=lambda a: str(a))
@pytest.mark.parametrize('logit', [1e4, -1e4])
def test_finite_values_and_gradients_at_extreme_logits(name, fields, logit):
  real = jnp.full((4,), logit, jnp.float32)
  fake = jnp.full((4,), -logit, jnp.float32)
  loss = LOSSES[name](**fields)
  for fn, args in (
      (loss.d, (real, fake)),
      (loss.d, (fake, real)),
      (loss.g, (fake,)),
      (loss.g, (real,)),
  ):
    value, grads = jax.value_and_grad(lambda *a: fn(*a), argnums=tuple(range(len(args))))(*args)
    assert np.isfinite(value), (name, logit)
    assert all(np.all(np.isfinite(g)) for g in grads), (name, logit)


def test_cross_entropy_is_exact_where_naive_form_overflows():
  # -log(1 - sigmoid(100)) = 100 + log(1 + e^-100) ~ 100; the naive form gives inf.
  np.testing.assert_allclose(
      LOSSES['minimax']().d(jnp.array([100.0]), jnp.array([100.0])), 100.0, rtol=1e-6
  )


def test_minimax_generator_saturates_where_non_saturating_does_not():
  # When D confidently rejects fakes (logit -10), log(1 - D) has a vanishing gradient.
  fake = jnp.array([-10.0])
  g_mm = jax.grad(LOSSES['minimax']().g)(fake)[0]
  g_ns = jax.grad(LOSSES['non_saturating']().g)(fake)[0]
  np.testing.assert_allclose(g_mm, -sigmoid(-10.0), rtol=1e-5)
  np.testing.assert_allclose(g_ns, -sigmoid(10.0), rtol=1e-5)
  assert abs(g_ns) > 1000 * abs(g_mm)


# f-GAN at D's optimum. Two distributions on three points, given as equally weighted samples
# (each sample 1/4): P = (1/2, 1/4, 1/4) is the data, Q = (1/4, 1/4, 1/2) the model.
P = np.array([0.5, 0.25, 0.25])
Q = np.array([0.25, 0.25, 0.5])
REAL_POINTS = np.array([0, 0, 1, 2])  # P as samples
FAKE_POINTS = np.array([0, 1, 2, 2])  # Q as samples

# The f-divergences D_f(P || Q) = sum q f(p / q), computed directly from their definitions.
M = (P + Q) / 2
F_DIVERGENCE = {
    'kl': np.sum(P * np.log(P / Q)),
    'reverse_kl': np.sum(Q * np.log(Q / P)),
    'pearson': np.sum((P - Q) ** 2 / Q),
    'squared_hellinger': np.sum((np.sqrt(P) - np.sqrt(Q)) ** 2),
    # The paper's f(u) = -(u+1) log((1+u)/2) + u log u gives twice the Jensen-Shannon divergence.
    'jensen_shannon': np.sum(P * np.log(P / M)) + np.sum(Q * np.log(Q / M)),
    'gan': np.sum(P * np.log(P / (P + Q))) + np.sum(Q * np.log(Q / (P + Q))),
}

# D's optimal raw output V*(x) = g_f^-1(f'(p(x)/q(x))), solved by hand for each divergence.
OPTIMAL_V = {
    'kl': lambda u: 1 + np.log(u),  # f'(u) = 1 + log u, g_f(v) = v
    'reverse_kl': np.log,  # f'(u) = -1/u = -exp(-v)
    'pearson': lambda u: 2 * (u - 1),  # f'(u) = 2 (u - 1), g_f(v) = v
    'squared_hellinger': lambda u: 0.5 * np.log(u),  # f'(u) = 1 - u^-1/2 = 1 - exp(-v)
    'jensen_shannon': np.log,  # f'(u) = log(2u / (1 + u)) = log 2 - softplus(-v)
    'gan': np.log,  # f'(u) = log(u / (1 + u)) = -softplus(-v)
}


def test_every_divergence_is_tested():
  assert set(F_DIVERGENCE) == set(OPTIMAL_V) == set(DIVERGENCES)


@pytest.mark.parametrize('divergence', sorted(DIVERGENCES))
def test_f_gan_objective_at_the_optimal_d_is_the_divergence(divergence):
  v = OPTIMAL_V[divergence](P / Q).astype(np.float32)
  loss = LOSSES['f_gan'](divergence=divergence)
  # D minimises -F; at its optimum F = D_f(P || Q).
  np.testing.assert_allclose(
      -loss.d(v[REAL_POINTS], v[FAKE_POINTS]), F_DIVERGENCE[divergence], rtol=1e-5, atol=1e-6
  )
  # Anywhere else F is a lower bound (eq. 4): the optimum is the maximum.
  rng = np.random.default_rng(0)
  for _ in range(20):
    w = (v + rng.normal(0, 0.3, 3)).astype(np.float32)
    assert -loss.d(w[REAL_POINTS], w[FAKE_POINTS]) <= F_DIVERGENCE[divergence] + 1e-6


def test_f_gan_gan_divergence_is_the_cross_entropy_game():
  gan = LOSSES['f_gan'](divergence='gan')
  np.testing.assert_allclose(gan.d(REAL, FAKE), LOSSES['minimax']().d(REAL, FAKE), rtol=1e-6)
  np.testing.assert_allclose(gan.g(FAKE), LOSSES['non_saturating']().g(FAKE), rtol=1e-6)
  saturating = LOSSES['f_gan'](divergence='gan', g_loss='saturating')
  np.testing.assert_allclose(saturating.g(FAKE), LOSSES['minimax']().g(FAKE), rtol=1e-6)


@pytest.mark.parametrize('g_loss', F_GAN_G_LOSSES)
@pytest.mark.parametrize('divergence', sorted(DIVERGENCES))
def test_f_gan_generator_gradient_raises_d_output_on_fakes(divergence, g_loss):
  # G lowers its loss by making D's output on its samples look more like data: dg/dv < 0, at
  # the outputs D takes for density ratios p/q from 1/20 to 20 (Pearson's f*(t) = t^2/4 + t
  # falls for t < -2, where no ratio p/q >= 0 takes D).
  fake = jnp.asarray(OPTIMAL_V[divergence](np.array([0.05, 0.5, 1.0, 2.0, 20.0])), jnp.float32)
  grads = jax.grad(LOSSES['f_gan'](divergence=divergence, g_loss=g_loss).g)(fake)
  assert np.all(np.asarray(grads) < 0), grads


def test_f_gan_unknown_fields_are_one_line_config_errors(make_config):
  with pytest.raises(FieldError, match=r"divergence='tv': allowed: kl, reverse_kl, pearson"):
    LOSSES['f_gan'](divergence='tv')
  config = make_config()
  config.loss = {'name': 'f_gan', 'divergence': 'tv', 'g_loss': 'alternative'}
  with pytest.raises(
      ConfigError,
      match=r"^config.loss.divergence='tv': allowed: kl, reverse_kl, pearson, squared_hellinger, "
      r'jensen_shannon, gan$',
  ):
    validate(config, num_devices=1)
  config.loss = {'name': 'f_gan', 'divergence': 'kl', 'g_loss': 'nonsaturating'}
  with pytest.raises(
      ConfigError, match=r"^config.loss.g_loss='nonsaturating': allowed: alternative, saturating$"
  ):
    validate(config, num_devices=1)
  config.loss = {'name': 'non_saturating', 'divergence': 'kl'}
  with pytest.raises(
      ConfigError, match=r"config.loss.divergence='kl': unknown field; allowed: name$"
  ):
    validate(config, num_devices=1)
  config.loss = {'name': 'f_gan'}  # fields left out take the builder's defaults
  validate(config, num_devices=1)


@pytest.mark.parametrize('divergence', ['kl', 'squared_hellinger', 'reverse_kl'])
def test_f_gan_exponentials_keep_a_gradient_past_their_exact_range(divergence):
  # Where G pushed D's output far past the exact range, D still gets a gradient that pulls it
  # back (a clamp would give none): the conjugate's slope on fakes, the activation's on reals.
  loss = LOSSES['f_gan'](divergence=divergence)
  big = jnp.full((2,), 1e4)
  d_fake = jax.grad(lambda f: loss.d(jnp.zeros(2), f))(big)
  d_real = jax.grad(lambda r: loss.d(r, jnp.zeros(2)))(-big)
  assert np.all(np.asarray(d_fake) > 0) and np.all(np.asarray(d_real) < 0)
  assert np.all(np.isfinite(d_fake)) and np.all(np.isfinite(d_real))
