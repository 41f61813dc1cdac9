"""Guarded parameter updates: an update whose inputs are not all finite is refused.

`apply_if(ok, apply, old)` is a `lax.cond`, as optax.apply_if_finite: a refused update leaves
its network's parameters, statistics, optimizer state (and EMA) as they were, and the step needs
no host sync to decide.
"""

import jax
import jax.numpy as jnp
import optax


def all_finite(loss, trees):
  """True iff `loss` and every float leaf of `trees` are finite (a scalar bool)."""
  leaves = [x for x in jax.tree_util.tree_leaves(trees) if jnp.issubdtype(x.dtype, jnp.inexact)]
  return jnp.all(jnp.stack([jnp.isfinite(loss), *(jnp.all(jnp.isfinite(x)) for x in leaves)]))


def apply_if(ok, apply, old):
  """apply() if ok else `old`."""
  return jax.lax.cond(ok, apply, lambda: old)


def optimizer_step(tx, grads, opt_state, params):
  """One optax update -> (new params, new optimizer state); differentiable (unrolled GANs)."""
  updates, opt_state = tx.update(grads, opt_state, params)
  return optax.apply_updates(params, updates), opt_state
