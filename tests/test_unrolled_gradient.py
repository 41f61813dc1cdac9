"""The unrolled generator gradient (Metz et al. 2017) against a reference written here by hand.

Metz et al. (section 2.2, eq. 5-12) define the surrogate loss f_K(theta_G, theta_D) =
f(theta_G, theta_D^K(theta_G, theta_D)), with f = E log D(x) + E log(1 - D(G(z))) the minimax
game's value and theta_D^K K steps of D's optimizer from the current D, and take G's gradient
as its total derivative:

  df_K / dtheta_G = df(theta_G, theta_D^K) / dtheta_G
                    + df(theta_G, theta_D^K) / dtheta_D^K * dtheta_D^K / dtheta_G,

the second term (how D would respond to a change of G) being what unrolling adds; the real-data
term of f is part of it. Here, in the paper's 2D setting shrunk (configs/papers/metz2017_ring.py:
the minimax game, D's input scaled by 1/4, orthogonal initialisation, Adam for D), the step's
own G gradient (gan_jax/step.py, `_RunStep.g_grads`, the one `g_update` applies) is compared
with:
- the same quantity written out: the MLPs, D's loss, Adam's update with optax's conventions
  (bias-corrected moments, eps added to the square root of the second moment), K of them from
  D's Adam state, all on the iteration's one real batch (d_steps = 1) and on G's samples G(z)
  of G's own step (its z, as functions of theta_G), then f at theta_D^K, by jax.grad;
- a central finite difference of that scalar in float64 (that the reference is itself right);
- the gradient with theta_D^K held fixed (stop_gradient: no second term), and the gradient of G's
  own loss at theta_D^K without f's real-data term, neither of which it may be.
The fakes, batch, Adam state and input scale are the reference's choices: the step passes only
if it makes the same ones."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from configs.papers import metz2017_ring
from gan_jax import step as step_lib
from gan_jax.experiment import build_experiment
from gan_jax.losses import DIVERGENCES, LOSSES
from gan_jax.programs.gan import host_batches

D_LR = 0.05  # D's Adam rate here: large enough that D_K, and so the second term, moves


def _config(unroll):
  c = metz2017_ring.get_config('unroll1')
  c.train.unroll_steps = unroll
  c.model.update(z_dim=4, g_hidden=(8, 8), d_hidden=(8,))
  c.optim.d.lr = D_LR
  c.train.batch_size = 16
  return c


# ---- the reference, independent of gan_jax/step.py and of the Flax modules -----------------


def mlp(params, x, last):
  """Dense_0 .. Dense_last, ReLU between (the suite's MLPs with these settings)."""
  for i in range(last + 1):
    layer = params[f'Dense_{i}']
    x = x @ layer['kernel'] + layer['bias']
    if i < last:
      x = jax.nn.relu(x)
  return x


class Reference:
  """The unrolled game of one config by hand: G(z), D(scale * x), D's cross-entropy, Adam."""

  def __init__(self, config):
    self.scale = config.d_input.scale
    self.g_last, self.d_last = len(config.model.g_hidden), len(config.model.d_hidden)
    opt = config.optim.d
    self.lr, self.b1, self.b2, self.eps = opt.lr, opt.b1, opt.b2, opt.eps

  def g(self, g_params, z):
    return mlp(g_params, z, self.g_last)

  def d(self, d_params, x):
    return mlp(d_params, self.scale * x, self.d_last)[:, 0]

  def d_loss(self, d_params, real, fake):
    """-E log D(x) - E log(1 - D(G(z))), D = sigmoid of the logit."""
    sp = jax.nn.softplus
    return jnp.mean(sp(-self.d(d_params, real))) + jnp.mean(sp(self.d(d_params, fake)))

  def adam(self, params, grads, state):
    """One Adam step, optax's: state (count, mu, nu)."""
    count, mu, nu = state
    t = count + 1
    mu = jax.tree_util.tree_map(lambda m, g: self.b1 * m + (1 - self.b1) * g, mu, grads)
    nu = jax.tree_util.tree_map(lambda n, g: self.b2 * n + (1 - self.b2) * g * g, nu, grads)
    c1, c2 = 1 - self.b1**t, 1 - self.b2**t

    def new(p, m, n):
      return p - self.lr * (m / c1) / (jnp.sqrt(n / c2) + self.eps)

    return jax.tree_util.tree_map(new, params, mu, nu), (t, mu, nu)

  def unrolled(self, g_params, d_params, adam_state, real, z, k):
    """(theta_D^K, G(z)): K Adam steps of D on `real` and G(z)."""
    fake = self.g(g_params, z)
    for _ in range(k):
      grads = jax.grad(self.d_loss)(d_params, real, fake)
      d_params, adam_state = self.adam(d_params, grads, adam_state)
    return d_params, fake

  def f_k(self, g_params, d_params, adam_state, real, z, k, second_term=True, real_term=True):
    """f(theta_G, theta_D^K) = E log D_K(x) + E log(1 - D_K(G(z))), the game's value at D_K,
    which G minimises (Metz et al. eq. 1, 7). second_term=False: theta_D^K held fixed;
    real_term=False: G's own loss E log(1 - D_K(G(z))) alone."""
    d_k, fake = self.unrolled(g_params, d_params, adam_state, real, z, k)
    if not second_term:
      d_k = jax.lax.stop_gradient(d_k)
    value = -jnp.mean(jax.nn.softplus(self.d(d_k, fake)))
    if real_term:
      value = value - jnp.mean(jax.nn.softplus(-self.d(d_k, real)))
    return value


def adam_state(opt_state):
  """(count, mu, nu) of optax.adam's state (chain: scale_by_adam, then the rate)."""
  (s, *_) = [x for x in opt_state if isinstance(x, optax.ScaleByAdamState)]
  return s.count, s.mu, s.nu


# ---- the suite's side ---------------------------------------------------------------------


class Suite:
  """One config's step parts (gan_jax/step.py, `_RunStep`) and its G gradient."""

  def __init__(self, config):
    self.config, self.exp = config, build_experiment(config)
    exp, spec = self.exp, self.exp.step_spec
    self.run = step_lib._RunStep(  # pylint: disable=protected-access
        spec, exp.generator, exp.discriminator, exp.g_tx, exp.d_tx, exp.mesh, 0, spec.hparams
    )
    batch = host_batches(exp, 0, 1)  # leaves (1 iteration, d_steps, B, ...)
    self.batch = jax.tree_util.tree_map(lambda a: jnp.asarray(a[0]), batch)
    self.real = self.batch['x'][0]  # d_steps = 1: every D update of the iteration reads it
    self.g_grads = lambda s, k: self.run.g_grads(s, self.batch, k)[1]

  def state_after_d_updates(self, n):
    """The initial state after n of D's own (guarded, real) updates: Adam's moments and count
    away from their initial values."""
    state = self.exp.init_state(jax.random.key(0))
    d_update = jax.jit(lambda s, k: self.run.d_update(s, {'x': self.real}, k)[0])
    for i in range(n):
      state = d_update(state, jax.random.key(10 + i))
    return state

  def noise(self, rng):
    """The z that g_grads(state, batch, rng) draws for G's samples (and so for the unrolled D)."""
    k_z = jax.random.split(rng, 3)[0]
    return jax.random.normal(k_z, (self.config.train.batch_size, self.config.model.z_dim))


# ---- the tests ----------------------------------------------------------------------------

UNROLLS = (1, 3)
RNG = jax.random.key(5)  # the key of G's step: its z, hence the fakes of the unrolled D updates


@pytest.fixture(scope='module')
def game():
  """{K: Suite}, and one state (D after 3 Adam updates) that every K starts from."""
  suites = {k: Suite(_config(k)) for k in UNROLLS}
  return suites, suites[UNROLLS[0]].state_after_d_updates(3)


def _flat(tree):
  leaves = jax.tree_util.tree_leaves(tree)
  return np.concatenate([np.ravel(np.asarray(x, np.float64)) for x in leaves])


def _rel(a, b):
  return float(np.linalg.norm(a - b) / np.linalg.norm(b))


VARIANTS = {'total': {}, 'd_k_fixed': {'second_term': False}, 'g_loss_alone': {'real_term': False}}


def _wide(tree):
  """Float leaves as float64 (inside enable_x64)."""
  return jax.tree_util.tree_map(
      lambda a: a.astype(jnp.float64) if jnp.issubdtype(a.dtype, jnp.floating) else a, tree
  )


def _reference_args(suite, state):
  """(theta_G, (theta_D, D's Adam state, the real batch, z)) of the step's state, batch and RNG
  (z drawn before float64 is on: it would draw other numbers)."""
  return state.g_params, (state.d_params, adam_state(state.d_opt), suite.real, suite.noise(RNG))


def _reference_grads(suite, state):
  """{variant: the hand-written reference's gradient, float64} for the step's state."""
  ref, k = Reference(suite.config), suite.config.train.unroll_steps
  g, args = _reference_args(suite, state)
  with jax.enable_x64(True):
    g, args = _wide(g), _wide(args)
    return {n: _flat(jax.grad(lambda g: ref.f_k(g, *args, k, **v))(g)) for n, v in VARIANTS.items()}


@pytest.mark.parametrize('k', UNROLLS)
def test_the_steps_generator_gradient_is_the_total_derivative_of_the_unrolled_game(game, k):
  suites, state = game
  got = _flat(suites[k].g_grads(state, RNG))
  want = _reference_grads(suites[k], state)
  # The step in float32 against the reference in float64: measured 6e-6 (K=1), 1e-5 (K=3).
  assert _rel(got, want['total']) < 1e-4, _rel(got, want['total'])
  # What this tells apart (relative distance to the total, at D's rate 0.05): D_K held fixed
  # (no second term) 0.028 (K=1) / 0.16 (K=3); G's own loss at D_K without the value's
  # real-data term (the step before its fix) 0.49 / 0.71.
  for other in ('d_k_fixed', 'g_loss_alone'):
    assert _rel(want[other], want['total']) > 0.01, (other, _rel(want[other], want['total']))


def test_the_reference_gradient_matches_a_central_finite_difference_in_float64(game):
  """Along a random direction v of theta_G: (f_K(g + hv) - f_K(g - hv)) / 2h against
  <grad f_K, v>, and both far from <the gradient with D_K held fixed, v>."""
  suites, state = game
  k = UNROLLS[-1]
  ref, h = Reference(suites[k].config), 1e-6
  g, args = _reference_args(suites[k], state)
  with jax.enable_x64(True):
    g, args = _wide(g), _wide(args)
    f = lambda g, **variant: ref.f_k(g, *args, k, **variant)
    draw = np.random.default_rng(7).standard_normal
    v = jax.tree_util.tree_map(lambda a: jnp.asarray(draw(a.shape)), g)
    along = lambda t: float(_flat(t) @ _flat(v))
    shifted = lambda s: jax.tree_util.tree_map(lambda a, b: a + s * h * b, g, v)
    fd = (float(f(shifted(1.0))) - float(f(shifted(-1.0)))) / (2 * h)
    ad = along(jax.grad(f)(g))
    fixed = along(jax.grad(lambda g: f(g, second_term=False))(g))
  assert abs(fd - ad) < 1e-6 * abs(ad), (fd, ad)
  assert abs(fixed - ad) > 1e3 * abs(fd - ad), (fd, ad, fixed)


def test_the_game_value_is_used_for_the_zero_sum_losses_only():
  """step.zero_sum: d(r, f) + g(f) independent of f. The unrolled G minimises the value f_K
  for these; the others (no single value) keep G's own loss at D_K."""
  zero_sum = {
      'minimax': True,
      'wasserstein': True,
      'non_saturating': False,
      'maximum_likelihood': False,
      'least_squares': False,
      'hinge': False,  # -D(G(z)) is minus D's fake term only where D(G(z)) > -1
  }
  for name, want in zero_sum.items():
    assert step_lib.zero_sum(LOSSES[name]()) is want, name
  for divergence in DIVERGENCES:
    assert step_lib.zero_sum(LOSSES['f_gan'](divergence, 'saturating')), divergence
    assert not step_lib.zero_sum(LOSSES['f_gan'](divergence, 'alternative')), divergence
