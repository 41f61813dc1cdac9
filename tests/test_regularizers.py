"""Penalties on functions whose input gradients are known in closed form."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import regularizers
from gan_jax.regularizers import PENALTIES

A = jnp.array([3.0, 0.0, 4.0, 0.0])  # ||A|| = 5


def linear_d(x):
  """D(x) = <A, x> for flat x: grad_x D = A everywhere."""
  return x.reshape(x.shape[0], -1) @ A


def quadratic_d(x):
  """D(x) = ||x||^2 / 2: grad_x D = x."""
  return 0.5 * jnp.sum(jnp.square(x.reshape(x.shape[0], -1)), axis=1)


@pytest.fixture
def batch():
  k1, k2 = jax.random.split(jax.random.key(0))
  return jax.random.normal(k1, (8, 2, 2)), jax.random.normal(k2, (8, 2, 2))


@pytest.mark.parametrize('name', ['gp', 'dragan'])
def test_unit_norm_penalties_on_a_linear_critic(name, batch):
  real, fake = batch
  value = PENALTIES[name](linear_d, None, real, fake, jax.random.key(1))
  np.testing.assert_allclose(value, (5.0 - 1.0) ** 2, rtol=1e-5)


def test_gradient_penalty_uses_points_between_real_and_fake(batch):
  real, fake = batch
  # grad of ||x||^2/2 is x: the penalty is E(||x^|| - 1)^2 with x^ = real + eps (fake - real)
  eps = jax.random.uniform(jax.random.key(1), (8, 1, 1))
  x_hat = real + eps * (fake - real)
  norms = jnp.sqrt(jnp.sum(jnp.square(x_hat.reshape(8, -1)), axis=1))
  expected = jnp.mean(jnp.square(norms - 1))
  value = PENALTIES['gp'](quadratic_d, None, real, fake, jax.random.key(1))
  np.testing.assert_allclose(value, expected, rtol=1e-5)


def test_gradient_penalty_is_zero_for_a_1_lipschitz_linear_critic(batch):
  real, fake = batch
  value = PENALTIES['gp'](lambda x: linear_d(x) / 5.0, None, real, fake, jax.random.key(2))
  assert value < 1e-10


def test_dragan_perturbs_real_data_by_half_its_std(batch):
  real, fake = batch
  # grad of ||x||^2/2 is x: the penalty is E(||x^|| - 1)^2 at the points DRAGAN builds
  k_u, k_mix = jax.random.split(jax.random.key(3))
  perturbed = real + 0.5 * jnp.std(real) * jax.random.uniform(k_u, real.shape)
  eps = jax.random.uniform(k_mix, (8, 1, 1))
  x_hat = real + eps * (perturbed - real)
  norms = jnp.sqrt(jnp.sum(jnp.square(x_hat.reshape(8, -1)), axis=1))
  value = PENALTIES['dragan'](quadratic_d, None, real, fake, jax.random.key(3))
  np.testing.assert_allclose(value, jnp.mean(jnp.square(norms - 1)), rtol=1e-5)


def test_r1_is_half_squared_gradient_norm_on_real_data(batch):
  real, fake = batch
  np.testing.assert_allclose(
      PENALTIES['r1'](linear_d, None, real, fake, None), 0.5 * 25.0, rtol=1e-5
  )
  expected = 0.5 * jnp.mean(jnp.sum(jnp.square(real.reshape(8, -1)), axis=1))
  np.testing.assert_allclose(
      PENALTIES['r1'](quadratic_d, None, real, fake, None), expected, rtol=1e-5
  )


def test_penalty_gradient_flows_to_critic_parameters(batch):
  real, fake = batch

  def penalty(scale):
    return PENALTIES['gp'](lambda x: scale * linear_d(x), None, real, fake, jax.random.key(1))

  # (5s - 1)^2 -> derivative 10 (5s - 1) = 40 at s = 1
  np.testing.assert_allclose(jax.grad(penalty)(1.0), 40.0, rtol=1e-5)


def test_d_l2_is_sum_of_squares():
  params = {'a': jnp.array([1.0, -2.0]), 'b': {'c': jnp.array([[3.0]])}}
  assert PENALTIES['d_l2'](None, params, None, None, None) == pytest.approx(14.0)


def test_weight_clipping_bounds():
  params = {'w': jnp.linspace(-1, 1, 101), 'b': jnp.array([0.005, -0.3])}
  clipped = regularizers.clip_weights(params, 0.01)
  for leaf in jax.tree_util.tree_leaves(clipped):
    assert jnp.all(jnp.abs(leaf) <= 0.01)
  assert clipped['b'][0] == pytest.approx(0.005)  # inside the box: untouched
  assert clipped['b'][1] == pytest.approx(-0.01)


def test_instance_noise_anneals_to_zero():
  assert regularizers.instance_noise_std(0, 0.1, 100) == pytest.approx(0.1)
  assert regularizers.instance_noise_std(50, 0.1, 100) == pytest.approx(0.05)
  assert regularizers.instance_noise_std(150, 0.1, 100) == 0.0
  assert regularizers.instance_noise_std(10**6, 0.1, 0) == 0.1  # 0: no annealing
  x = jnp.zeros((10000,))
  noisy = regularizers.add_instance_noise(jax.random.key(0), x, 0.5)
  assert float(jnp.std(noisy)) == pytest.approx(0.5, rel=0.05)
