"""Progressive growing (Karras et al. 2018): `ProgressiveProgram(config, workdir)`, a
gan_jax.programs.Program for model.name='progan' (gan_jax/models/progan.py).

The state is the suite's TrainState (one parameter tree for every stage, so a checkpoint
restores, samples and evaluates as any run's); where the run is follows from the images shown,
step * train.batch_size, through the schedule (gan_jax/progressive_schedule.py, fields
config.progressive.*): the stage is a static Python int, one compiled step per stage (its
compile time printed), alpha is computed inside the step from state.step (traced). Calls of
the step end at each stage's first step (cadence 'stage'), where the optimizers restart when
progressive.reset_optimizer (the reference resets them). Stage, alpha and images shown are
in each checkpoint's metadata ('progressive') and in the progress line.

One iteration (train.d_steps D updates, one G update, the EMA of G), at stage s with alpha:
  reals: the batch padded to the model's resolution (with -1), average-pooled to 4 * 2^s and,
  fading, blended as G's output is (models/progan.fade_reals);
  D minimises E D(G(z)) - E D(x) + reg.gp * E (||grad D(x^)|| - 1)^2 + progressive.drift E D(x)^2
  (WGAN-GP with the epsilon-drift term), G minimises -E D(G(z)); a conditional pair (model
  conditioning='projection') scores reals with their labels y and fakes G(z, y') with labels y'
  drawn as train.fake_labels says, the penalty at the real labels; updates that are not finite
  are refused and counted as in gan_jax/step.py. Samples are drawn at the stage's resolution
  with its alpha; periodic metrics run only once the final stage has faded in.
"""

import dataclasses
import time

import jax
import jax.numpy as jnp

from gan_jax import regularizers
from gan_jax.ema import ema_decay, ema_update
from gan_jax.errors import FieldError, UserError
from gan_jax.models.progan import (
    downscale,
    fade_reals,
    final_resolution,
    num_stages,
    stage_of_resolution,
    stage_resolution,
)
from gan_jax.progressive_schedule import Schedule
from gan_jax.programs import gan
from gan_jax.sharding import batch_sharding, replicated
from gan_jax.step import FAULTS, NEVER, combine_faults, fake_labels
from gan_jax.updates import all_finite, apply_if, optimizer_step


@dataclasses.dataclass(frozen=True)
class At:
  """A cadence that is never due but makes calls end at `steps` (stage boundaries)."""

  steps: tuple

  def due(self, step, last_step):
    del step, last_step
    return False

  def next_due(self, step):
    return next((s for s in self.steps if s > step), None)


def schedule_of(config, generator) -> Schedule:
  """The run's Schedule; UserError naming config.progressive.<field> if it is off."""
  return schedule_for(config, generator.resolution)


def schedule_for(config, resolution) -> Schedule:
  """The Schedule of a grown run whose model works at `resolution` (4 * 2^S, e.g. 32 for
  MNIST's 28: models/progan.final_resolution); UserError naming config.progressive.<field>."""
  p = config.progressive
  if p.first_resolution > resolution:
    raise UserError(
        f"config.progressive.first_resolution={p.first_resolution}: above the model's "
        f'resolution {resolution}'
    )
  first_stage = stage_of_resolution(p.first_resolution)  # validated by gan_jax/config.py
  try:
    return Schedule(num_stages(resolution), p.fade_images, p.stable_images, first_stage)
  except FieldError as e:
    raise UserError(f'config.progressive.{e}') from None


def stage_ends(config, height, sample_steps) -> list:
  """[(stage, resolution, step)]: of `sample_steps` (steps a grown run on images `height` high
  drew samples at), the last one of each stage, in stage order."""
  schedule, batch = schedule_for(config, final_resolution(height)), config.train.batch_size
  ends = {}
  for step in sorted(sample_steps):
    ends[schedule.stage(max(step - 1, 0) * batch)] = step  # the stage the step's iteration ran
  return [(s, stage_resolution(s), ends[s]) for s in sorted(ends)]


def check_config(config):
  """UserError unless the config is one progressive growing trains."""
  if config.model.name != 'progan':
    raise UserError(f"config.model.name={config.model.name!r}: progressive growing needs 'progan'")
  if config.loss.name != 'wasserstein' or not config.reg.gp > 0:
    raise UserError(
        f'config.loss.name={config.loss.name!r}, config.reg.gp={config.reg.gp}: progressive '
        "growing trains WGAN-GP (loss.name='wasserstein', reg.gp > 0)"
    )


