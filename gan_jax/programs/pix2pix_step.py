"""pix2pix (Isola et al. 2017): its networks, state and one compiled training iteration.

`build_pix2pix(config) -> Pix2Pix` checks the config and builds everything a run needs (the
paired data and their test split, G and D of gan_jax/models/translation, the optimizers, the
loss, the mesh, the state's shapes) before anything is written; `Pix2PixStep(p).jitted()` is the
step. The state is the suite's TrainState (gan_jax/state.py): G, D, both optimizers, G's EMA
(parameters and batch statistics), so checkpoints, resume and fault counts are the GAN run's.

One iteration on an aligned batch {'a': input, 'b': target} (as the reference's
Pix2PixModel.optimize_parameters; its dropout key folded from the run's key and state.step):

  fake = G(a)                          (one forward, train mode: batch statistics, dropout on)
  D update: L_D = 1/2 [ loss.d(D(a, b), D(a, fake)) ]        (the reference halves D's loss)
            D(a, x) = D(concat(a, x)) with pix2pix.d_conditional, D(x) without; fake's gradient
            stopped; D sees the fake pair first, then the real one (each in train mode, the
            batch statistics carried from one call to the next)
  G update, against the updated D (in train mode; its statistics left as they were):
            L_G = gan_weight * loss.g(D(a, fake)) + lambda_l1 * mean |fake - b|
            (loss 'non_saturating' is the reference's 'vanilla' GANLoss: G minimises
            BCE(D(a, G(a)), 1); D's side 1/2 [BCE(D(a, b), 1) + BCE(D(a, G(a)), 0)])
  EMA of G (gan_jax/ema.py, train.ema_decay; 0 keeps the live weights)

An update whose loss, gradients or statistics are not all finite is refused and counted
(gan_jax/updates.py, the FAULTS of gan_jax/step.py). Metrics: d_loss (halved), d_real, d_fake
(mean logits), g_gan, g_l1, g_loss (the weighted sum).
"""

import dataclasses

import jax
import jax.numpy as jnp

from gan_jax import rng
from gan_jax import config as config_lib
from gan_jax.checkpoint import abstract_like
from gan_jax.data import get_dataset
from gan_jax.ema import ema_decay, ema_update
from gan_jax.errors import FieldError, UserError
from gan_jax.losses import build_loss
from gan_jax.models.translation import TRANSLATION_MODELS, build_translation_models
from gan_jax.optimizers import build_optimizer
from gan_jax.sharding import make_mesh, replicated
from gan_jax.state import TrainState
from gan_jax.programs.iteration_calls import IterationCalls
from gan_jax.step import iteration_faults
from gan_jax.updates import all_finite, apply_if, optimizer_step


@dataclasses.dataclass
class Pix2Pix:
  """What a pix2pix config builds (`build_pix2pix`)."""

  config: object
  source: object  # the training pairs (gan_jax/data/edges2mnist.PairedSource)
  test_source: object  # the held-out pairs: samples and metrics
  generator: object
  discriminator: object
  g_tx: object
  d_tx: object
  loss: object  # gan_jax.losses.Loss
  mesh: object
  input_shape: tuple  # one input image (H, W, C_a); `source.shape` is one target's
  init_state: object  # jitted rng -> TrainState, replicated
  abstract_state: object


def checked(section, build):
  """build() with its errors as one-line UserErrors naming config.<section>."""
  try:
    return build()
  except FieldError as e:
    raise UserError(f'config.{section}.{e}') from None
  except (ValueError, TypeError, OSError, KeyError) as e:
    raise UserError(f'config.{section}: {e}') from None


def _paired_data(config):
  """(train source, test source) of config.data: a paired dataset with a 'test' split."""
  fields = config_lib.entry_fields(config.data)
  name = config.data.name
  source = checked('data', lambda: get_dataset(name, **fields))
  if not hasattr(source, 'input_shape') or 'split' not in fields:
    raise UserError(f'config.data.name={name!r}: pix2pix needs aligned pairs (e.g. edges2mnist)')
  test = checked('data', lambda: get_dataset(name, **{**fields, 'split': 'test'}))
  if source.num_examples < config.train.batch_size:
    raise UserError(
        f'config.train.batch_size={config.train.batch_size}: more than the '
        f'{source.num_examples} pairs of {name}'
    )
  return source, test


