"""CycleGAN (Zhu et al. 2017): its networks, state, image pools and one compiled iteration.

`build_cyclegan(config) -> CycleGan` checks the config and builds everything a run needs (the
unpaired data and their test split, one generator and one discriminator architecture of
gan_jax/models/translation used twice each, the optimizers, the loss, the mesh, the state's
shapes) before anything is written; `CycleGanStep(c).jitted()` is the step.

The state (`CycleState`) is the suite's TrainState with both players' pairs as dicts:
g_params = {'ab': G_AB, 'ba': G_BA} (one optimizer, g_opt, over both, as the reference's
optimizer_G), d_params = {'a': D_A, 'b': D_B} (D_X judges domain X; the reference's netD_A judges
domain B), the EMA of both generators (train.ema_decay; 0 keeps the live weights), and `pool`:
the fakes each D has seen, {'a': (P, H, W, C), 'b': ..., 'count_a', 'count_b'} (P =
cyclegan.pool_size; {} for P = 0). Checkpoints hold all of it, so a resume continues bit for bit.

One iteration on an unpaired batch {'a', 'b'} (as the reference's
CycleGANModel.optimize_parameters; keys folded from the run's key and state.step):

  fake_b = G_AB(a), rec_a = G_BA(fake_b), fake_a = G_BA(b), rec_b = G_AB(fake_a)   (train mode)
  G update (both, against the current D's):
    L_G = gan_weight [loss.g(D_B(fake_b)) + loss.g(D_A(fake_a))]
        + lambda_forward mean|rec_a - a| + lambda_backward mean|rec_b - b|
        + identity_weight [lambda_backward mean|G_AB(b) - b| + lambda_forward mean|G_BA(a) - a|]
  D update (both, on the same forward's fakes, gradients stopped, each through its pool):
    L_D = 1/2 loss.d(D_A(a), D_A(pool_a(fake_a))) + 1/2 loss.d(D_B(b), D_B(pool_b(fake_b)))
  EMA of both generators (gan_jax/ema.py)

`pool_query` is the reference's ImagePool, image by image: while the pool holds fewer than P it
stores the image and returns it; once full, with probability 0.5 it returns a uniformly drawn
stored image and stores the new one in its place, else it returns the new image (draws from the
step's key). With loss 'least_squares' the GAN terms are the suite's: 1/2 E (D - 1)^2 for G, 1/2
E (D_real - 1)^2 + 1/2 E D_fake^2 for D; the reference's MSE for G is twice that
(configs/cyclegan.py sets gan_weight 2 to match it). An update whose loss, gradients or
statistics are not all finite is refused and counted (gan_jax/updates.py).
"""

import dataclasses
from typing import Any

import flax
import jax
import jax.numpy as jnp

from gan_jax import rng
from gan_jax import config as config_lib
from gan_jax.checkpoint import abstract_like
from gan_jax.data import get_dataset
from gan_jax.data.unpaired import UnpairedSource
from gan_jax.ema import ema_decay, ema_update
from gan_jax.errors import UserError
from gan_jax.losses import build_loss
from gan_jax.models.translation import TRANSLATION_MODELS, build_translation_models
from gan_jax.optimizers import build_optimizer
from gan_jax.sharding import make_mesh, replicated
from gan_jax.state import TrainState
from gan_jax.programs.iteration_calls import IterationCalls
from gan_jax.programs.pix2pix_step import checked, run_optimizers
from gan_jax.step import iteration_faults
from gan_jax.updates import all_finite, apply_if, optimizer_step

GENERATORS, DISCRIMINATORS = ('ab', 'ba'), ('a', 'b')


@flax.struct.dataclass
class CycleState(TrainState):
  """TrainState (module docstring) with the discriminators' image pools."""

  pool: Any


@dataclasses.dataclass
class CycleGan:
  """What a CycleGAN config builds (`build_cyclegan`)."""

  config: object
  source: object  # the training domains (gan_jax/data/unpaired.UnpairedSource)
  test_source: object  # the held-out ones: samples and metrics
  generator: object  # the architecture of G_AB and G_BA
  discriminator: object  # of D_A and D_B
  g_tx: object
  d_tx: object
  loss: object
  mesh: object
  input_shape: tuple  # one image (H, W, C), both domains
  init_state: object  # jitted rng -> CycleState, replicated
  abstract_state: object


