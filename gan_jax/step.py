"""The train step: k discriminator updates, one generator update, the EMA.

`build_train_step(exp)` returns one jitted pure function
  train_steps(state, batches, rng) -> (state, metrics)
that runs as many iterations as `batches` has rows (a scan when more than one; small models are
otherwise bound by dispatch). `batches` is a dict pytree ({'x', 'y'}) of leaves
(iterations, d_steps, B, ...): a fresh real batch per D update, split over the devices along B.
The state is replicated; metrics are averaged over the iterations (the FAULTS counters combine by
their own op). The static D loop is unrolled in the trace: XLA:CPU compiles convolutions inside
loop bodies to slow naive code (jax-ml/jax#12868).

The parts: the objectives (gan_jax/objectives.py, with the one D-input transform of
gan_jax/d_input.py), guarded updates (gan_jax/updates.py: an update whose loss, gradients or new
statistics are not all finite is refused and counted in `FAULTS`; the host decides at log and
checkpoint time whether to stop, `train.on_nonfinite`), the EMA (gan_jax/ema.py) and, with
`train.unroll_steps` = K > 0, the unrolled GAN (Metz et al. 2017): G's loss is taken against
D_K, D after K differentiable D updates (optimizer included) on the iteration's real batches and
G's samples, so that G's gradient sees how D would respond; the real D takes only its own
update. For a zero-sum loss (`zero_sum`: minimax, Wasserstein, f-GAN's saturating G loss) G
minimises the game's value at D_K, f_K = -loss.d(D_K(x), D_K(G(z))) (the paper's eq. 7 and its
authors' notebook: G's loss plus the real-data term, which depends on G through D_K); for the
other losses, G's own loss at D_K. With `train.simultaneous`, G's gradient is taken against D
as it was at the start of the iteration (the released code of Goodfellow et al. 2014 and of
PacGAN computes both players' gradients at the same point and applies them together); otherwise
against D after its updates.
"""

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from gan_jax import regularizers
from gan_jax.d_input import DInput
from gan_jax.ema import ema_decay, ema_update
from gan_jax.losses import build_loss
from gan_jax.objectives import Game, d_objective, g_objective, split_d_output
from gan_jax.optimizers import build_optimizer
from gan_jax.regularizers import PENALTIES
from gan_jax.schema import entry_fields, hparams
from gan_jax.sharding import batch_sharding, replicated
from gan_jax.updates import all_finite, apply_if, optimizer_step

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


def _tree_mean(trees):
  return jax.tree_util.tree_map(lambda *xs: sum(xs) / len(xs), *trees)


def _row(tree, i):
  return jax.tree_util.tree_map(lambda a: a[i], tree)


def iteration_faults(d_oks, g_ok, step):
  """One iteration's FAULTS: its refused D updates (`d_oks`, one flag per D step) and G update,
  and `step` where one was refused."""
  skipped_d = jnp.sum(~jnp.stack(d_oks), dtype=jnp.int32)
  return {
      'skipped_d': skipped_d,
      'skipped_g': (~g_ok).astype(jnp.int32),
      'first_skip_d': jnp.where(skipped_d > 0, step, NEVER),
      'first_skip_g': jnp.where(g_ok, NEVER, step),
  }


def zero_sum(loss):
  """Whether `loss` (a gan_jax.losses.Loss) is a zero-sum game: G's loss is minus the fake-data
  part of D's, i.e. d(r, f) + g(f) does not depend on f (probed at a few logits)."""
  r = jnp.array([0.3])
  sums = [loss.d(r, f) + loss.g(f) for f in (jnp.array([v]) for v in (-3.0, -1.5, 0.0, 0.7, 2.0))]
  return bool(jnp.allclose(jnp.stack(sums), sums[0], atol=1e-5))


def fake_labels(rng, real_labels, n, num_classes, how):
  """Labels of G's samples: uniform over the classes, or ('data') a shuffle of real labels."""
  if how == 'data':
    return jax.random.permutation(rng, real_labels)[:n]
  return jax.random.randint(rng, (n,), 0, num_classes, jnp.int32)


