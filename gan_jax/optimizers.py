"""Optimizer registry: `OPTIMIZERS[name](**fields) -> optax.GradientTransformation`.

Every field is a keyword with a default, so `config.optim.g` / `config.optim.d`
(name plus fields) are validated against the builder's signature; each builder
checks its values (`FieldError`).
"""

import optax

from gan_jax.checks import check_number


def _unit(name, value):
  return check_number(name, value, low=0, high_open=1)


def adam(*, lr=2e-4, b1=0.5, b2=0.999, eps=1e-8):
  """Adam (Kingma & Ba 2015); DCGAN's (2e-4, 0.5), WGAN-GP's (1e-4, 0, 0.9)."""
  check_number('lr', lr, low=0, low_open=True)
  check_number('eps', eps, low=0, low_open=True)
  return optax.adam(lr, b1=_unit('b1', b1), b2=_unit('b2', b2), eps=eps)


def rmsprop(*, lr=5e-5, decay=0.99, eps=1e-8):
  """RMSProp as PyTorch writes it (eps outside the square root), the WGAN paper's optimizer."""
  check_number('lr', lr, low=0, low_open=True)
  check_number('eps', eps, low=0, low_open=True)
  return optax.rmsprop(lr, decay=_unit('decay', decay), eps=eps, eps_in_sqrt=False)


def sgd(*, lr=0.1, momentum=0.0):
  """SGD with optional momentum (the 2014 paper used momentum 0.5 to 0.7)."""
  check_number('lr', lr, low=0, low_open=True)
  return optax.sgd(lr, momentum=_unit('momentum', momentum) or None)


OPTIMIZERS = {'adam': adam, 'rmsprop': rmsprop, 'sgd': sgd}


def build_optimizer(name, **fields):
  """The optimizer `name` with its fields (`config.optim.g` / `.d` unpacked)."""
  return OPTIMIZERS[name](**fields)


def learning_rates(optim, step) -> dict:
  """{'lr/g': ..., 'lr/d': ...}: the learning rates `config.optim` applies at `step` (for
  TensorBoard). Every optimizer here takes a constant `lr`; a schedule would be read here."""
  del step  # constant
  return {f'lr/{net}': float(optim[net].lr) for net in ('g', 'd') if 'lr' in optim[net]}
