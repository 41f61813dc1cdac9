"""Each loss against hand-computed values, and finite at extreme logits."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.losses import LOSSES

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


def test_every_loss_has_an_expectation():
  assert set(EXPECTED) == set(LOSSES)


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_hand_computed_values(name):
  d, g = EXPECTED[name]
  np.testing.assert_allclose(LOSSES[name].d(REAL, FAKE), d, rtol=1e-6)
  np.testing.assert_allclose(LOSSES[name].g(FAKE), g, rtol=1e-6)


@pytest.mark.parametrize('name', sorted(LOSSES))
@pytest.mark.parametrize('logit', [1e4, -1e4])
def test_finite_values_and_gradients_at_extreme_logits(name, logit):
  real = jnp.full((4,), logit, jnp.float32)
  fake = jnp.full((4,), -logit, jnp.float32)
  loss = LOSSES[name]
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
      LOSSES['minimax'].d(jnp.array([100.0]), jnp.array([100.0])), 100.0, rtol=1e-6
  )


def test_minimax_generator_saturates_where_non_saturating_does_not():
  # When D confidently rejects fakes (logit -10), log(1 - D) has a vanishing gradient.
  fake = jnp.array([-10.0])
  g_mm = jax.grad(LOSSES['minimax'].g)(fake)[0]
  g_ns = jax.grad(LOSSES['non_saturating'].g)(fake)[0]
  np.testing.assert_allclose(g_mm, -sigmoid(-10.0), rtol=1e-5)
  np.testing.assert_allclose(g_ns, -sigmoid(10.0), rtol=1e-5)
  assert abs(g_ns) > 1000 * abs(g_mm)