@dataclasses.dataclass(frozen=True)
class StepSpec:
  """What the step computes besides the networks, read from the (defaulted, validated) config
  once by build_experiment: the step takes these parts, not the config."""

  loss: Any  # gan_jax.losses.Loss
  penalties: tuple  # names of the penalties that are on (their weights: hparams)
  clip: bool  # WGAN's weight clipping on (its bound: hparams['reg.clip'])
  acgan: float  # weight of ACGAN's class loss
  d_input: DInput  # the D-input transform (its noise std: hparams['d_input.instance_noise'])
  d_steps: int
  unroll_steps: int
  zero_sum: bool  # G's unrolled loss is the game's value at D_K (module docstring)
  fake_labels: str  # 'uniform' or 'data'
  simultaneous: bool  # G's gradient at the iteration's first D (train.simultaneous)
  optim: dict  # {'g': fields, 'd': fields}: the optimizers, rebuilt with a traced lr in a group
  hparams: dict  # {field: float} of the VECTORIZABLE fields (gan_jax.schema.hparams)

  @classmethod
  def from_config(cls, config):
    t = config.train
    loss = build_loss(config.loss)
    return cls(
        loss=loss,
        penalties=tuple(n for n in PENALTIES if config.reg[n] > 0),
        clip=config.reg.clip > 0,
        acgan=float(config.reg.acgan),
        d_input=DInput.from_config(config.d_input),
        d_steps=int(t.d_steps),
        unroll_steps=int(t.unroll_steps),
        zero_sum=zero_sum(loss),
        fake_labels=t.fake_labels,
        simultaneous=bool(t.simultaneous),
        optim={n: {'name': config.optim[n].name, **entry_fields(config.optim[n])} for n in 'gd'},
        hparams=hparams(config),
    )