class StageStep:
  """The pure iteration of one stage (see the module docstring) and its jitted form."""

  def __init__(self, exp, schedule, stage):
    self.g, self.d, self.exp, self.stage = exp.generator, exp.discriminator, exp, stage
    self.schedule, self.last = schedule, exp.generator.num_stages - 1
    c = exp.config
    self.gp, self.drift, self.decay = c.reg.gp, c.progressive.drift, c.train.ema_decay
    self.batch, self.d_steps = c.train.batch_size, c.train.d_steps
    self.num_classes, self.fake_labels = exp.num_classes, c.train.fake_labels
    self.rows = batch_sharding(exp.mesh)

  def alpha(self, step):
    return self.schedule.alpha(step * self.batch, self.stage)

  def reals(self, x, alpha):
    """The batch at the stage's resolution (see the module docstring)."""
    b = (self.g.resolution - x.shape[1]) // 2  # the border of data smaller than 4 * 2^S
    if b:
      x = jnp.pad(x, ((0, 0), (b, b), (b, b), (0, 0)), constant_values=-1.0)
    x = downscale(x, 2 ** (self.last - self.stage))
    if self.stage > 0:
      x = fade_reals(x, alpha)
    if self.stage == self.last and b:
      x = x[:, b:-b, b:-b]
    return x

  def labels(self, rng, real_y, n):
    """Labels of G's samples (None unconditional): train.fake_labels, as gan_jax/step.py."""
    if not self.num_classes:
      return None
    return fake_labels(rng, real_y, n, self.num_classes, self.fake_labels)

  def fake(self, g_params, rng, n, alpha, y=None):
    z = jax.lax.with_sharding_constraint(jax.random.normal(rng, (n, self.g.z_dim)), self.rows)
    return self.g.apply({'params': g_params}, z, y, stage=self.stage, alpha=alpha)

  def d_fn(self, d_params, alpha, y=None):
    return lambda x: self.d.apply({'params': d_params}, x, y, stage=self.stage, alpha=alpha)

  def d_loss(self, d_params, fake, real, alpha, rng, y_fake=None, y_real=None):
    d_real = self.d_fn(d_params, alpha, y_real)
    real_scores, fake_scores = d_real(real), self.d_fn(d_params, alpha, y_fake)(fake)
    wasserstein = jnp.mean(fake_scores) - jnp.mean(real_scores)
    gp = regularizers.gradient_penalty(d_real, d_params, real, fake, rng)  # at the real labels
    drift = jnp.mean(jnp.square(real_scores))
    total = wasserstein + self.gp * gp + self.drift * drift
    return total, {'d_loss': wasserstein, 'gp': gp, 'drift': drift, 'd_total': total}

  def d_update(self, state, real, alpha, rng):
    """One D update on `real` ({'x'} or {'x', 'y'}: one batch)."""
    k_z, k_gp = jax.random.split(rng)
    n, y_real = real['x'].shape[0], real.get('y')
    y_fake = self.labels(jax.random.fold_in(rng, 2), y_real, n)
    fake = jax.lax.stop_gradient(self.fake(state.g_params, k_z, n, alpha, y_fake))
    grads, metrics = jax.grad(self.d_loss, has_aux=True)(
        state.d_params, fake, self.reals(real['x'], alpha), alpha, k_gp, y_fake, y_real
    )
    ok = all_finite(metrics['d_total'], grads)
    apply = lambda: optimizer_step(self.exp.d_tx, grads, state.d_opt, state.d_params)
    d_params, d_opt = apply_if(ok, apply, (state.d_params, state.d_opt))
    return state.replace(d_params=d_params, d_opt=d_opt), metrics, ok

  def g_update(self, state, real, alpha, rng):
    n = real['x'].shape[0]
    y = self.labels(jax.random.fold_in(rng, 2), real.get('y'), n)

    def loss(g_params):
      fake = self.fake(g_params, rng, n, alpha, y)
      g_loss = -jnp.mean(self.d_fn(state.d_params, alpha, y)(fake))
      return g_loss, {'g_loss': g_loss}

    (g_loss, metrics), grads = jax.value_and_grad(loss, has_aux=True)(state.g_params)

    def apply():
      g_params, g_opt = optimizer_step(self.exp.g_tx, grads, state.g_opt, state.g_params)
      ema = ema_update(state.ema_params, g_params, ema_decay(state.step, self.decay))
      return g_params, g_opt, ema

    ok = all_finite(g_loss, grads)
    old = (state.g_params, state.g_opt, state.ema_params)
    g_params, g_opt, ema = apply_if(ok, apply, old)
    return state.replace(g_params=g_params, g_opt=g_opt, ema_params=ema), metrics, ok

  def iteration(self, state, batch, rng):
    """One iteration; batch leaves (d_steps, B, ...)."""
    alpha = self.alpha(state.step)
    keys = jax.random.split(jax.random.fold_in(rng, state.step), self.d_steps + 1)
    d_ok, d_metrics = [], []
    for i in range(self.d_steps):
      real = jax.tree_util.tree_map(lambda a, i=i: a[i], batch)
      state, m, ok = self.d_update(state, real, alpha, keys[i])
      d_ok.append(ok)
      d_metrics.append(m)
    last = jax.tree_util.tree_map(lambda a: a[-1], batch)
    state, g_metrics, g_ok = self.g_update(state, last, alpha, keys[-1])
    step = state.step + 1
    skipped_d = jnp.sum(~jnp.stack(d_ok), dtype=jnp.int32)
    faults = {
        'skipped_d': skipped_d,
        'skipped_g': (~g_ok).astype(jnp.int32),
        'first_skip_d': jnp.where(skipped_d > 0, step, NEVER),
        'first_skip_g': jnp.where(g_ok, NEVER, step),
    }
    d_mean = jax.tree_util.tree_map(lambda *v: sum(v) / len(v), *d_metrics)
    return state.replace(step=step), {**d_mean, **g_metrics, 'alpha': alpha, **faults}

  def calls(self, state, batches, rng):
    """As many iterations as `batches` has rows (leaves (iterations, d_steps, B, ...))."""
    if batches['x'].shape[0] == 1:
      return self.iteration(state, jax.tree_util.tree_map(lambda a: a[0], batches), rng)
    state, metrics = jax.lax.scan(lambda s, b: self.iteration(s, b, rng), state, batches)
    reduce = lambda k, m: FAULTS[k].reduce(m, axis=0) if k in FAULTS else jnp.mean(m, axis=0)
    return state, {k: reduce(k, m) for k, m in metrics.items()}

  def jitted(self):
    rep = replicated(self.exp.mesh)
    return jax.jit(
        self.calls,
        in_shardings=(rep, batch_sharding(self.exp.mesh, 2), rep),
        out_shardings=(rep, rep),
        donate_argnums=0,
    )


