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
"""

import jax
import optax

from gan_jax.checks import FieldError, check_choice, check_number

SCHEDULES = ('none', 'linear', 'cosine')


def _unit(name, value):
  return check_number(name, value, low=0, high_open=1)


def learning_rate(lr, schedule='none', decay_steps=0, decay_to=0.0, warmup_steps=0):
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
  rate = _decay(lr, schedule, decay_steps, decay_to)
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
):
  """Adam (Kingma & Ba 2015); DCGAN's (2e-4, 0.5), WGAN-GP's (1e-4, 0, 0.9)."""
  rate = learning_rate(lr, schedule, decay_steps, decay_to, warmup_steps)
  check_number('eps', eps, low=0, low_open=True)
  return optax.adam(rate, b1=_unit('b1', b1), b2=_unit('b2', b2), eps=eps)


def rmsprop(
    *, lr=5e-5, decay=0.99, eps=1e-8, schedule='none', decay_steps=0, decay_to=0.0, warmup_steps=0
):
  """RMSProp as PyTorch writes it (eps outside the square root), the WGAN paper's optimizer."""
  rate = learning_rate(lr, schedule, decay_steps, decay_to, warmup_steps)
  check_number('eps', eps, low=0, low_open=True)
  return optax.rmsprop(rate, decay=_unit('decay', decay), eps=eps, eps_in_sqrt=False)


def sgd(*, lr=0.1, momentum=0.0, schedule='none', decay_steps=0, decay_to=0.0, warmup_steps=0):
  """SGD with optional momentum (the 2014 paper used momentum 0.5 to 0.7)."""
  rate = learning_rate(lr, schedule, decay_steps, decay_to, warmup_steps)
  return optax.sgd(rate, momentum=_unit('momentum', momentum) or None)


OPTIMIZERS = {'adam': adam, 'rmsprop': rmsprop, 'sgd': sgd}


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
    keys = ('schedule', 'decay_steps', 'decay_to', 'warmup_steps')
    rate = learning_rate(fields.lr, **{k: fields[k] for k in keys if k in fields})
    rates[f'lr/{net}'] = float(rate(updates[net]) if callable(rate) else rate)
  return rates