class _RunStep:
  """The un-jitted step of one run, its hyperparameters (the config's VECTORIZABLE fields) read
  from `hp`: Python floats for a run alone (compile-time constants), traced arrays inside a
  vectorized group. `train_steps` is the function that gets jitted (or vmapped); the rest are
  its parts, each a pure function of arrays."""

  def __init__(self, spec, generator, discriminator, g_tx, d_tx, mesh, num_classes, hp):
    self.game = Game(
        generator,
        discriminator,
        spec.loss,
        {n: hp[f'reg.{n}'] for n in spec.penalties},
        dataclasses.replace(spec.d_input, noise=hp['d_input.instance_noise']),
        spec.acgan,
    )
    self.spec, self.g_tx, self.d_tx, self.num_classes = spec, g_tx, d_tx, num_classes
    self.decay = hp['train.ema_decay']
    self.clip = hp['reg.clip']  # on: spec.clip, a compile-time choice; the bound: hp
    self.rows = batch_sharding(mesh)

  def noise(self, rng, n):
    z = jax.random.normal(rng, (n, self.game.generator.z_dim))
    return jax.lax.with_sharding_constraint(z, self.rows)

  def labels(self, rng, real, n):
    if not self.num_classes:
      return None
    return fake_labels(rng, real['y'], n, self.num_classes, self.spec.fake_labels)

  @staticmethod
  def inputs(state, real, fake, y_fake):
    out = {'real': real['x'], 'fake': fake, 'step': state.step}
    return out if y_fake is None else {**out, 'y_real': real['y'], 'y_fake': y_fake}

  def d_grads(self, d_params, d_state, inputs, rng):
    """D's gradient -> (params as updated from (clipped for WGAN), grads, new stats, metrics)."""
    if self.spec.clip:  # WGAN clips before each critic step (the first one included) and after
      d_params = regularizers.clip_weights(d_params, self.clip)
    objective = lambda p: d_objective(self.game, p, d_state, inputs, rng)
    grads, (d_state, metrics) = jax.grad(objective, has_aux=True)(d_params)
    return d_params, grads, d_state, metrics

  def d_apply(self, d_params, grads, d_opt):
    d_params, d_opt = optimizer_step(self.d_tx, grads, d_opt, d_params)
    return (regularizers.clip_weights(d_params, self.clip) if self.spec.clip else d_params), d_opt

  def d_update(self, state, real, rng):
    k_z, k_noise, k_drop, k_pen = jax.random.split(rng, 4)
    n = real['x'].shape[0]
    y_fake = self.labels(jax.random.fold_in(rng, 7), real, n)
    # G's BatchNorm statistics move only in G's own step.
    fake, _ = self.game.generate(state.g_params, state.g_state, self.noise(k_z, n), y_fake)
    d_in = self.inputs(state, real, jax.lax.stop_gradient(fake), y_fake)
    d_params, grads, d_state, metrics = self.d_grads(
        state.d_params, state.d_state, d_in, (k_noise, k_drop, k_pen)
    )
    ok = all_finite(metrics['d_total'], (grads, d_state))
    apply = lambda: (*self.d_apply(d_params, grads, state.d_opt), d_state)
    d_params, d_opt, d_state = apply_if(ok, apply, (d_params, state.d_opt, state.d_state))
    return state.replace(d_params=d_params, d_state=d_state, d_opt=d_opt), metrics, ok

  def unrolled_d(self, state, batch, fake, y_fake, rng):
    """D's parameters and statistics after `unroll_steps` differentiable updates against
    `fake`."""
    d_params, d_state, d_opt = state.d_params, state.d_state, state.d_opt
    for j in range(self.spec.unroll_steps):  # in the trace: convolutions stay off the loop path
      d_in = self.inputs(state, _row(batch, j % self.spec.d_steps), fake, y_fake)
      keys = tuple(jax.random.split(jax.random.fold_in(rng, j), 3))
      d_params, grads, d_state, _ = self.d_grads(d_params, d_state, d_in, keys)
      d_params, d_opt = self.d_apply(d_params, grads, d_opt)
    return d_params, d_state

  def real_value(self, d_params, d_state, real, step, rng):
    """The real-data term of a zero-sum game's value at D: -d(D(x), c) - g(c), the same for
    every c (zero_sum), so that G's loss plus it is -d(D(x), D(G(z)))."""
    k_noise, k_drop = jax.random.split(rng)
    y = real['y'] if self.num_classes else None
    out, _ = self.game.d(d_params, d_state, real['x'], y, k_noise, step, k_drop)
    logits = split_d_output(out)[0]
    c = jnp.zeros_like(logits)
    return -(self.game.loss.d(logits, c) + self.game.loss.g(c))

  def g_grads(self, state, batch, rng):
    """(G's loss, (its new statistics, metrics)), its gradient: against D, or against D_K after
    the unrolled updates (plus the value's real-data term for a zero-sum loss; the metric
    g_loss stays G's own loss)."""
    k_z, k_noise, k_drop = jax.random.split(rng, 3)
    last = _row(batch, self.spec.d_steps - 1)
    n = last['x'].shape[0]
    y_fake = self.labels(jax.random.fold_in(rng, 7), last, n)
    g_in = self.inputs(state, last, None, y_fake)

    def objective(g_params):
      fake, g_state = self.game.generate(g_params, state.g_state, self.noise(k_z, n), y_fake)
      d_params, d_state = state.d_params, state.d_state
      if self.spec.unroll_steps:
        d_params, d_state = self.unrolled_d(state, batch, fake, y_fake, jax.random.fold_in(rng, 8))
      loss, metrics = g_objective(self.game, fake, d_params, d_state, g_in, (k_noise, k_drop))
      if self.spec.unroll_steps and self.spec.zero_sum:
        k_real = jax.random.fold_in(rng, 9)
        loss = loss + self.real_value(d_params, d_state, last, state.step, k_real)
      return loss, (g_state, metrics)

    return jax.value_and_grad(objective, has_aux=True)(state.g_params)

  def g_update(self, state, batch, rng):
    (g_loss, (g_state, metrics)), grads = self.g_grads(state, batch, rng)

    def apply():
      g_params, g_opt = optimizer_step(self.g_tx, grads, state.g_opt, state.g_params)
      decay_t = ema_decay(state.step, self.decay)
      ema_params = ema_update(state.ema_params, g_params, decay_t)
      return g_params, g_state, g_opt, ema_params, ema_update(state.ema_state, g_state, decay_t)

    ok = all_finite(g_loss, (grads, g_state))
    old = (state.g_params, state.g_state, state.g_opt, state.ema_params, state.ema_state)
    g_params, g_state, g_opt, ema_params, ema_state = apply_if(ok, apply, old)
    state = state.replace(
        g_params=g_params, g_state=g_state, g_opt=g_opt, ema_params=ema_params, ema_state=ema_state
    )
    return state, metrics, ok

  def train_step(self, state, batch, rng):
    """One iteration; batch leaves (d_steps, B, ...)."""
    d_steps = self.spec.d_steps
    keys = jax.random.split(jax.random.fold_in(rng, state.step), d_steps + 1)
    d_metrics, d_ok, first = [], [], state
    for i in range(d_steps):  # unrolled on purpose, see the module docstring
      state, m, ok = self.d_update(state, _row(batch, i), keys[i])
      d_metrics.append(m)
      d_ok.append(ok)
    if self.spec.simultaneous:  # G's update against D as it was before D's updates
      d_now = {k: getattr(state, k) for k in ('d_params', 'd_state', 'd_opt')}
      before = {k: getattr(first, k) for k in d_now}
      state, g_metrics, g_ok = self.g_update(state.replace(**before), batch, keys[-1])
      state = state.replace(**d_now)
    else:
      state, g_metrics, g_ok = self.g_update(state, batch, keys[-1])
    step = state.step + 1
    return state.replace(step=step), {
        **_tree_mean(d_metrics),
        **g_metrics,
        **iteration_faults(d_ok, g_ok, step),
    }

  def train_steps(self, state, batches, rng):
    """As many iterations as `batches` has rows; leaves (iterations, d_steps, B, ...)."""
    if jax.tree_util.tree_leaves(batches)[0].shape[0] == 1:  # no loop: convolutions stay fast
      return self.train_step(state, _row(batches, 0), rng)
    state, metrics = jax.lax.scan(lambda s, b: self.train_step(s, b, rng), state, batches)
    reduce = lambda k, m: FAULTS[k].reduce(m, axis=0) if k in FAULTS else jnp.mean(m, axis=0)
    return state, {k: reduce(k, m) for k, m in metrics.items()}