def where_run_is(schedule, batch_size, step) -> dict:
  """{'stage', 'resolution', 'alpha', 'images'} after `step` steps (the next step's stage)."""
  images = step * batch_size
  stage, alpha = schedule.at(images)
  return {
      'stage': stage,
      'resolution': stage_resolution(stage),
      'alpha': alpha,
      'images': images,
  }


class ProgressiveProgram(gan.GanProgram):
  """One progressively grown G/D pair in `workdir` (see the module docstring); the host side
  (batches, faults, checkpoints, writers) is GanProgram's."""

  def __init__(self, config, workdir, allow_config_change=False):
    super().__init__(config, workdir, allow_config_change)
    check_config(self.config)
    self.schedule = schedule_of(self.config, self.exp.generator)
    self.batch = self.config.train.batch_size
    self.cadence = {**self.cadence, 'stage': At(tuple(self.schedule.boundaries(self.batch)))}
    self.reset = bool(self.config.progressive.reset_optimizer)
    self.stage_steps, self.compiled = {}, {}

  def where_at(self, step):
    return where_run_is(self.schedule, self.batch, step)

  def restored(self, step, state, metadata):
    state = super().restored(step, state, metadata)
    w = self.where_at(step)
    print(
        f'At stage {w["stage"]} ({w["resolution"]}x{w["resolution"]}), alpha {w["alpha"]:.4f}, '
        f'{w["images"]} images shown.',
        flush=True,
    )
    return state

  def _reset_optimizers(self, state):
    exp = self.exp
    fresh = jax.jit(lambda p, q: (exp.g_tx.init(p), exp.d_tx.init(q)))
    g_opt, d_opt = fresh(state.g_params, state.d_params)
    return state.replace(g_opt=g_opt, d_opt=d_opt)

  def compiled_step(self, stage, state, batches):
    """The stage's step for batches of this shape, compiled on first use (time printed)."""
    key = (stage, batches['x'].shape[0])
    if key not in self.compiled:
      if stage not in self.stage_steps:
        self.stage_steps[stage] = StageStep(self.exp, self.schedule, stage).jitted()
      start = time.perf_counter()
      self.compiled[key] = self.stage_steps[stage].lower(state, batches, self.k_train).compile()
      res = stage_resolution(stage)
      print(
          f'Stage {stage} ({res}x{res}): compiled in {time.perf_counter() - start:.1f}s '
          f'({key[1]} iteration{"s" if key[1] > 1 else ""} a call).',
          flush=True,
      )
    return self.compiled[key]

  def step(self, state, batches, first_step):
    stage = self.schedule.stage_of_step(first_step, self.batch)
    new_stage = first_step == self.schedule.first_step(stage, self.batch)
    if self.reset and stage > self.schedule.first_stage and new_stage:
      state = self._reset_optimizers(state)  # the reference restarts Adam at each new stage
    state, metrics = self.compiled_step(stage, state, batches)(state, batches, self.k_train)
    self.faults = combine_faults(self.faults, {k: metrics.pop(k) for k in FAULTS})
    return state, metrics

  def log(self, step, metrics, rate, progress):
    faults = self.reported
    metrics = dict(metrics)
    metrics.pop('alpha', None)
    if self.writer:
      w = self.where_at(step)
      seconds = progress.seconds()
      gan.write_scalars(self.writer, step, metrics, faults, self.config, rate, seconds)
      for name in ('stage', 'alpha', 'images'):
        self.writer.add_scalar(f'progressive/{name}', float(w[name]), step)
    w = self.where_at(step)
    line = progress.line(step, rate, metrics)
    line += f' | stage {w["stage"]} {w["resolution"]}x{w["resolution"]} alpha {w["alpha"]:.3f}'
    if faults['skipped_d'] or faults['skipped_g']:
      line += f' | skipped D {faults["skipped_d"]} G {faults["skipped_g"]}'
    print(line, flush=True)

  def sample(self, state, step):
    w = self.where_at(step)
    g = self.exp.generator.clone(stage=w['stage'], alpha=w['alpha'])
    gan.write_samples_or_warn(self.exp, state, self.workdir, step, self.writer, g)

  def evaluate(self, state, step):
    w = self.where_at(step)
    if w['stage'] == self.exp.generator.num_stages - 1 and w['alpha'] == 1.0:
      super().evaluate(state, step)  # the metrics compare images of the data's size

  def save(self, state, step):
    progressive = self.where_at(step)
    gan.save_checked(
        self.ckpts, state, step, self.reported, self.last_saved, {'progressive': progressive}
    )
    self.last_saved = step


def generator_at(exp, step, resolution):
  """The run's generator fixed at the stage of `resolution` (4 * 2^s), with the alpha it had
  after `step` steps (1 for an earlier stage); UserError unless the run is a progressively
  grown one that has reached that stage."""
  g, flag = exp.generator, f'--resolution={resolution}'
  if exp.config.model.name != 'progan':
    name = exp.config.model.name
    raise UserError(f'{flag}: the run is not progressively grown (model.name={name!r})')
  stage = stage_of_resolution(resolution)
  if stage is None or resolution > g.resolution:
    raise UserError(f'{flag}: must be a power of two times 4, at most {g.resolution}')
  schedule = schedule_of(exp.config, g)
  where = where_run_is(schedule, exp.config.train.batch_size, step)
  if stage < schedule.first_stage:
    first = exp.config.progressive.first_resolution
    raise UserError(f'{flag}: never trained (the run started at {first}x{first})')
  if stage > where['stage']:
    r = where['resolution']
    raise UserError(f'{flag}: not reached yet; step {step} is at stage {where["stage"]} ({r}x{r})')
  return g.clone(stage=stage, alpha=where['alpha'] if stage == where['stage'] else 1.0)