def _unpaired_data(config):
  """(train source, test source) of config.data: an unpaired dataset with a 'test' split."""
  fields, name = config_lib.entry_fields(config.data), config.data.name
  source = checked('data', lambda: get_dataset(name, **fields))
  if not isinstance(source, UnpairedSource) or 'split' not in fields:
    raise UserError(f'config.data.name={name!r}: CycleGAN needs two unpaired domains')
  test = checked('data', lambda: get_dataset(name, **{**fields, 'split': 'test'}))
  if source.num_examples < config.train.batch_size:
    raise UserError(
        f'config.train.batch_size={config.train.batch_size}: more than the '
        f'{source.num_examples} images of a domain of {name}'
    )
  return source, test


def empty_pool(pool_size, shape):
  """A pool of `pool_size` (H, W, C) images per discriminator, none stored ({} for size 0)."""
  if not pool_size:
    return {}
  images = jnp.zeros((pool_size, *shape), jnp.float32)
  zero = jnp.zeros((), jnp.int32)
  return {'a': images, 'b': images, 'count_a': zero, 'count_b': zero}


def pool_query(pool, count, images, key):
  """(images for D, pool, count) after passing `images` (B, ...) one by one through a pool of
  pool.shape[0] stored images of which `count` are filled (module docstring)."""
  size = pool.shape[0]
  if size == 0:
    return images, pool, count

  def one(carry, x_key):
    stored_images, n = carry
    x, k = x_key
    k_swap, k_slot = jax.random.split(k)
    full = n >= size
    swap = full & (jax.random.uniform(k_swap) > 0.5)
    slot = jnp.where(full, jax.random.randint(k_slot, (), 0, size), n)
    old = stored_images[slot]
    stored_images = stored_images.at[slot].set(jnp.where(full & ~swap, old, x))
    return (stored_images, jnp.where(full, n, n + 1)), jnp.where(swap, old, x)

  keys = jax.random.split(key, images.shape[0])
  (pool, count), out = jax.lax.scan(one, (pool, count), (images, keys))
  return out, pool, count


def init_state(rng, generator, discriminator, g_tx, d_tx, shape, pool_size):
  """A fresh CycleState (pure: run it under jit / eval_shape)."""
  keys = jax.random.split(rng, 5)
  x = jnp.zeros((2, *shape), jnp.float32)
  g_vars = {
      n: dict(generator.init({'params': k, 'dropout': keys[4]}, x, train=False))
      for n, k in zip(GENERATORS, keys[:2])
  }
  d_vars = {
      n: dict(discriminator.init({'params': k}, x, train=False))
      for n, k in zip(DISCRIMINATORS, keys[2:4])
  }
  g_params = {n: v.pop('params') for n, v in g_vars.items()}
  d_params = {n: v.pop('params') for n, v in d_vars.items()}
  return CycleState(
      step=jnp.zeros((), jnp.int32),
      g_params=g_params,
      g_state=g_vars,
      d_params=d_params,
      d_state=d_vars,
      g_opt=g_tx.init(g_params),
      d_opt=d_tx.init(d_params),
      ema_params=g_params,
      ema_state=g_vars,
      pool=empty_pool(pool_size, shape),
  )