def _train_steps(spec, generator, discriminator, g_tx, d_tx, mesh, num_classes, hp):
  """The un-jitted train_steps(state, batches, rng) of one run (_RunStep)."""
  return _RunStep(spec, generator, discriminator, g_tx, d_tx, mesh, num_classes, hp).train_steps


def build_train_step(exp):
  """The jitted train_steps(state, batches, rng) -> (state, metrics) of the run `exp` (a
  gan_jax.experiment.Experiment): its networks, optimizers, mesh and `exp.step_spec`.
  """
  spec = exp.step_spec
  train_steps = _train_steps(
      spec,
      exp.generator,
      exp.discriminator,
      exp.g_tx,
      exp.d_tx,
      exp.mesh,
      exp.num_classes,
      spec.hparams,
  )
  rep = replicated(exp.mesh)
  return jax.jit(
      train_steps,
      in_shardings=(rep, batch_sharding(exp.mesh, 2), rep),
      out_shardings=(rep, rep),
      donate_argnums=0,
  )


def build_group_step(exp):
  """S runs that share the program of `exp` (an Experiment built from one of them), as one
  jitted step over a leading run axis:

    group_steps(states, batches, rngs, hp, alive) -> (states, metrics)

  states: TrainStates stacked along axis 0; batches: leaves (S, iterations, d_steps, B, ...),
  each run's own data; rngs: (S,) keys; hp: {field: (S,) float32} of the VECTORIZABLE fields
  (gan_jax.schema.hparams); alive: (S,) bool. Each run's step is `vmap`ped: run i computes
  exactly what it would alone with hp[i] (up to the float rounding of a traced learning rate or
  weight instead of a constant). A run that is not alive keeps its state (its updates masked):
  the host stops a diverged run that way while the rest of its group goes on. Metrics have a
  leading run axis. The states are replicated; each batch is split along B over the devices, as
  for one run.
  """
  spec, mesh = exp.step_spec, exp.mesh

  def one(state, batches, rng, hp, alive):
    g_tx, d_tx = (
        build_optimizer(**{**spec.optim[n], 'lr': hp[f'optim.{n}.lr']}) for n in ('g', 'd')
    )
    step = _train_steps(
        spec, exp.generator, exp.discriminator, g_tx, d_tx, mesh, exp.num_classes, hp
    )
    new, metrics = step(state, batches, rng)
    return jax.tree_util.tree_map(lambda n, o: jnp.where(alive, n, o), new, state), metrics

  rep = replicated(mesh)
  return jax.jit(
      jax.vmap(one),
      in_shardings=(rep, batch_sharding(mesh, 3), rep, rep, rep),
      out_shardings=(rep, rep),
      donate_argnums=0,
  )
