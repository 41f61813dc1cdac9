"""ProGAN networks (models/progan.py): equalized learning rate, pixel norm, minibatch stddev, the
fade between stages, and one parameter tree for every stage."""

import importlib
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.models import build_models

pg = importlib.import_module('gan_jax.models.progan')  # the module (the package names its builder)

FIELDS = dict(z_dim=8, fmap_base=32, fmap_max=8)


def _normal_params(module, *args):
  """Parameters of `module`'s shapes drawn with NumPy (N(0, 1), biases too): no PRNG program to
  compile per shape (the init's own draws are tested on one layer below)."""
  rng = np.random.default_rng(0)
  shapes = jax.eval_shape(module.init, jax.random.key(0), *args)
  return jax.tree_util.tree_map(
      lambda s: jnp.asarray(rng.standard_normal(s.shape), jnp.float32), shapes
  )


@pytest.fixture(scope='module')
def nets():
  g, d = build_models('progan', (28, 28, 1), **FIELDS)  # works at 32 x 32: stages 4, 8, 16, 32
  z = jnp.asarray(np.random.default_rng(1).normal(size=(8, 8)), jnp.float32)
  x = jnp.zeros((8, 28, 28, 1))
  return g, d, _normal_params(g, z), _normal_params(d, x), z


def test_equalized_lr_stores_unit_normal_weights_and_scales_them_at_run_time():
  dense = pg.EqDense(300)
  params = dense.init(jax.random.key(0), jnp.zeros((1, 200)))
  kernel = np.asarray(params['params']['kernel'])
  assert abs(kernel.std() - 1) < 0.02 and abs(kernel.mean()) < 0.02
  out = dense.apply(params, jnp.eye(200)[:3])  # row i of the effective weights
  np.testing.assert_allclose(out, kernel[:3] * math.sqrt(2) / math.sqrt(200), rtol=1e-5)
  conv = pg.EqConv(4, 3, gain=1.0)
  params = conv.init(jax.random.key(1), jnp.zeros((1, 5, 5, 2)))
  kernel = np.asarray(params['params']['kernel'])
  delta = jnp.zeros((1, 5, 5, 2)).at[0, 2, 2, 1].set(1.0)
  out = conv.apply(params, delta)  # the flipped kernel of input channel 1 around the centre
  np.testing.assert_allclose(out[0, 1:4, 1:4], kernel[::-1, ::-1, 1] / math.sqrt(18), rtol=1e-5)


def test_pixel_norm_gives_unit_mean_square_over_channels_whatever_the_scale():
  x = np.random.default_rng(4).normal(size=(2, 3, 3, 16)) * np.arange(1, 19).reshape(2, 3, 3, 1)
  x = jnp.asarray(x, jnp.float32)
  y = pg.pixel_norm(x)
  np.testing.assert_allclose(jnp.mean(y**2, axis=-1), 1.0, rtol=1e-5)
  np.testing.assert_allclose(pg.pixel_norm(5 * x), y, rtol=1e-5, atol=1e-6)


def test_minibatch_stddev_appends_the_mean_std_over_each_group():
  x = np.random.default_rng(5).normal(size=(8, 2, 3, 4)).astype(np.float32)
  out = np.asarray(pg.minibatch_stddev(jnp.asarray(x), 4))
  assert out.shape == (8, 2, 3, 5)
  np.testing.assert_array_equal(out[..., :4], x)
  for n in range(8):
    group = x[n % 2 :: 2]  # the reference's reshape (G, N/G, ...): sample n in group n mod 2
    expected = np.sqrt(group.var(axis=0) + 1e-8).mean()
    np.testing.assert_allclose(out[n, ..., 4], expected, rtol=1e-5)
  small = np.asarray(pg.minibatch_stddev(jnp.asarray(x[:2]), 4))  # group = min(4, N)
  np.testing.assert_allclose(small[0, 0, 0, 4], np.sqrt(x[:2].var(axis=0) + 1e-8).mean(), 1e-5)
  with pytest.raises(ValueError, match='not a multiple'):
    pg.minibatch_stddev(jnp.asarray(x[:6]), 4)


def test_one_parameter_tree_holds_every_stage(nets):
  g, d, gp, dp, _ = nets
  assert {f'to_rgb_{s}' for s in range(4)} <= set(gp['params'])
  assert {f'from_rgb_{s}' for s in range(4)} <= set(dp['params'])
  assert pg.widths(32, 8, 4) == [8, 8, 4, 2]  # min(fmap_base / 2^(s+1), fmap_max)
  assert g.apply(gp, nets[4], stage=1, alpha=0.5).shape == (8, 8, 8, 1)
  assert g.apply(gp, nets[4]).shape == (8, 28, 28, 1)  # the final stage, cropped to the data


