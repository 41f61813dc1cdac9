"""DiffAugment: shapes, differentiability, randomness per example and per key, the transforms
against direct numpy versions, and the policy string's errors."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.checks import FieldError
from gan_jax.diffaugment import AUGMENTATIONS, check_policy, parse_policy
from gan_jax.diffaugment import augment as augment_eager

augment = jax.jit(augment_eager, static_argnums=2)  # one compile per test, not one per op

POLICIES = [('color',), ('translation',), ('cutout',), ('color', 'translation', 'cutout')]


def images(shape=(6, 16, 12, 3), seed=0):
  return jax.random.uniform(jax.random.key(seed), shape, minval=-1.0, maxval=1.0)


@pytest.mark.parametrize('policy', POLICIES)
def test_keeps_shape_and_dtype_and_is_deterministic_per_key(policy):
  x = images()
  a = augment(jax.random.key(1), x, policy)
  assert a.shape == x.shape and a.dtype == x.dtype
  np.testing.assert_array_equal(a, augment(jax.random.key(1), x, policy))
  assert not np.array_equal(a, augment(jax.random.key(2), x, policy))
  assert not np.array_equal(a, x)


def test_empty_policy_is_the_identity():
  x = images()
  assert augment_eager(jax.random.key(0), x, ()) is x
  assert parse_policy('') == () and parse_policy('  ') == ()


@pytest.mark.parametrize('policy', POLICIES)
def test_gradients_are_finite_and_reach_the_input(policy):
  x = images()
  w = jax.random.normal(jax.random.key(3), x.shape)
  grads = jax.grad(lambda x: jnp.sum(w * augment(jax.random.key(4), x, policy)))(x)
  assert grads.shape == x.shape and np.all(np.isfinite(grads))
  assert np.any(grads != 0)


@pytest.mark.parametrize('policy', POLICIES)
def test_jit_and_vmap_give_the_same_values(policy):
  x = images((3, 4, 8, 8, 3))
  keys = jax.random.split(jax.random.key(5), 3)
  fn = functools.partial(augment_eager, policy=policy)
  one_by_one = np.stack([augment(k, xi, policy) for k, xi in zip(keys, x)])
  np.testing.assert_allclose(jax.jit(jax.vmap(fn))(keys, x), one_by_one, rtol=1e-6, atol=1e-6)


def test_each_example_gets_its_own_draw():
  x = jnp.broadcast_to(images((1, 16, 16, 3)), (8, 16, 16, 3))  # 8 copies of one image
  for policy in POLICIES:
    a = np.asarray(augment(jax.random.key(6), x, policy))
    assert len({a[i].tobytes() for i in range(8)}) > 1, policy


def test_translation_shifts_with_zero_padding():
  x = images((64, 16, 8, 2))
  a = np.asarray(augment(jax.random.key(7), x, ('translation',)))
  x = np.asarray(x)
  shifts = set()
  for xi, ai in zip(x, a):
    # Find the shift (dh, dw) with |dh| <= 2 (16 / 8), |dw| <= 1 (8 / 8) that explains ai.
    found = [
        (dh, dw)
        for dh in range(-2, 3)
        for dw in range(-1, 2)
        if np.array_equal(ai, _shifted(xi, dh, dw))
    ]
    assert len(found) == 1
    shifts.add(found[0])
  assert len(shifts) == 15  # every shift occurs among 64 examples


def _shifted(x, dh, dw):
  """out[i, j] = x[i + dh, j + dw], 0 outside."""
  h, w, _ = x.shape
  out = np.zeros_like(x)
  for i in range(h):
    for j in range(w):
      if 0 <= i + dh < h and 0 <= j + dw < w:
        out[i, j] = x[i + dh, j + dw]
  return out


def test_cutout_zeros_one_square_of_half_the_size():
  x = jnp.ones((32, 16, 16, 3))
  a = np.asarray(augment(jax.random.key(8), x, ('cutout',)))
  assert set(np.unique(a)) <= {0.0, 1.0}
  for ai in a:
    zero = ai[..., 0] == 0
    assert np.all(ai[zero] == 0)  # all channels
    rows, cols = np.nonzero(zero.any(1))[0], np.nonzero(zero.any(0))[0]
    # A box (clipped at the border) of at most 8 x 8 pixels, exactly 8 when not clipped.
    assert zero.sum() == len(rows) * len(cols) and len(rows) <= 8 and len(cols) <= 8
    assert np.all(np.diff(rows) == 1) and np.all(np.diff(cols) == 1)
    if 0 < rows[0] and rows[-1] < 15:
      assert len(rows) == 8


def test_color_matches_the_official_formulas():
  x = images((4, 5, 5, 3))
  key = jax.random.key(9)
  a = np.asarray(augment(key, x, ('color',)))
  # The draws augment makes: transform 0 of the policy, then brightness, saturation, contrast.
  k_b, k_s, k_c = jax.random.split(jax.random.fold_in(key, 0), 3)
  b, s, c = (np.asarray(jax.random.uniform(k, (4, 1, 1, 1))) for k in (k_b, k_s, k_c))
  y = np.asarray(x) + (b - 0.5)  # brightness: + U(-1/2, 1/2)
  m = y.mean(axis=3, keepdims=True)
  y = (y - m) * (2 * s) + m  # saturation: U(0, 2) around the channel mean
  m = y.mean(axis=(1, 2, 3), keepdims=True)
  y = (y - m) * (c + 0.5) + m  # contrast: U(1/2, 3/2) around the image mean
  np.testing.assert_allclose(a, y, rtol=1e-5, atol=1e-6)


def test_policy_string_errors_are_one_line():
  assert parse_policy('color, translation,cutout') == ('color', 'translation', 'cutout')
  with pytest.raises(
      FieldError,
      match=r"^config.d_input.diffaugment='color,flip': unknown augmentation 'flip'; allowed: "
      r'comma-separated names of color, translation, cutout$',
  ):
    parse_policy('color,flip')
  with pytest.raises(FieldError, match=r"unknown augmentation ''"):
    parse_policy('color,,cutout')
  assert check_policy('color', data_is_image=True) == ('color',)
  assert check_policy('', data_is_image=False) == ()
  with pytest.raises(
      FieldError,
      match=r"^config.d_input.diffaugment='translation': DiffAugment is for images, and grid25 is not",
  ):
    check_policy('translation', data_is_image=False, data_name='grid25')
  assert set(AUGMENTATIONS) == {'color', 'translation', 'cutout'}


def test_config_validation_names_unknown_augmentations(make_config):
  from gan_jax.config import ConfigError, validate

  config = make_config()
  config.d_input.diffaugment = 'colour'
  with pytest.raises(ConfigError, match=r"config.d_input.diffaugment='colour': unknown augmentation"):
    validate(config, num_devices=1)
