"""Optimizer registry: `OPTIMIZERS[name](**fields) -> optax.GradientTransformation`.

Every field is a keyword with a default, so `config.optim.g` / `config.optim.d`
(name plus fields) are validated against the builder's signature.
"""

import optax


def adam(*, lr=2e-4, b1=0.5, b2=0.999, eps=1e-8):
  """Adam (Kingma & Ba 2015); DCGAN's (2e-4, 0.5), WGAN-GP's (1e-4, 0, 0.9)."""
  return optax.adam(lr, b1=b1, b2=b2, eps=eps)


def rmsprop(*, lr=5e-5, decay=0.99, eps=1e-8):
  """RMSProp, as in the WGAN paper with weight clipping (lr 5e-5)."""
  return optax.rmsprop(lr, decay=decay, eps=eps)


def sgd(*, lr=0.1, momentum=0.0):
  """SGD with optional momentum (the 2014 paper used momentum 0.5 to 0.7)."""
  return optax.sgd(lr, momentum=momentum or None)


OPTIMIZERS = {'adam': adam, 'rmsprop': rmsprop, 'sgd': sgd}


def build_optimizer(name, **fields):
  return OPTIMIZERS[name](**fields)
