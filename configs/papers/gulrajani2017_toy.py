"""WGAN-GP (Gulrajani et al. 2017) in its released toy setting: 8 and 25 Gaussians, with the
gradient penalty or with weight clipping (that code's WGAN baseline).

  python -m experiments.main --config=configs/papers/gulrajani2017_toy.py:25gaussians,gp \
      --workdir=runs/gp25
Presets: 8gaussians (default) or 25gaussians; gp (default) or clip. Then key=value pairs.

What it should reproduce: the paper gives no number for these mixtures. Its toy figures
(Figure 1) show critics trained against a generator held fixed at the data plus noise (the code's
FIXED_GENERATOR, "as in the plots in the paper", gan_toy.py lines 21-22); the claim these runs
test is the setting's own: does the released code's training (FIXED_GENERATOR False) cover the
modes, 8 / 8 and 25 / 25 (high-quality share: our `modes` metric), with the penalty and with
clipping? Sources, field by field: igul222/improved_wgan_training gan_toy.py, line numbers
there ("tflib": tflib/ops/linear.py of the same repository):
- data, 8gaussians: 8 modes at radius 2 (scale 2., lines 204-215), std 0.02 (line 219), all
  divided by 1.414 (line 225): our ring8 at radius 2 / 1.414, std 0.02 / 1.414 (its angles are
  our ring8's, in another order); 25gaussians: {-4, -2, 0, 2, 4}^2 with std 0.05, all divided by
  2.828 (lines 174-186): our grid25 at spacing 2 / 2.828, std 0.05 / 2.828. (The code's 25
  Gaussians are a fixed set of 100,000 points cycled in one shuffled order; ours are fresh.)
  The `modes` metric measures in each mixture's own std;
- G: z ~ N(0, I_2), 3 ReLU layers of DIM = 512, a linear output (lines 20, 42-51);
- D: 3 ReLU layers of 512, a linear output (lines 53-58);
- initialisation: the ReLU layers 'he' (uniform, variance 2 / fan_in), the output layers tflib's
  default 'glorot' (uniform, variance 2 / (fan_in + fan_out)), biases 0 (lines 31-40, tflib
  Linear) = model.g_init / d_init 'he_uniform';
- loss: critic E[D(G(z))] - E[D(x)], G -E[D(G(z))] (lines 67-68) = wasserstein;
- gp: the penalty (||grad D(x_hat)|| - 1)^2 on x_hat = a x + (1 - a) G(z), a ~ U(0, 1) per sample
  (lines 71-83), with LAMBDA = 0.1 (line 23: "smaller lambda makes things faster for toy tasks";
  the paper's 10 is for its other experiments) = reg.gp 0.1; Adam 1e-4, beta1 0.5, beta2 0.9 for
  both (lines 88-105);
- clip: RMSProp 5e-5 for both (lines 110-120) in TF's form: decay 0.9, eps 1e-10 inside the
  root, its mean square starting at 1 (optim initial_scale 1.0, eps_in_sqrt), weights and biases
  clipped to [-0.01, 0.01] after every critic step (lines 123-133, 243-244) = reg.clip 0.01;
- CRITIC_ITERS = 5 critic steps per G step (line 25) = train.d_steps 5, a fresh real batch each
  (lines 237-242); the loop updates G first from the second iteration on (lines 232-235), the same
  alternation as ours (5 D steps, then G) but for the last G step;
- BATCH_SIZE = 256 (line 26); ITERS = 100,000 generator iterations (line 27);
- no EMA (G's own samples).
Differences left: our clip also clips before the first critic step; TF's Adam puts eps outside
the bias correction.
"""

from configs import common
from gan_jax.registries import MODELS, OPTIMIZERS

NUM_STEPS = 100_000  # ITERS: generator iterations
EVAL_EVERY = 20_000


DATA = {
    '8gaussians': common.data_preset('ring8', radius=2 / 1.414, std=0.02 / 1.414),
    '25gaussians': common.data_preset('grid25', spacing=2 / 2.828, std=0.05 / 2.828),
}


def _gp(c):
  c.reg.gp = 0.1
  c.reg.clip = 0.0
  for net in ('g', 'd'):
    c.optim[net] = common.entry(OPTIMIZERS, 'adam', lr=1e-4, b1=0.5, b2=0.9, eps=1e-8)


def _clip(c):
  c.reg.gp = 0.0
  c.reg.clip = 0.01
  for net in ('g', 'd'):
    c.optim[net] = common.entry(
        OPTIMIZERS, 'rmsprop', lr=5e-5, decay=0.9, eps=1e-10, initial_scale=1.0, eps_in_sqrt=True
    )


METHODS = {'gp': _gp, 'clip': _clip}


def get_config(arg=None):
  c = common.base('wasserstein')
  c.model = common.entry(
      MODELS,
      'mlp',
      z_dim=2,
      g_hidden=(512, 512, 512),
      d_hidden=(512, 512, 512),
      d_activation='relu',
      g_output='linear',
      g_init='he_uniform',
      d_init='he_uniform',
  )
  c.train.d_steps = 5
  c.train.batch_size = 256
  c.train.num_steps = NUM_STEPS
  c.train.steps_per_call = 100
  c.train.ema_decay = 0.0
  c.train.log_every = 1000
  c.train.sample_every = c.checkpoint.every_steps = c.eval.every_steps = EVAL_EVERY
  c.train.num_samples = c.eval.num_samples = 2500
  return common.with_arg(c, arg, (DATA, METHODS), default=('8gaussians', 'gp'))
