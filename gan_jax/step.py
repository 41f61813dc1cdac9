"""The train step: k discriminator updates, one generator update, the EMA.

`build_train_step(...)` returns one jitted pure function
  train_steps(state, batches, rng) -> (state, metrics)
that runs `train.steps_per_call` iterations (a scan; small models are otherwise
bound by dispatch) on `batches` of shape (steps_per_call, d_steps, B, ...): a
fresh real batch per D update, split over the devices along B. The state is
replicated; metrics are averaged over the iterations (the FAULTS counters
combine by their own op). The static D loop is
unrolled in the trace: XLA:CPU compiles convolutions inside loop bodies to slow
naive code (jax-ml/jax#12868).

An update whose loss, gradients or new batch statistics are not all finite is
refused (a `lax.cond`, as optax.apply_if_finite): that network's parameters,
statistics, optimizer state (and EMA) stay as they were. The metrics count the
refused updates and name the first step that had one (`FAULTS`); the host
decides at log and checkpoint time whether to stop (`train.on_nonfinite`), so
the step needs no device sync.
"""

import jax
import jax.numpy as jnp
import optax

from gan_jax import regularizers
from gan_jax.losses import LOSSES
from gan_jax.regularizers import PENALTIES
from gan_jax.sharding import batch_sharding, replicated


def _apply(module, params, state, x, **kwargs):
  """module.apply in train mode -> (output, updated non-param variables)."""
  if not state:
    return module.apply({'params': params}, x, train=True, **kwargs), state
  out, updates = module.apply(
      {'params': params, **state}, x, train=True, mutable=list(state), **kwargs
  )
  return out, {**state, **updates}


def _tree_mean(trees):
  return jax.tree_util.tree_map(lambda *xs: sum(xs) / len(xs), *trees)


NEVER = jnp.iinfo(jnp.int32).max  # first_skip_* when no update was refused
# Metrics about refused updates and how they combine over iterations and calls: how many
# D / G updates were refused, and the first step (the state.step it was to produce) that had one.
FAULTS = {
    'skipped_d': jnp.add,
    'skipped_g': jnp.add,
    'first_skip_d': jnp.minimum,
    'first_skip_g': jnp.minimum,
}
NO_FAULTS = {'skipped_d': 0, 'skipped_g': 0, 'first_skip_d': NEVER, 'first_skip_g': NEVER}


@jax.jit
def combine_faults(a, b):
  """The FAULTS of two stretches of training, one after the other."""
  return {k: op(a[k], b[k]) for k, op in FAULTS.items()}


def _all_finite(loss, trees):
  """True iff `loss` and every float leaf of `trees` are finite (a scalar bool)."""
  leaves = [x for x in jax.tree_util.tree_leaves(trees) if jnp.issubdtype(x.dtype, jnp.inexact)]
  return jnp.all(jnp.stack([jnp.isfinite(loss), *(jnp.all(jnp.isfinite(x)) for x in leaves)]))


def _apply_if(ok, apply, old):
  """apply() if ok else `old`: a refused update leaves its part of the state as it was."""
  return jax.lax.cond(ok, apply, lambda: old)