def d_pair(conditional, a, x):
  """What D judges: concat(a, x) along channels (conditional), or x alone."""
  return jnp.concatenate([a, x], axis=-1) if conditional else x


def init_state(rng, generator, discriminator, g_tx, d_tx, input_shape, shape, conditional):
  """A fresh TrainState (pure: run it under jit / eval_shape)."""
  k_g, k_d, k_drop = jax.random.split(rng, 3)
  a, b = jnp.zeros((2, *input_shape), jnp.float32), jnp.zeros((2, *shape), jnp.float32)
  g_vars = dict(generator.init({'params': k_g, 'dropout': k_drop}, a, train=False))
  d_vars = dict(discriminator.init({'params': k_d}, d_pair(conditional, a, b), train=False))
  g_params, d_params = g_vars.pop('params'), d_vars.pop('params')
  return TrainState(
      step=jnp.zeros((), jnp.int32),
      g_params=g_params,
      g_state=g_vars,
      d_params=d_params,
      d_state=d_vars,
      g_opt=g_tx.init(g_params),
      d_opt=d_tx.init(d_params),
      ema_params=g_params,
      ema_state=g_vars,
  )


# XLA options of the initialisation: it runs once, and XLA:CPU's backend optimisations of its
# random number generation take 15 times the compile time of the whole initialisation without.
INIT_OPTIONS = {'xla_backend_optimization_level': 0}


def compiled_once(init, mesh):
  """rng -> init(rng), replicated over `mesh`, compiled with INIT_OPTIONS on first use (and
  reused: a vectorized group initialises each of its runs with it)."""
  jitted, compiled = jax.jit(init, out_shardings=replicated(mesh)), []

  def call(rng):
    if not compiled:
      compiled.append(jitted.lower(rng).compile(compiler_options=INIT_OPTIONS))
    return compiled[0](rng)

  return call


def build_pix2pix(config, num_devices=None) -> Pix2Pix:
  """Checks and builds a pix2pix run of `config` (UserError, one line, for what is off)."""
  try:
    config = config_lib.prepare(config, num_devices or jax.device_count())
  except config_lib.ConfigError as e:
    raise UserError(str(e)) from None
  if config.model.name not in TRANSLATION_MODELS:
    names = ', '.join(TRANSLATION_MODELS)
    raise UserError(f'config.model.name={config.model.name!r}: pix2pix needs one of {names}')
  source, test = _paired_data(config)
  shape, input_shape = tuple(source.shape), tuple(source.input_shape)
  fields = config_lib.entry_fields(config.model)
  g, d = checked('model', lambda: build_translation_models(config.model.name, shape, **fields))
  g_tx = checked('optim.g', lambda: build_optimizer(**config.optim.g))
  d_tx = checked('optim.d', lambda: build_optimizer(**config.optim.d))
  loss = checked('loss', lambda: build_loss(config.loss))
  mesh, conditional = make_mesh(), bool(config.pix2pix.d_conditional)
  init = lambda rng: init_state(rng, g, d, g_tx, d_tx, input_shape, shape, conditional)
  abstract = checked(
      'model', lambda: abstract_like(jax.eval_shape(init, rng.key(0)), replicated(mesh))
  )
  parts = (g, d, g_tx, d_tx, loss, mesh, input_shape, compiled_once(init, mesh), abstract)
  return Pix2Pix(config, source, test, *parts)


def run_optimizers(p, hp):
  """(g_tx, d_tx) of a run: the built ones for a run alone (hp None), else config.optim's rebuilt
  with the learning rates of `hp` (a vectorized group's run: traced)."""
  if hp is None:
    return p.g_tx, p.d_tx
  optim = p.config.optim
  return tuple(build_optimizer(**{**optim[n], 'lr': hp[f'optim.{n}.lr']}) for n in 'gd')


