"""The two players' objectives as pure functions of (params, variables, inputs, rng).

A `Game` holds what the objectives are made of: the two modules, the loss (gan_jax/losses.py),
the weighted penalties (gan_jax/regularizers.py), the transform of D's input (gan_jax/d_input.py)
and the weight of ACGAN's class loss. Every call of D goes through `Game.d`, which applies
`d_input` first.

  D minimises  loss.d(D(t(x)), D(t(G(z)))) + sum_n lambda_n penalty_n(D o t)
               [+ w (CE(c(t(x)), y) + CE(c(t(G(z, y'))), y'))]           (ACGAN)
  G minimises  loss.g(D(t(G(z))))  [+ w CE(c(t(G(z, y'))), y')]

with t the D-input transform and c D's auxiliary class head (Odena et al. 2017).
"""

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import optax

from gan_jax.regularizers import PENALTIES


def apply_train(module, params, variables, x, y=None, rngs=None):
  """module.apply in train mode -> (output, updated non-param variables)."""
  kwargs = {'rngs': rngs} if rngs else {}
  if y is not None:
    kwargs['y'] = y
  if not variables:
    return module.apply({'params': params}, x, train=True, **kwargs), variables
  out, updates = module.apply(
      {'params': params, **variables}, x, train=True, mutable=list(variables), **kwargs
  )
  return out, {**variables, **updates}


def split_d_output(out):
  """D's output -> (logits (B,), class logits (B, K) or None)."""
  return out if isinstance(out, tuple) else (out, None)


def class_loss(class_logits, labels):
  """Mean softmax cross-entropy of the class head against integer labels."""
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(class_logits, labels))


@dataclasses.dataclass(frozen=True)
class Game:
  generator: Any
  discriminator: Any
  loss: Any  # losses.Loss
  penalties: dict  # name -> weight (> 0)
  d_input: Any  # d_input.DInput
  acgan: float = 0.0  # weight of the class loss (D with a class head)

  def generate(self, g_params, g_state, z, y=None):
    """G(z, y) in train mode -> (samples, G's updated statistics)."""
    return apply_train(self.generator, g_params, g_state, z, y)

  def d(self, d_params, d_state, x, y, rng, step, dropout):
    """D(t(x), y) in train mode -> (output, D's updated statistics); rng feeds t."""
    return apply_train(
        self.discriminator, d_params, d_state, self.d_input(rng, x, step), y, {'dropout': dropout}
    )


def d_objective(game, d_params, d_state, inputs, rng):
  """(total, (new d_state, metrics)); inputs: real, fake (fixed samples), y_real, y_fake, step."""
  k_noise, k_drop, k_pen = rng
  real, fake, step = inputs['real'], inputs['fake'], inputs['step']
  y = inputs.get('y_real')
  y_both = None if y is None else jnp.concatenate([y, inputs['y_fake']])
  out, d_state = game.d(
      d_params, d_state, jnp.concatenate([real, fake]), y_both, k_noise, step, k_drop
  )
  logits, class_logits = split_d_output(out)
  real_logits, fake_logits = jnp.split(logits, 2)

  def d_fn(k, y):  # D at fixed parameters and statistics, for the penalties
    def fn(x):
      labels = {} if y is None else {'y': y}
      x = x if game.d_input.is_identity else game.d_input(k, x, step)
      out = game.discriminator.apply({'params': d_params, **d_state}, x, train=False, **labels)
      return split_d_output(out)[0]

    return fn

  pens = {}
  for i, n in enumerate(game.penalties):
    k = jax.random.fold_in(k_pen, i)
    pens[n] = PENALTIES[n](d_fn(jax.random.fold_in(k, 1), y), d_params, real, fake, k)
  d_loss = game.loss.d(real_logits, fake_logits)
  total = d_loss + sum(game.penalties[n] * p for n, p in pens.items())
  metrics = {
      'd_loss': d_loss,
      'd_real': jnp.mean(real_logits),
      'd_fake': jnp.mean(fake_logits),
      **{f'reg_{n}': p for n, p in pens.items()},
  }
  if game.acgan and class_logits is not None:
    metrics['d_class'] = class_loss(class_logits, y_both)
    total = total + game.acgan * metrics['d_class']
  metrics['d_total'] = total
  return total, (d_state, metrics)


def g_objective(game, fake, d_params, d_state, inputs, rng):
  """G's loss against D at (d_params, d_state) -> (loss, metrics); `fake` = G(z, y_fake)."""
  k_noise, k_drop = rng
  y = inputs.get('y_fake')
  out, _ = game.d(d_params, d_state, fake, y, k_noise, inputs['step'], k_drop)
  logits, class_logits = split_d_output(out)
  g_loss = game.loss.g(logits)
  metrics = {'g_loss': g_loss}
  if game.acgan and class_logits is not None:
    metrics['g_class'] = class_loss(class_logits, y)
    g_loss = g_loss + game.acgan * metrics['g_class']
  return g_loss, metrics
