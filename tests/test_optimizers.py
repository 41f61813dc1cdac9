"""The learning-rate schedule of the optimizer builders: off is today's optimizer bit for bit,
on follows the documented linear / cosine formulas, and bad values are one-line errors."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gan_jax.checks import FieldError
from gan_jax.optimizers import OPTIMIZERS, OWN_RATES, learning_rate

PLAIN = {
    'adam': lambda: optax.adam(5e-4, b1=0.5, b2=0.9, eps=1e-8),
    'rmsprop': lambda: optax.rmsprop(5e-5, decay=0.99, eps=1e-8, eps_in_sqrt=False),
    'sgd': lambda: optax.sgd(0.1, momentum=0.5),
}
FIELDS = {
    'adam': dict(lr=5e-4, b1=0.5, b2=0.9),
    'rmsprop': dict(lr=5e-5),
    'sgd': dict(lr=0.1, momentum=0.5),
}


def _updates(tx, steps=5):
  """The parameters after `steps` updates on fixed pseudo-random gradients."""
  params = {'w': jnp.linspace(-1.0, 1.0, 12).reshape(3, 4), 'b': jnp.ones(4)}
  state = tx.init(params)
  for i in range(steps):
    grads = jax.tree_util.tree_map(lambda p, i=i: jnp.sin(3.0 * p + i) + 0.1 * i, params)
    updates, state = tx.update(grads, state, params)
    params = optax.apply_updates(params, updates)
  return params


@pytest.mark.parametrize('name', sorted(set(OPTIMIZERS) - set(OWN_RATES)))  # own: test_paper_blocks
def test_schedule_none_is_todays_optimizer_bit_for_bit(name):
  for off in ({}, {'schedule': 'none', 'decay_steps': 0}, {'schedule': 'none', 'decay_steps': 7}):
    got = _updates(OPTIMIZERS[name](**FIELDS[name], **off))
    want = _updates(PLAIN[name]())
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
      np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


def test_schedule_none_is_the_constant():
  assert learning_rate(5e-4) == 5e-4
  assert learning_rate(5e-4, 'none', 100, 0.5) == 5e-4


@pytest.mark.parametrize('decay_to', [0.0, 0.1])
def test_schedule_values(decay_to):
  lr, steps = 1e-3, 1000
  linear = learning_rate(lr, 'linear', steps, decay_to)
  cosine = learning_rate(lr, 'cosine', steps, decay_to)
  for t in (0, 1, 250, 500, 999, 1000, 1500, 5000):
    frac = min(t, steps) / steps
    np.testing.assert_allclose(
        linear(t), lr * (1 - (1 - decay_to) * frac), rtol=1e-6, atol=lr * 1e-6
    )
    np.testing.assert_allclose(
        cosine(t),
        lr * (decay_to + (1 - decay_to) * (1 + math.cos(math.pi * frac)) / 2),
        rtol=1e-6,
        atol=lr * 1e-6,
    )
  assert float(linear(0)) == pytest.approx(lr) and float(cosine(0)) == pytest.approx(lr)
  assert float(linear(steps)) == pytest.approx(lr * decay_to, rel=1e-6, abs=1e-12)


def test_the_schedule_reaches_the_updates():
  """SGD without momentum steps by -lr_t * g: the t-th update carries the t-th rate."""
  tx = OPTIMIZERS['sgd'](lr=0.1, schedule='linear', decay_steps=4, decay_to=0.0)
  params = jnp.zeros(())
  state = tx.init(params)
  steps = []
  for _ in range(6):
    updates, state = tx.update(jnp.ones(()), state, params)
    steps.append(float(-updates))
  np.testing.assert_allclose(steps, [0.1, 0.075, 0.05, 0.025, 0.0, 0.0], atol=1e-7)


@pytest.mark.parametrize(
    'fields,message',
    [
        (dict(schedule='step'), r"schedule='step': allowed: none, linear, cosine"),
        (dict(schedule='linear'), r"decay_steps=0: must be >= 1 with schedule='linear'"),
        (dict(schedule='cosine', decay_steps=-1), r'decay_steps=-1: must be >= 0'),
        (dict(schedule='cosine', decay_steps=10.5), r'decay_steps=10.5: must be an integer'),
        (dict(schedule='linear', decay_steps=10, decay_to=1.5), r'decay_to=1.5: must be <= 1'),
        (dict(schedule='linear', decay_steps=10, decay_to=-0.1), r'decay_to=-0.1: must be >= 0'),
    ],
)
@pytest.mark.parametrize('name', sorted(set(OPTIMIZERS) - set(OWN_RATES)))
def test_bad_schedule_fields(name, fields, message):
  with pytest.raises(FieldError, match=message):
    OPTIMIZERS[name](**fields)


def test_bad_schedule_is_a_config_error(make_config):
  from gan_jax.experiment import UserError, build_experiment  # pylint: disable=g-import-not-at-top

  config = make_config()
  config.optim.g.schedule = 'exp'
  with pytest.raises(UserError, match=r"config.optim.g.schedule='exp': allowed: none, linear"):
    build_experiment(config)


@pytest.mark.parametrize('name', sorted(set(OPTIMIZERS) - set(OWN_RATES)))
def test_warmup_0_is_todays_optimizer_bit_for_bit(name):
  for schedule in ({}, {'schedule': 'linear', 'decay_steps': 3, 'decay_to': 0.1}):
    got = _updates(OPTIMIZERS[name](**FIELDS[name], **schedule, warmup_steps=0))
    want = _updates(OPTIMIZERS[name](**FIELDS[name], **schedule))
    for g, w in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
      np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
  assert learning_rate(5e-4, warmup_steps=0) == 5e-4  # the float optax took before


@pytest.mark.parametrize('schedule', ['none', 'linear', 'cosine'])
def test_warmup_values_at_the_boundaries(schedule):
  """lr * t / W during the warm-up, then the schedule counted from its end (module docstring)."""
  lr, warmup, steps, decay_to = 1e-3, 10, 100, 0.2
  rate = learning_rate(lr, schedule, steps, decay_to, warmup_steps=warmup)
  after = learning_rate(lr, schedule, steps, decay_to)
  after = after if callable(after) else (lambda t: lr)
  for t, want in [(0, 0.0), (1, lr / 10), (5, lr / 2), (9, lr * 0.9)]:
    np.testing.assert_allclose(rate(t), want, rtol=1e-6, atol=1e-12)
  for t in (10, 11, 60, 110, 500):
    np.testing.assert_allclose(rate(t), after(t - warmup), rtol=1e-6, atol=1e-12)
  np.testing.assert_allclose(rate(warmup), lr, rtol=1e-6)
  if schedule != 'none':
    np.testing.assert_allclose(rate(warmup + steps), lr * decay_to, rtol=1e-5)


def test_warmup_reaches_the_updates():
  tx = OPTIMIZERS['sgd'](lr=0.1, warmup_steps=4)
  params, steps = jnp.zeros(()), []
  state = tx.init(params)
  for _ in range(6):
    updates, state = tx.update(jnp.ones(()), state, params)
    steps.append(float(-updates))
  np.testing.assert_allclose(steps, [0.0, 0.025, 0.05, 0.075, 0.1, 0.1], atol=1e-7)


def test_warmup_is_logged_as_the_learning_rates(make_config):
  from gan_jax.config import with_defaults  # pylint: disable=g-import-not-at-top
  from gan_jax.optimizers import learning_rates  # pylint: disable=g-import-not-at-top

  config = with_defaults(make_config())  # tiny_config: d_steps=2, so D has made 2 updates a step
  config.optim.g.warmup_steps, config.optim.d.warmup_steps = 10, 40
  rates = learning_rates(config, 5)
  lr_g, lr_d = config.optim.g.lr, config.optim.d.lr
  assert rates['lr/g'] == pytest.approx(lr_g * 5 / 10) and rates['lr/d'] == pytest.approx(lr_d / 4)


@pytest.mark.parametrize('value', [-1, 2.5])
def test_bad_warmup_steps(value):
  with pytest.raises(FieldError, match=f'warmup_steps={value}: must be'):
    OPTIMIZERS['adam'](warmup_steps=value)


def test_rmsprop_in_tensorflows_form_starts_its_mean_square_at_1_with_eps_in_the_root():
  """TF 1's RMSPropOptimizer (WGAN-GP's toy code): ms_0 = 1, update -lr g / sqrt(ms + eps)."""
  lr, decay, eps = 5e-5, 0.9, 1e-10
  tx = OPTIMIZERS['rmsprop'](lr=lr, decay=decay, eps=eps, initial_scale=1.0, eps_in_sqrt=True)
  w, ms = np.array([0.3, -2.0, 0.0]), np.ones(3)
  params = {'w': jnp.asarray(w, jnp.float32)}
  state = tx.init(params)
  for t in range(3):
    g = np.array([1.0, -0.5, 4.0]) * (t + 1)
    ms = decay * ms + (1 - decay) * g**2
    w = w - lr * g / np.sqrt(ms + eps)
    updates, state = tx.update({'w': jnp.asarray(g, jnp.float32)}, state, params)
    params = optax.apply_updates(params, updates)
  np.testing.assert_allclose(np.asarray(params['w']), w, rtol=1e-6)
  with pytest.raises(FieldError, match='eps_in_sqrt=1: must be True or False'):
    OPTIMIZERS['rmsprop'](eps_in_sqrt=1)
