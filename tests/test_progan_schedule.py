"""Progressive growing's schedule (gan_jax/progressive_schedule.py) at its boundaries."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.errors import FieldError
from gan_jax.progressive_schedule import Schedule

S = Schedule(num_stages=3, fade_images=100, stable_images=50)  # 4x4, 8x8, 16x16


@pytest.mark.parametrize(
    'images, stage, alpha',
    [
        (0, 0, 1.0),
        (49, 0, 1.0),
        (50, 1, 0.0),  # stage 1's fade begins after 50 images of stage 0
        (75, 1, 0.25),
        (149, 1, 0.99),
        (150, 1, 1.0),  # then 50 stable
        (199, 1, 1.0),
        (200, 2, 0.0),  # stage 2 begins at 50 + 150
        (300, 2, 1.0),
        (10**6, 2, 1.0),  # the last stage stays
    ],
)
def test_stage_and_alpha_at_the_boundaries(images, stage, alpha):
  assert S.at(images) == (stage, pytest.approx(alpha))


def test_traced_alpha_agrees_with_the_host_one_and_steps_round_up():
  images = jnp.arange(0, 320, 7)
  traced = jax.jit(lambda i: S.alpha(i, 1))(images)
  np.testing.assert_allclose(traced, [S.alpha(int(i), 1) for i in images], rtol=1e-6)
  assert S.start(1) == 50 and S.start(2) == 200 and S.images_to_grow() == 300
  assert S.boundaries(batch_size=16) == [4, 13]  # ceil(50 / 16), ceil(200 / 16)
  assert S.stage_of_step(3, 16) == 0 and S.stage_of_step(4, 16) == 1
  assert Schedule(1, 10, 10).at(5) == (0, 1.0) and Schedule(3, 0, 10).at(10) == (1, 1.0)


def test_a_later_first_stage_plays_stage_0_and_the_last_one_is_fixed_resolution():
  later = Schedule(num_stages=3, fade_images=100, stable_images=50, first_stage=1)
  assert [later.at(i) for i in (0, 49, 50, 100, 150)] == [
      (1, 1.0), (1, 1.0), (2, 0.0), (2, 0.5), (2, 1.0)
  ]
  assert later.boundaries(16) == [4] and later.images_to_grow() == 150
  fixed = Schedule(num_stages=3, fade_images=100, stable_images=50, first_stage=2)
  assert fixed.at(0) == fixed.at(10**6) == (2, 1.0)
  assert fixed.boundaries(16) == [] and fixed.images_to_grow() == 0
  assert float(jax.jit(lambda i: fixed.alpha(i, 2))(jnp.int32(0))) == 1.0


@pytest.mark.parametrize(
    'fields, match',
    [
        (dict(fade_images=100, stable_images=0), 'stable_images=0: must be >= 1'),
        (dict(fade_images=-1, stable_images=5), 'fade_images=-1: must be >= 0'),
        (dict(fade_images=1.5, stable_images=5), 'fade_images=1.5: must be an integer'),
        (dict(fade_images=1, stable_images=5, first_stage=3), 'first_stage=3: must be < 3'),
    ],
)
def test_a_bad_schedule_is_one_line(fields, match):
  with pytest.raises(FieldError, match=match):
    Schedule(num_stages=3, **fields)