def build_cyclegan(config, num_devices=None) -> CycleGan:
  """Checks and builds a CycleGAN run of `config` (UserError, one line, for what is off)."""
  try:
    config = config_lib.prepare(config, num_devices or jax.device_count())
  except config_lib.ConfigError as e:
    raise UserError(str(e)) from None
  if config.model.name not in TRANSLATION_MODELS:
    names = ', '.join(TRANSLATION_MODELS)
    raise UserError(f'config.model.name={config.model.name!r}: CycleGAN needs one of {names}')
  source, test = _unpaired_data(config)
  shape = tuple(source.shape)
  fields = config_lib.entry_fields(config.model)
  g, d = checked('model', lambda: build_translation_models(config.model.name, shape, **fields))
  g_tx = checked('optim.g', lambda: build_optimizer(**config.optim.g))
  d_tx = checked('optim.d', lambda: build_optimizer(**config.optim.d))
  loss = checked('loss', lambda: build_loss(config.loss))
  mesh, pool_size = make_mesh(), int(config.cyclegan.pool_size)
  init = lambda rng: init_state(rng, g, d, g_tx, d_tx, shape, pool_size)
  abstract = checked(
      'model', lambda: abstract_like(jax.eval_shape(init, rng.key(0)), replicated(mesh))
  )
  init_jit = jax.jit(init, out_shardings=replicated(mesh))
  return CycleGan(config, source, test, g, d, g_tx, d_tx, loss, mesh, shape, init_jit, abstract)


def l1(x, y):
  return jnp.mean(jnp.abs(x - y))


