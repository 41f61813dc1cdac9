"""PacGAN packing: shapes, which sample lands where, and the divisibility error."""

import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.checks import FieldError
from gan_jax.packing import check_pack, pack, packed_shape


def test_flat_data_concatenates_consecutive_samples_along_features():
  x = np.arange(6 * 2).reshape(6, 2)  # grid25-like (B, 2)
  p = pack(jnp.asarray(x), 3)
  assert p.shape == (2, 6) == (2, *packed_shape((2,), 3))
  np.testing.assert_array_equal(p, np.stack([np.concatenate(x[0:3]), np.concatenate(x[3:6])]))


def test_images_concatenate_along_channels():
  x = np.random.default_rng(0).normal(size=(8, 5, 4, 3)).astype(np.float32)
  p = np.asarray(pack(jnp.asarray(x), 4))
  assert p.shape == (2, 5, 4, 12) == (2, *packed_shape((5, 4, 3), 4))
  for j in range(2):
    np.testing.assert_array_equal(p[j], np.concatenate(list(x[4 * j : 4 * j + 4]), axis=-1))


def test_pack_of_one_is_the_input_itself():
  x = jnp.ones((4, 2))
  assert pack(x, 1) is x


def test_batch_must_be_a_multiple_of_pack():
  with pytest.raises(ValueError, match='batch of 6 is not a multiple of 4'):
    pack(jnp.ones((6, 2)), 4)
  check_pack(64, 4)
  with pytest.raises(
      FieldError,
      match=r'^config.train.batch_size=64: must be divisible by d_input.pack=3 \(D judges packs',
  ):
    check_pack(64, 3)
  with pytest.raises(FieldError, match=r'^config.d_input.pack=0: must be >= 1$'):
    check_pack(64, 0)


def test_config_validation_checks_pack(make_config):
  from gan_jax.config import ConfigError, validate

  config = make_config()  # batch 16
  config.d_input.pack = 3
  with pytest.raises(
      ConfigError, match=r'config.train.batch_size=16: must be divisible by d_input.pack=3'
  ):
    validate(config, num_devices=1)
  config.d_input.pack = 0
  with pytest.raises(ConfigError, match=r'config.d_input.pack=0: must be >= 1'):
    validate(config, num_devices=1)
  config.d_input.pack = 4
  validate(config, num_devices=1)
  config.train.unroll_steps = -1
  with pytest.raises(ConfigError, match=r'config.train.unroll_steps=-1: must be >= 0'):
    validate(config, num_devices=1)
