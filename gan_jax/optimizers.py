"""Optimizer registry: `OPTIMIZERS[name](**fields) -> optax.GradientTransformation`.

Every field is a keyword with a default, so `config.optim.g` / `config.optim.d`
(name plus fields) are validated against the builder's signature; each builder
checks its values (`FieldError`).

Every builder takes a learning-rate schedule: `schedule` in {'none', 'linear', 'cosine'}
over `decay_steps` updates of that optimizer, from `lr` down to `lr * decay_to`, then held:
  linear: lr_t = lr * (1 - (1 - decay_to) * min(t, T) / T)
  cosine: lr_t = lr * (decay_to + (1 - decay_to) * (1 + cos(pi * min(t, T) / T)) / 2)
(t counts this optimizer's updates from 0, T = decay_steps). `schedule='none'` passes the
constant `lr` to optax as before (bit-identical runs). (The field is not called `decay`:
that is RMSProp's averaging constant.)

`warmup_steps` = W > 0 puts a linear warm-up from 0 before that schedule, which then counts its
updates from the end of the warm-up (optax.join_schedules):
  t < W:  lr_t = lr * t / W
  t >= W: lr_t = the schedule above at t - W (the constant lr for schedule='none')
W = 0 (the default) builds the optimizer exactly as without the field.
`hold_steps` = H > 0 holds the constant `lr` for H updates before the decay schedule, which then
counts its updates from the end of the hold (pix2pix's lr policy: constant for the first half,
then linear to 0: schedule='linear', hold_steps = decay_steps = num_steps / 2):
  t < H:  lr_t = lr;   t >= H: lr_t = the schedule above at t - H
(after any warm-up). H = 0 (the default) builds the optimizer exactly as without the field.
`sgd_momentum` (the 2014 GAN code's pylearn2 SGD) has its own schedules of rate and momentum
instead (OWN_RATES).
"""

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from gan_jax.checks import FieldError, check_choice, check_number
from gan_jax.registries import OPTIMIZERS  # pylint: disable=unused-import (re-exported)

SCHEDULES = ('none', 'linear', 'cosine')


def _unit(name, value):
  return check_number(name, value, low=0, high_open=1)


def learning_rate(
    lr, schedule='none', decay_steps=0, decay_to=0.0, warmup_steps=0, hold_steps=0
):
  """`lr` (a float) when `schedule='none'` and `warmup_steps=0`, else an optax schedule
  t -> lr_t (module docstring).

  `lr` may be a traced array (a vectorized group's runs each have their own, gan_jax/step.py);
  its value was checked in the config.
  """
  if not isinstance(lr, jax.Array):
    check_number('lr', lr, low=0, low_open=True)
  check_choice('schedule', schedule, SCHEDULES)
  check_number('decay_steps', decay_steps, integer=True, low=0)
  check_number('decay_to', decay_to, low=0)
  if decay_to > 1:
    raise FieldError(f'decay_to={decay_to!r}: must be <= 1 (a fraction of lr)')
  check_number('warmup_steps', warmup_steps, integer=True, low=0)
  check_number('hold_steps', hold_steps, integer=True, low=0)
  rate = _decay(lr, schedule, decay_steps, decay_to)
  if hold_steps and callable(rate):  # a constant rate needs no hold
    rate = optax.join_schedules([optax.constant_schedule(lr), rate], [hold_steps])
  if not warmup_steps:
    return rate
  after = rate if callable(rate) else optax.constant_schedule(rate)
  return optax.join_schedules([optax.linear_schedule(0.0, lr, warmup_steps), after], [warmup_steps])


def _decay(lr, schedule, decay_steps, decay_to):
  """The decay schedule of the module docstring (the float `lr` for 'none')."""
  if schedule == 'none':
    return lr
  if decay_steps < 1:
    raise FieldError(f'decay_steps={decay_steps!r}: must be >= 1 with schedule={schedule!r}')
  if schedule == 'linear':
    return optax.linear_schedule(lr, lr * decay_to, decay_steps)
  return optax.cosine_decay_schedule(lr, decay_steps, alpha=decay_to)