def build_train_step(config, generator, discriminator, g_tx, d_tx, mesh):
  loss = LOSSES[config.loss.name]
  penalties = {n: config.reg[n] for n in PENALTIES if config.reg[n] > 0}
  clip, noise0 = config.reg.clip, config.reg.instance_noise
  d_steps, noise_steps = config.train.d_steps, config.reg.instance_noise_steps
  ema_decay = config.train.ema_decay
  rows = batch_sharding(mesh)

  def noisy(rng, x, step):
    if noise0 <= 0:
      return x
    std = regularizers.instance_noise_std(step, noise0, noise_steps)
    return regularizers.add_instance_noise(rng, x, std)

  def sample_fake(state, rng, n):
    z = jax.lax.with_sharding_constraint(jax.random.normal(rng, (n, generator.z_dim)), rows)
    return lambda g_params: _apply(generator, g_params, state.g_state, z)

  def d_update(state, real, rng):
    k_z, k_noise, k_drop, k_pen = jax.random.split(rng, 4)
    # G's BatchNorm statistics move only in G's own step.
    fake, _ = sample_fake(state, k_z, real.shape[0])(state.g_params)
    fake = jax.lax.stop_gradient(fake)
    if clip > 0:  # WGAN clips before each critic step (the first one included) and after it
      state = state.replace(d_params=regularizers.clip_weights(state.d_params, clip))

    def objective(d_params):
      x = noisy(k_noise, jnp.concatenate([real, fake]), state.step)
      logits, d_state = _apply(discriminator, d_params, state.d_state, x, rngs={'dropout': k_drop})
      real_logits, fake_logits = jnp.split(logits, 2)
      d_fn = lambda x: discriminator.apply({'params': d_params, **d_state}, x, train=False)
      pens = {
          n: PENALTIES[n](d_fn, d_params, real, fake, jax.random.fold_in(k_pen, i))
          for i, n in enumerate(penalties)
      }
      d_loss = loss.d(real_logits, fake_logits)
      total = d_loss + sum(penalties[n] * p for n, p in pens.items())
      metrics = {
          'd_loss': d_loss,
          'd_total': total,
          'd_real': jnp.mean(real_logits),
          'd_fake': jnp.mean(fake_logits),
          **{f'reg_{n}': p for n, p in pens.items()},
      }
      return total, (d_state, metrics)

    grads, (d_state, metrics) = jax.grad(objective, has_aux=True)(state.d_params)

    def apply():
      updates, d_opt = d_tx.update(grads, state.d_opt, state.d_params)
      d_params = optax.apply_updates(state.d_params, updates)
      if clip > 0:
        d_params = regularizers.clip_weights(d_params, clip)
      return d_params, d_state, d_opt

    ok = _all_finite(metrics['d_total'], (grads, d_state))
    d_params, d_state, d_opt = _apply_if(ok, apply, (state.d_params, state.d_state, state.d_opt))
    return state.replace(d_params=d_params, d_state=d_state, d_opt=d_opt), metrics, ok

  def g_update(state, rng, batch_size):
    k_z, k_noise, k_drop = jax.random.split(rng, 3)
    generate = sample_fake(state, k_z, batch_size)

    def objective(g_params):
      fake, g_state = generate(g_params)
      logits, _ = _apply(
          discriminator,
          state.d_params,
          state.d_state,
          noisy(k_noise, fake, state.step),
          rngs={'dropout': k_drop},
      )
      return loss.g(logits), g_state

    (g_loss, g_state), grads = jax.value_and_grad(objective, has_aux=True)(state.g_params)

    def apply():
      updates, g_opt = g_tx.update(grads, state.g_opt, state.g_params)
      g_params = optax.apply_updates(state.g_params, updates)
      ema = jax.tree_util.tree_map(
          lambda e, p: ema_decay * e + (1 - ema_decay) * p, state.ema_params, g_params
      )
      return g_params, g_state, g_opt, ema

    ok = _all_finite(g_loss, (grads, g_state))
    old = (state.g_params, state.g_state, state.g_opt, state.ema_params)
    g_params, g_state, g_opt, ema = _apply_if(ok, apply, old)
    state = state.replace(g_params=g_params, g_state=g_state, g_opt=g_opt, ema_params=ema)
    return state, {'g_loss': g_loss}, ok

  def train_step(state, batch, rng):
    keys = jax.random.split(jax.random.fold_in(rng, state.step), d_steps + 1)
    d_metrics, d_ok = [], []
    for i in range(d_steps):  # unrolled on purpose, see the module docstring
      state, m, ok = d_update(state, batch[i], keys[i])
      d_metrics.append(m)
      d_ok.append(ok)
    state, g_metrics, g_ok = g_update(state, keys[-1], batch.shape[1])
    step = state.step + 1
    skipped_d = jnp.sum(~jnp.stack(d_ok), dtype=jnp.int32)
    faults = {
        'skipped_d': skipped_d,
        'skipped_g': (~g_ok).astype(jnp.int32),
        'first_skip_d': jnp.where(skipped_d > 0, step, NEVER),
        'first_skip_g': jnp.where(g_ok, NEVER, step),
    }
    return state.replace(step=step), {**_tree_mean(d_metrics), **g_metrics, **faults}

  def train_steps(state, batches, rng):
    """`steps_per_call` iterations; batches (steps_per_call, d_steps, B, ...)."""
    if batches.shape[0] == 1:  # no loop body: keeps convolutions off XLA:CPU's slow path
      return train_step(state, batches[0], rng)
    state, metrics = jax.lax.scan(lambda s, b: train_step(s, b, rng), state, batches)
    reduce = lambda k, m: FAULTS[k].reduce(m, axis=0) if k in FAULTS else jnp.mean(m, axis=0)
    return state, {k: reduce(k, m) for k, m in metrics.items()}

  rep = replicated(mesh)
  return jax.jit(
      train_steps,
      in_shardings=(rep, batch_sharding(mesh, 2), rep),
      out_shardings=(rep, rep),
      donate_argnums=0,
  )