@pytest.mark.parametrize('stage', [1, 3])
def test_alpha_0_is_the_previous_stage_and_alpha_1_the_new_path_exactly(nets, stage):
  g, d, gp, dp, z = nets
  res = pg.stage_resolution(stage)
  x = jnp.asarray(np.random.default_rng(6).uniform(-1, 1, (8, res, res, 1)), jnp.float32)
  if stage == 3:  # the final stage: G crops to 28, D pads to 32 with -1; compare in the 32 frame
    x = jnp.pad(x[:, 2:-2, 2:-2], ((0, 0), (2, 2), (2, 2), (0, 0)), constant_values=-1.0)
  old_g = g.apply(gp, z, stage=stage - 1, alpha=1.0)
  old_d = d.apply(dp, pg.downscale(x), stage=stage - 1, alpha=1.0)
  if stage == 3:
    x = x[:, 2:-2, 2:-2]
  old_g = pg.upscale(old_g)
  np.testing.assert_array_equal(
      g.apply(gp, z, stage=stage, alpha=0.0), old_g[:, 2:-2, 2:-2] if stage == 3 else old_g
  )
  np.testing.assert_array_equal(d.apply(dp, x, stage=stage, alpha=0.0), old_d)
  # alpha 0: the new layers do not count; alpha 1: the old toRGB / fromRGB do not
  bump = lambda p, name: jax.tree_util.tree_map(lambda a: a + 1.0, p[name])
  new_g = {'params': {**gp['params'], f'to_rgb_{stage}': bump(gp['params'], f'to_rgb_{stage}')}}
  old_rgb = {
      'params': {**gp['params'], f'to_rgb_{stage - 1}': bump(gp['params'], f'to_rgb_{stage - 1}')}
  }
  np.testing.assert_array_equal(
      g.apply(new_g, z, stage=stage, alpha=0.0), g.apply(gp, z, stage=stage, alpha=0.0)
  )
  np.testing.assert_array_equal(
      g.apply(old_rgb, z, stage=stage, alpha=1.0), g.apply(gp, z, stage=stage, alpha=1.0)
  )
  old_from = {
      'params': {
          **dp['params'],
          f'from_rgb_{stage - 1}': bump(dp['params'], f'from_rgb_{stage - 1}'),
      }
  }
  np.testing.assert_array_equal(
      d.apply(old_from, x, stage=stage, alpha=1.0), d.apply(dp, x, stage=stage, alpha=1.0)
  )
  mid = g.apply(gp, z, stage=stage, alpha=0.25)
  assert not np.array_equal(mid, g.apply(gp, z, stage=stage, alpha=1.0))


def test_fade_reals_blends_the_blurred_and_the_sharp_images():
  x = jnp.asarray(np.random.default_rng(7).uniform(size=(2, 8, 8, 3)), jnp.float32)
  np.testing.assert_array_equal(pg.fade_reals(x, 1.0), x)
  blurred = pg.upscale(pg.downscale(x))
  np.testing.assert_array_equal(pg.fade_reals(x, 0.0), blurred)
  np.testing.assert_allclose(pg.fade_reals(x, 0.25), 0.75 * blurred + 0.25 * x, rtol=1e-6)


@pytest.mark.parametrize(
    'shape, match',
    [
        ((27, 27, 1), 'even or a power of two'),
        ((2048, 2048, 3), '4 to 1024'),
        ((8, 6, 1), 'square'),
    ],
)
def test_bad_shapes_are_refused_with_one_line(shape, match):
  with pytest.raises(ValueError, match=match):
    build_models('progan', shape, **FIELDS)


def test_conditional_pair_joins_labels_to_z_and_projects_in_d():
  """conditioning='projection': G's first layer reads [z, one_hot(y)] (K more inputs), D's logit
  is the unconditional head's plus <V[y], phi(x)>: equal to it where V[y] = 0."""
  g, d = build_models('progan', (8, 8, 1), num_classes=3, conditioning='projection', **FIELDS)
  g0, d0 = build_models('progan', (8, 8, 1), **FIELDS)
  z, x, y = jnp.ones((4, 8)), jnp.linspace(-1, 1, 256).reshape(4, 8, 8, 1), jnp.array([0, 1, 2, 0])
  gp, dp = _normal_params(g, z, y), _normal_params(d, x, y)
  assert gp['params']['dense_0']['kernel'].shape[0] == 8 + 3
  out = lambda label: g.apply(gp, z, jnp.full((4,), label))
  assert out(0).shape == (4, 8, 8, 1) and not np.allclose(out(0), out(1))
  projected = d.apply(dp, x, y)
  plain = dict(dp['params'])
  embed = plain.pop('embed')['embedding']
  np.testing.assert_allclose(d0.apply({'params': plain}, x), d.apply(
      {'params': {**plain, 'embed': {'embedding': jnp.zeros_like(embed)}}}, x, y), rtol=1e-5)
  assert not np.allclose(projected, d0.apply({'params': plain}, x))
  with pytest.raises(ValueError, match='class-conditional: pass labels'):
    g.apply(gp, z)