def adam(
    *,
    lr=2e-4,
    b1=0.5,
    b2=0.999,
    eps=1e-8,
    schedule='none',
    decay_steps=0,
    decay_to=0.0,
    warmup_steps=0,
    hold_steps=0,
):
  """Adam (Kingma & Ba 2015); DCGAN's (2e-4, 0.5), WGAN-GP's (1e-4, 0, 0.9)."""
  rate = learning_rate(lr, schedule, decay_steps, decay_to, warmup_steps, hold_steps)
  check_number('eps', eps, low=0, low_open=True)
  return optax.adam(rate, b1=_unit('b1', b1), b2=_unit('b2', b2), eps=eps)


def rmsprop(
    *,
    lr=5e-5,
    decay=0.99,
    eps=1e-8,
    initial_scale=0.0,
    eps_in_sqrt=False,
    schedule='none',
    decay_steps=0,
    decay_to=0.0,
    warmup_steps=0,
    hold_steps=0,
):
  """RMSProp, the WGAN paper's optimizer: ms_t = decay ms_{t-1} + (1 - decay) g^2 from
  ms_0 = initial_scale, update -lr g / (sqrt(ms_t) + eps). The defaults are PyTorch's form;
  TensorFlow 1's RMSPropOptimizer (WGAN-GP's released code) starts at ms_0 = 1 and puts eps
  inside the root, -lr g / sqrt(ms_t + eps): initial_scale=1.0, eps_in_sqrt=True."""
  rate = learning_rate(lr, schedule, decay_steps, decay_to, warmup_steps, hold_steps)
  check_number('eps', eps, low=0, low_open=True)
  check_number('initial_scale', initial_scale, low=0)
  if not isinstance(eps_in_sqrt, bool):
    raise FieldError(f'eps_in_sqrt={eps_in_sqrt!r}: must be True or False')
  return optax.rmsprop(
      rate,
      decay=_unit('decay', decay),
      eps=eps,
      initial_scale=initial_scale,
      eps_in_sqrt=eps_in_sqrt,
  )


def sgd(
    *,
    lr=0.1,
    momentum=0.0,
    schedule='none',
    decay_steps=0,
    decay_to=0.0,
    warmup_steps=0,
    hold_steps=0,
):
  """SGD with optional momentum (the 2014 paper used momentum 0.5 to 0.7)."""
  rate = learning_rate(lr, schedule, decay_steps, decay_to, warmup_steps, hold_steps)
  return optax.sgd(rate, momentum=_unit('momentum', momentum) or None)


class MomentumState(NamedTuple):
  count: jax.Array  # updates made so far (int32)
  velocity: Any  # pylearn2's `vel`, a pytree like the parameters


def sgd_momentum_rates(
    t,
    *,
    lr=0.1,
    lr_decay=1.000004,
    min_lr=1e-6,
    momentum=0.5,
    final_momentum=0.7,
    momentum_start=1,
    momentum_saturate=250,
    epoch_steps=500,
):
  """(lr_t, m_t) of `sgd_momentum` at update t (counted from 0; an int or an int array):

    lr_t = max(lr * exp(-t ln(lr_decay)), min_lr)       (= lr / lr_decay^t, floored)
    m_t  = momentum + (final_momentum - momentum) * clip((e + 1 - start) / (saturate - start), 0, 1)
           with e = t // epoch_steps the epoch (a step function at saturate == start).

  pylearn2's ExponentialDecay divides the rate after every update (sgd.py, ExponentialDecay.
  __call__) and its MomentumAdjustor moves the momentum once per epoch, its count being 1 in the
  first epoch (learning_rule.py, MomentumAdjustor.current_momentum, called once before training
  and after each epoch). The power is taken as an exponential of a float64 log: 1.000004 is not
  a float32 number (its nearest is 1.00000405, a 1 % faster decay)."""
  t = jnp.asarray(t)
  rate = jnp.maximum(lr * jnp.exp(-t.astype(jnp.float32) * math.log(lr_decay)), min_lr)
  count = t // epoch_steps + 1  # pylearn2's count during epoch t // epoch_steps
  span = momentum_saturate - momentum_start
  if span:
    alpha = jnp.clip((count - momentum_start) / span, 0.0, 1.0)
  else:
    alpha = (count >= momentum_start).astype(jnp.float32)
  return rate, momentum + (final_momentum - momentum) * alpha