class Pix2PixStep(IterationCalls):
  """The pure iteration of the module docstring, and its jitted form over calls. Its weights
  (pix2pix.lambda_l1, gan_weight, train.ema_decay) and learning rates are the config's, compiled
  in as constants, or with `hp` (a group's run: {field: traced scalar} of config_lib.hparams)
  that run's."""

  def __init__(self, p: Pix2Pix, hp=None):
    self.g, self.d, self.loss = p.generator, p.discriminator, p.loss
    self.g_tx, self.d_tx = run_optimizers(p, hp)
    c = p.config
    w = config_lib.hparams(c) if hp is None else hp
    self.lambda_l1, self.gan_weight = w['pix2pix.lambda_l1'], w['pix2pix.gan_weight']
    self.conditional, self.decay = bool(c.pix2pix.d_conditional), w['train.ema_decay']
    self.mesh = p.mesh

  def g_apply(self, params, state, a, rng):
    """(G(a) in train mode, G's new batch statistics)."""
    return self.g.apply(
        {'params': params, **state}, a, train=True, rngs={'dropout': rng}, mutable=list(state)
    )

  def d_apply(self, params, state, x):
    """(D's logits on x in train mode, D's new batch statistics)."""
    return self.d.apply({'params': params, **state}, x, train=True, mutable=list(state))

  def d_loss(self, d_params, d_state, a, b, fake):
    """1/2 loss.d(D(a, b), D(a, fake)) and D's statistics after both calls."""
    fake_logits, d_state = self.d_apply(d_params, d_state, d_pair(self.conditional, a, fake))
    real_logits, d_state = self.d_apply(d_params, d_state, d_pair(self.conditional, a, b))
    loss = 0.5 * self.loss.d(real_logits, fake_logits)
    metrics = {'d_loss': loss, 'd_real': jnp.mean(real_logits), 'd_fake': jnp.mean(fake_logits)}
    return loss, (d_state, metrics)

  def g_loss(self, fake, d_params, d_state, a, b):
    """gan_weight * loss.g(D(a, fake)) + lambda_l1 * mean |fake - b| (a function of fake)."""
    logits, _ = self.d_apply(d_params, d_state, d_pair(self.conditional, a, fake))
    gan, l1 = self.loss.g(logits), jnp.mean(jnp.abs(fake - b))
    total = self.gan_weight * gan + self.lambda_l1 * l1
    return total, {'g_gan': gan, 'g_l1': l1, 'g_loss': total}

  def d_update(self, state, a, b, fake):
    grad = jax.value_and_grad(self.d_loss, has_aux=True)
    (loss, (d_state, metrics)), grads = grad(state.d_params, state.d_state, a, b, fake)
    ok = all_finite(loss, (grads, d_state))

    def apply():
      return (*optimizer_step(self.d_tx, grads, state.d_opt, state.d_params), d_state)

    d_params, d_opt, d_state = apply_if(ok, apply, (state.d_params, state.d_opt, state.d_state))
    return state.replace(d_params=d_params, d_opt=d_opt, d_state=d_state), metrics, ok

  def iteration(self, state, batch, rng):
    """One iteration on batch {'a', 'b'} (leaves (B, ...)); returns (state, metrics)."""
    a, b, key = batch['a'], batch['b'], jax.random.fold_in(rng, state.step)
    forward = lambda p: self.g_apply(p, state.g_state, a, key)
    fake, g_vjp, g_state = jax.vjp(forward, state.g_params, has_aux=True)
    state, d_metrics, d_ok = self.d_update(state, a, b, jax.lax.stop_gradient(fake))
    grad = jax.value_and_grad(self.g_loss, has_aux=True)
    (loss, g_metrics), d_fake = grad(fake, state.d_params, state.d_state, a, b)
    (grads,) = g_vjp(d_fake)
    g_ok = all_finite(loss, (grads, g_state))

    def apply():
      g_params, g_opt = optimizer_step(self.g_tx, grads, state.g_opt, state.g_params)
      decay = ema_decay(state.step, self.decay)
      ema = ema_update((state.ema_params, state.ema_state), (g_params, g_state), decay)
      return g_params, g_opt, g_state, *ema

    old = (state.g_params, state.g_opt, state.g_state, state.ema_params, state.ema_state)
    g_params, g_opt, g_state, ema_params, ema_state = apply_if(g_ok, apply, old)
    step = state.step + 1
    state = state.replace(
        step=step,
        g_params=g_params,
        g_opt=g_opt,
        g_state=g_state,
        ema_params=ema_params,
        ema_state=ema_state,
    )
    return state, {**d_metrics, **g_metrics, **iteration_faults((d_ok,), g_ok, step)}