class CycleGanStep(IterationCalls):
  """The pure iteration of the module docstring, and its jitted form over calls. Its weights
  (cyclegan.gan_weight, lambda_forward, lambda_backward, identity_weight, train.ema_decay) and
  learning rates are the config's, compiled in as constants, or with `hp` (a group's run:
  {field: traced scalar} of config_lib.hparams) that run's; whether the identity term is on
  (its forwards computed) is the config's either way."""

  def __init__(self, c: CycleGan, hp=None):
    self.g, self.d, self.loss = c.generator, c.discriminator, c.loss
    self.g_tx, self.d_tx = run_optimizers(c, hp)
    w = config_lib.hparams(c.config) if hp is None else hp
    self.gan_weight, self.identity = w['cyclegan.gan_weight'], w['cyclegan.identity_weight']
    self.forward, self.backward = w['cyclegan.lambda_forward'], w['cyclegan.lambda_backward']
    self.identity_on = bool(c.config.cyclegan.identity_weight)
    self.decay, self.mesh = w['train.ema_decay'], c.mesh

  def g_apply(self, params, state, name, x, key):
    """(G_name(x) in train mode, `state` with G_name's new statistics)."""
    out, new = self.g.apply(
        {'params': params[name], **state[name]},
        x,
        train=True,
        rngs={'dropout': key},
        mutable=list(state[name]),
    )
    return out, {**state, name: dict(new)}

  def d_apply(self, params, state, name, x):
    """(D_name's logits on x in train mode, `state` with D_name's new statistics)."""
    logits, new = self.d.apply(
        {'params': params[name], **state[name]}, x, train=True, mutable=list(state[name])
    )
    return logits, {**state, name: dict(new)}

  def g_loss(self, g_params, g_state, d_params, d_state, a, b, key):
    """L_G of the module docstring; aux: (fakes {'a', 'b'}, G's statistics, metrics)."""
    keys = list(jax.random.split(key, 6))
    fake_b, g_state = self.g_apply(g_params, g_state, 'ab', a, keys[0])
    rec_a, g_state = self.g_apply(g_params, g_state, 'ba', fake_b, keys[1])
    fake_a, g_state = self.g_apply(g_params, g_state, 'ba', b, keys[2])
    rec_b, g_state = self.g_apply(g_params, g_state, 'ab', fake_a, keys[3])
    logits_b, _ = self.d_apply(d_params, d_state, 'b', fake_b)  # D's statistics left as they were
    logits_a, _ = self.d_apply(d_params, d_state, 'a', fake_a)
    gan = self.loss.g(logits_b) + self.loss.g(logits_a)
    forward, backward = l1(rec_a, a), l1(rec_b, b)
    identity = jnp.zeros(())
    if self.identity_on:  # the reference skips these forwards when lambda_identity is 0
      same_b, g_state = self.g_apply(g_params, g_state, 'ab', b, keys[4])
      same_a, g_state = self.g_apply(g_params, g_state, 'ba', a, keys[5])
      identity = self.backward * l1(same_b, b) + self.forward * l1(same_a, a)
    total = self.gan_weight * gan + self.forward * forward + self.backward * backward
    total = total + self.identity * identity
    metrics = {
        'g_gan': gan,
        'g_cycle_forward': forward,
        'g_cycle_backward': backward,
        'g_identity': identity,
        'g_loss': total,
    }
    return total, ({'a': fake_a, 'b': fake_b}, g_state, metrics)

  def d_loss(self, d_params, d_state, real, fake):
    """sum over X of 1/2 loss.d(D_X(real X), D_X(pooled fake X)); aux: (D's statistics,
    metrics)."""
    total, metrics = 0.0, {}
    for name in DISCRIMINATORS:
      fake_logits, d_state = self.d_apply(d_params, d_state, name, fake[name])
      real_logits, d_state = self.d_apply(d_params, d_state, name, real[name])
      loss = 0.5 * self.loss.d(real_logits, fake_logits)
      total = total + loss
      metrics[f'd_{name}_loss'] = loss
      metrics[f'd_{name}_real'] = jnp.mean(real_logits)
      metrics[f'd_{name}_fake'] = jnp.mean(fake_logits)
    return total, (d_state, {**metrics, 'd_loss': total})

  def pooled(self, pool, fakes, key):
    """(the fakes D sees, the pool after them): each domain's through its pool."""
    if not pool:
      return fakes, pool
    out, new = {}, {}
    for name, k in zip(DISCRIMINATORS, jax.random.split(key)):
      images, count = pool[name], pool[f'count_{name}']
      out[name], new[name], new[f'count_{name}'] = pool_query(images, count, fakes[name], k)
    return out, new

  def g_update(self, state, grads, g_state, ok):
    """(g_params, g_opt, g_state, ema_params, ema_state) after G's update (refused: as before)."""

    def apply():
      g_params, g_opt = optimizer_step(self.g_tx, grads, state.g_opt, state.g_params)
      decay = ema_decay(state.step, self.decay)
      ema = ema_update((state.ema_params, state.ema_state), (g_params, g_state), decay)
      return g_params, g_opt, g_state, *ema

    old = (state.g_params, state.g_opt, state.g_state, state.ema_params, state.ema_state)
    return apply_if(ok, apply, old)

  def iteration(self, state, batch, rng):
    """One iteration on batch {'a', 'b'} (leaves (B, ...)); returns (state, metrics)."""
    a, b = batch['a'], batch['b']
    k_g, k_pool = jax.random.split(jax.random.fold_in(rng, state.step))
    g_grad = jax.value_and_grad(self.g_loss, has_aux=True)
    args = (state.g_params, state.g_state, state.d_params, state.d_state, a, b, k_g)
    (g_loss, (fakes, g_state, g_metrics)), g_grads = g_grad(*args)
    g_ok = all_finite(g_loss, (g_grads, g_state))
    fakes, pool = self.pooled(state.pool, jax.lax.stop_gradient(fakes), k_pool)
    d_grad = jax.value_and_grad(self.d_loss, has_aux=True)
    real = {'a': a, 'b': b}
    (d_loss, (d_state, d_metrics)), d_grads = d_grad(state.d_params, state.d_state, real, fakes)
    d_ok = all_finite(d_loss, (d_grads, d_state))

    def d_apply():
      return (*optimizer_step(self.d_tx, d_grads, state.d_opt, state.d_params), d_state)

    d_old = (state.d_params, state.d_opt, state.d_state)
    d_params, d_opt, d_state = apply_if(d_ok, d_apply, d_old)
    g_params, g_opt, g_state, ema_params, ema_state = self.g_update(state, g_grads, g_state, g_ok)
    step = state.step + 1
    state = state.replace(
        step=step,
        g_params=g_params,
        g_opt=g_opt,
        g_state=g_state,
        d_params=d_params,
        d_opt=d_opt,
        d_state=d_state,
        ema_params=ema_params,
        ema_state=ema_state,
        pool=pool,
    )
    return state, {**d_metrics, **g_metrics, **iteration_faults((d_ok,), g_ok, step)}