def sgd_momentum(
    *,
    lr=0.1,
    lr_decay=1.000004,
    min_lr=1e-6,
    momentum=0.5,
    final_momentum=0.7,
    momentum_start=1,
    momentum_saturate=250,
    epoch_steps=500,
):
  """SGD with momentum as pylearn2 writes it, with the 2014 GAN paper's schedules (its released
  goodfeli/adversarial mnist.yaml, the defaults here: learning_rate .1 line 58, Momentum
  init_momentum .5 line 60, ExponentialDecay decay_factor 1.000004 and min_lr .000001 lines
  92-93, MomentumAdjustor start 1, saturate 250 (epochs), final_momentum .7 lines 102-104;
  epoch_steps = 50,000 digits / batch 100):

    v_t = m_t v_{t-1} - lr_t g_t,   theta_t = theta_{t-1} + v_t   (v_0 = 0)

  with lr_t, m_t of `sgd_momentum_rates` (pylearn2's learning_rule.Momentum.get_updates: the
  rate inside the velocity, unlike optax.sgd's trace). lr_decay 1 and final_momentum = momentum
  give SGD with constant rate and momentum."""
  fields = dict(
      lr=lr,
      lr_decay=lr_decay,
      min_lr=min_lr,
      momentum=momentum,
      final_momentum=final_momentum,
      momentum_start=momentum_start,
      momentum_saturate=momentum_saturate,
      epoch_steps=epoch_steps,
  )
  if not isinstance(lr, jax.Array):
    check_number('lr', lr, low=0, low_open=True)
  check_number('lr_decay', lr_decay, low=1)
  check_number('min_lr', min_lr, low=0)
  _unit('momentum', momentum)
  _unit('final_momentum', final_momentum)
  check_number('momentum_start', momentum_start, integer=True, low=0)
  check_number('momentum_saturate', momentum_saturate, integer=True, low=momentum_start)
  check_number('epoch_steps', epoch_steps, integer=True, low=1)

  def init(params):
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    return MomentumState(jnp.zeros([], jnp.int32), zeros)

  def update(grads, state, params=None):
    del params
    rate, m = sgd_momentum_rates(state.count, **fields)
    velocity = jax.tree_util.tree_map(lambda v, g: m * v - rate * g, state.velocity, grads)
    return velocity, MomentumState(optax.safe_int32_increment(state.count), velocity)

  return optax.GradientTransformation(init, update)


# OPTIMIZERS (name -> the builders above) is declared in gan_jax/registries.py: configs read it.
# Optimizers whose rate follows a schedule of their own: name -> fn(t, **fields) -> (lr_t, ...).
OWN_RATES = {'sgd_momentum': sgd_momentum_rates}


def build_optimizer(name, **fields):
  """The optimizer `name` with its fields (`config.optim.g` / `.d` unpacked)."""
  return OPTIMIZERS[name](**fields)


def learning_rates(config, step) -> dict:
  """{'lr/g': ..., 'lr/d': ...}: the learning rates of the next updates after `step`
  iterations (for TensorBoard), from the config's schedules: G has made `step` updates, D
  `step * train.d_steps` (refused non-finite updates counted too)."""
  updates = {'g': step, 'd': step * config.train.d_steps}
  rates = {}
  for net in ('g', 'd'):
    fields = config.optim[net]
    if 'lr' not in fields:
      continue
    if fields.name in OWN_RATES:
      own = {k: v for k, v in fields.items() if k != 'name'}
      rates[f'lr/{net}'] = float(OWN_RATES[fields.name](updates[net], **own)[0])
      continue
    keys = ('schedule', 'decay_steps', 'decay_to', 'warmup_steps', 'hold_steps')
    rate = learning_rate(fields.lr, **{k: fields[k] for k in keys if k in fields})
    rates[f'lr/{net}'] = float(rate(updates[net]) if callable(rate) else rate)
  return rates
