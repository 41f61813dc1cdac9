"""`IterationCalls`: the compiled calls of a one-workdir program whose step class defines
`iteration(state, batch, rng) -> (state, metrics)` (one pure iteration on one batch) and `mesh`.

`calls(state, batches, rng)` runs as many iterations as `batches` has rows (leaves (iterations,
B, ...)): one call of `iteration` without a loop when there is one row (XLA:CPU keeps
convolutions outside loop bodies fast), else a `lax.scan`; the metrics are the mean over the
iterations and the FAULTS counters reduced by their own rule (gan_jax/step.py). `jitted()` is
that function compiled with the state replicated, the batches split over the mesh along their
batch axis (1) and the state donated.

`group_jitted(parts)` (a classmethod: the subclass is built as `cls(parts, hp)`) is S runs of one
program as one jitted function over a leading run axis (a vectorized group, as gan_jax/step.py
build_group_step for the G/D GAN):

  group_calls(states, batches, rngs, hp, alive) -> (states, metrics)

states stacked along axis 0; batches leaves (S, iterations, B, ...), each run's own data, split
over the mesh along B (axis 2); rngs (S,) keys; hp {field: (S,) float32} of the VECTORIZABLE
fields (config_lib.hparams), which run i's step reads as traced scalars where a run alone
compiles its config's in; alive (S,) bool: a run that is not alive keeps its state. Run i
computes what it computes alone, up to the rounding of a traced weight instead of a constant.
"""

import jax
import jax.numpy as jnp

from gan_jax.sharding import batch_sharding, replicated
from gan_jax.step import FAULTS


class IterationCalls:
  """Mixin: `calls` and `jitted` over the subclass's `iteration` (module docstring)."""

  def calls(self, state, batches, rng):
    """As many iterations as `batches` has rows (leaves (iterations, B, ...))."""
    if jax.tree_util.tree_leaves(batches)[0].shape[0] == 1:  # no loop: convolutions stay fast
      return self.iteration(state, jax.tree_util.tree_map(lambda x: x[0], batches), rng)
    state, metrics = jax.lax.scan(lambda s, b: self.iteration(s, b, rng), state, batches)
    reduce = lambda k, m: FAULTS[k].reduce(m, axis=0) if k in FAULTS else jnp.mean(m, axis=0)
    return state, {k: reduce(k, m) for k, m in metrics.items()}

  def jitted(self):
    rep = replicated(self.mesh)
    return jax.jit(
        self.calls,
        in_shardings=(rep, batch_sharding(self.mesh, 1), rep),
        out_shardings=(rep, rep),
        donate_argnums=0,
    )

  @classmethod
  def group_jitted(cls, parts):
    """The vectorized group's jitted calls (module docstring) of runs built as `parts`."""

    def one(state, batches, rng, hp, alive):
      new, metrics = cls(parts, hp).calls(state, batches, rng)
      return jax.tree_util.tree_map(lambda n, o: jnp.where(alive, n, o), new, state), metrics

    rep = replicated(parts.mesh)
    return jax.jit(
        jax.vmap(one),
        in_shardings=(rep, batch_sharding(parts.mesh, 2), rep, rep, rep),
        out_shardings=(rep, rep),
        donate_argnums=0,
    )
