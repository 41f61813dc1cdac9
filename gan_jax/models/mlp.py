"""MLP generator/discriminator of the original GAN paper (Goodfellow et al. 2014).

G: [Dense -> (BatchNorm) -> ReLU] per hidden width, then Dense(prod(data_shape)) -> tanh
   (images in [-1, 1]), 'sigmoid' (2 sigmoid(a) - 1 = tanh(a / 2): the 2014 code's sigmoid
   output in [0, 1], written in the data's [-1, 1]) or linear (`g_output='linear'`, for unbounded
   data such as 2D mixtures). `g_noise='uniform'` makes G's first step u = sqrt(3) erf(z / sqrt(2))
   = sqrt(3) (2 Phi(z) - 1): from the step's z ~ N(0, I), exactly U(-sqrt(3), sqrt(3))^d, the
   2014 code's unit-variance uniform prior (goodfeli/adversarial __init__.py, Generator.get_noise).
D: flatten, (Dropout(`d_dropout_input`)), [Dense -> maxout / ReLU / LeakyReLU(0.2) -> Dropout]
   per hidden width, Dense(1). Maxout: Dense(width * pieces), then the max over each unit's
   `maxout_pieces` consecutive outputs (pylearn2's Maxout and Blocks' LinearMaxout group them
   so too).
Optional spectral norm wraps every Dense (its u/sigma live in `batch_stats`).

Initialisation (`g_init` / `d_init`, at `g_init_scale` / `d_init_scale` = s): 'default' is
Flax's (kernels lecun_normal, biases 0; s must be 1); 'orthogonal': orthogonal kernels with gain
s (Metz et al. 2017, appendix A: s = 0.8); 'normal': N(0, s^2) (PacGAN's code: s = 0.02);
'uniform': U(-s, s) (pylearn2's irange: the 2014 code's G 0.05, D 0.005); 'he_uniform':
tflib's (WGAN-GP's released code) He-uniform hidden layers (variance 2 / fan_in) and its default
Glorot-uniform output layer (variance 2 / (fan_in + fan_out)), times s. Biases start at 0 in all,
but for G's output bias with `g_output_bias='marginals'`: b = logit(clip(m, 1e-7, 1 - 1e-7)) for
the training pixels' means m in [0, 1] (half that with 'tanh', as tanh(a) = 2 sigmoid(2a) - 1), so
that G's first images have the data's pixel marginals: pylearn2's
init_sigmoid_bias_from_marginals, the 2014 code's G output layer (goodfeli/adversarial mnist.yaml
line 24). The experiment fills `data_means` from the data, as it fills `num_classes`.
'default' builds the very modules of before (bit-identical runs); the other initialisations
apply to unconditional models (the conditional heads keep Flax's).

Class conditioning (`num_classes` > 0, models/conditioning.py): 'concat' joins one-hot(y) to z
and to D's flattened input (Mirza & Osindero 2014); 'embed' a learned `embed_dim`-wide
embedding instead (one table in G, one in D); 'projection' concatenates one-hot(y) to z and
gives D a projection head (logit + <V[y], h>, Miyato & Koyama 2018) on its last hidden layer;
'acgan' concatenates one-hot(y) to z and gives D a class head (Odena et al. 2017).
With num_classes=0 the parameters and outputs are those of the unconditional models.
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.checks import check_choice, check_number, check_widths
from gan_jax.models import conditioning as cond

G_OUTPUTS = ("tanh", "linear", "sigmoid")
G_NOISES = ("normal", "uniform")
CONDITIONINGS = ("concat", "embed", "projection", "acgan")
D_ACTIVATIONS = ("maxout", "relu", "leaky_relu")
INITS = ("default", "orthogonal", "normal", "uniform", "he_uniform")
OUTPUT_BIASES = ("zeros", "marginals")
MARGINAL_CLIP = 1e-7  # pylearn2's init_sigmoid_bias_from_array


def marginal_logits(means, output: str) -> tuple[float, ...]:
  """G's output bias that makes its output's pixel marginals `means` (in [0, 1]) when its
  pre-activations are the bias alone: logit(clip(m)) for 'sigmoid', logit(clip(m)) / 2 for
  'tanh' (module docstring)."""
  m = np.clip(np.asarray(means, np.float64).reshape(-1), MARGINAL_CLIP, 1 - MARGINAL_CLIP)
  logits = np.log(m) - np.log1p(-m)
  return tuple(float(b) for b in (logits / 2 if output == "tanh" else logits))


def _symmetric_uniform(scale):
  def init(key, shape, dtype=jnp.float32):
    return jax.random.uniform(key, shape, dtype, -scale, scale)

  return init


def kernel_inits(init: str, scale: float) -> tuple[dict, dict]:
  """Dense keyword arguments (hidden layers', output layer's) of the initialisation `init` at
  `scale` (module docstring); ({}, {}) for 'default', so that the modules are those of before."""
  inits = nn.initializers
  if init == "default":
    return {}, {}
  if init == "orthogonal":
    hidden = output = inits.orthogonal(scale)
  elif init == "normal":
    hidden = output = inits.normal(scale)
  elif init == "uniform":
    hidden = output = _symmetric_uniform(scale)
  else:  # he_uniform: tflib's 'he' hidden layers, its default 'glorot' output layer
    hidden = inits.variance_scaling(2.0 * scale**2, "fan_in", "uniform")
    output = inits.variance_scaling(scale**2, "fan_avg", "uniform")
  return {"kernel_init": hidden}, {"kernel_init": output}


def apply_layer(layer: nn.Module, x, sn: bool, train: bool):
  """Apply `layer`, wrapped in SpectralNorm (stats updated when training) if `sn`."""
  if sn:
    return nn.SpectralNorm(layer)(x, update_stats=train)
  return layer(x)


def _label_code(module, y, batch):
  """one-hot(y) (B, K), or a learned embedding (B, embed_dim) for conditioning 'embed'."""
  y = cond.labels(module, y, batch)
  if module.conditioning == "embed":
    return nn.Embed(module.num_classes, module.embed_dim, name="embed_y")(y)
  return cond.one_hot(y, module.num_classes)


class MLPGenerator(nn.Module):
  """z (B, z_dim) -> [Dense -> (BN) -> ReLU]* -> Dense -> tanh -> (B, *data_shape)."""

  data_shape: tuple[int, ...]
  z_dim: int = 100
  hidden: tuple[int, ...] = (1200, 1200)
  batchnorm: bool = False
  sn: bool = False
  output: str = "tanh"  # G_OUTPUTS
  num_classes: int = 0
  conditioning: str = "none"
  embed_dim: int = 10
  noise: str = "normal"  # G_NOISES
  weight_init: str = "default"  # INITS
  weight_scale: float = 1.0
  output_bias: tuple[float, ...] = ()  # the output layer's initial bias; () for zeros

  @nn.compact
  def __call__(self, z, y=None, *, train: bool):
    x = z.astype(jnp.float32)
    if self.noise == "uniform":  # N(0, 1) -> U(-sqrt(3), sqrt(3)) by its CDF
      x = math.sqrt(3) * jax.lax.erf(x / math.sqrt(2))
    hidden_init, output_init = kernel_inits(self.weight_init, self.weight_scale)
    if self.num_classes:
      x = jnp.concatenate([x, _label_code(self, y, x.shape[0])], axis=-1)
    for width in self.hidden:
      # BatchNorm cancels a bias, whose true gradient is then 0: Adam would only amplify rounding noise.
      dense = nn.Dense(width, use_bias=not self.batchnorm, **hidden_init)
      x = apply_layer(dense, x, self.sn, train)
      if self.batchnorm:
        x = nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
      x = nn.relu(x)
    if self.output_bias:
      bias = np.asarray(self.output_bias, np.float32)
      output_init = {**output_init, "bias_init": lambda *_: jnp.asarray(bias)}
    x = apply_layer(nn.Dense(math.prod(self.data_shape), **output_init), x, self.sn, train)
    if self.output == "tanh":
      x = jnp.tanh(x)
    elif self.output == "sigmoid":
      x = 2 * nn.sigmoid(x) - 1
    return x.reshape((x.shape[0], *self.data_shape))


class MLPDiscriminator(nn.Module):
  """x (B, *data_shape) -> flatten -> [Dense -> activation -> Dropout]* -> Dense(1) -> (B,)."""

  hidden: tuple[int, ...] = (240, 240)
  activation: str = "maxout"
  maxout_pieces: int = 5
  dropout: float = 0.0
  sn: bool = False
  num_classes: int = 0
  conditioning: str = "none"
  embed_dim: int = 10
  input_dropout: float = 0.0  # dropout rate on D's input features (the 2014 code: 0.2)
  weight_init: str = "default"  # INITS
  weight_scale: float = 1.0

  @nn.compact
  def __call__(self, x, y=None, *, train: bool):
    x = x.astype(jnp.float32).reshape((x.shape[0], -1))
    hidden_init, output_init = kernel_inits(self.weight_init, self.weight_scale)
    if self.num_classes:
      y = cond.labels(self, y, x.shape[0])
      if self.conditioning in ("concat", "embed"):
        x = jnp.concatenate([x, _label_code(self, y, x.shape[0])], axis=-1)
    if self.input_dropout > 0:
      x = nn.Dropout(self.input_dropout, deterministic=not train)(x)
    for width in self.hidden:
      if self.activation == "maxout":
        x = apply_layer(nn.Dense(width * self.maxout_pieces, **hidden_init), x, self.sn, train)
        x = x.reshape((x.shape[0], width, self.maxout_pieces)).max(axis=-1)
      else:
        x = apply_layer(nn.Dense(width, **hidden_init), x, self.sn, train)
        x = nn.relu(x) if self.activation == "relu" else nn.leaky_relu(x, 0.2)
      if self.dropout > 0:
        x = nn.Dropout(self.dropout, deterministic=not train)(x)
    if output_init:  # unconditional (checked): the head's Dense(1), under the same auto name
      return apply_layer(nn.Dense(1, **output_init), x, self.sn, train)[:, 0]
    return cond.head(
        x, y, num_classes=self.num_classes, conditioning=self.conditioning, sn=self.sn, train=train
    )


def _check_paper_fields(num_classes, g_noise, g_init, g_init_scale, d_init, d_init_scale):
  """ValueError for an unknown noise or initialisation, a scale <= 0 or != 1 with 'default', or
  another initialisation than 'default' on a conditional model."""
  if g_noise not in G_NOISES:
    raise ValueError(f"unknown g_noise {g_noise!r}; allowed: {G_NOISES}")
  for net, init, scale in (("g", g_init, g_init_scale), ("d", d_init, d_init_scale)):
    if init not in INITS:
      raise ValueError(f"unknown {net}_init {init!r}; allowed: {INITS}")
    check_number(f"{net}_init_scale", scale, low=0, low_open=True)
    if init == "default" and scale != 1:
      raise ValueError(f"{net}_init_scale={scale!r}: must be 1 with {net}_init='default'")
    if init != "default" and num_classes:
      raise ValueError(f"{net}_init={init!r}: only for unconditional models (num_classes=0)")


def _output_bias(g_output_bias, data_means, g_output, data_shape) -> tuple[float, ...]:
  """G's initial output bias ((): zeros); ValueError for an unknown choice, 'marginals' with a
  linear output, or means of another shape than the data's."""
  check_choice("g_output_bias", g_output_bias, OUTPUT_BIASES)
  if g_output_bias == "zeros":
    return ()
  if g_output == "linear":
    raise ValueError("g_output_bias='marginals': needs g_output 'sigmoid' or 'tanh', not 'linear'")
  if np.size(data_means) != math.prod(data_shape):
    raise ValueError(
        f"g_output_bias='marginals': {np.size(data_means)} pixel means for data of shape "
        f"{tuple(data_shape)} (the experiment fills data_means from the training data)"
    )
  return marginal_logits(data_means, g_output)


def _check_d(d_activation, maxout_pieces, d_dropout, d_dropout_input):
  check_number("maxout_pieces", maxout_pieces, integer=True, low=1)
  check_number("d_dropout", d_dropout, low=0, high_open=1)
  check_number("d_dropout_input", d_dropout_input, low=0, high_open=1)
  if d_activation not in D_ACTIVATIONS:
    raise ValueError(f"unknown d_activation {d_activation!r}; allowed: {D_ACTIVATIONS}")


def mlp(
    data_shape,
    *,
    z_dim=100,
    g_hidden=(1200, 1200),
    d_hidden=(240, 240),
    d_activation="maxout",
    maxout_pieces=5,
    d_dropout=0.0,
    g_batchnorm=False,
    g_sn=False,
    d_sn=False,
    g_output="tanh",
    num_classes=0,
    conditioning="none",
    embed_dim=10,
    g_noise="normal",
    g_init="default",
    g_init_scale=1.0,
    d_init="default",
    d_init_scale=1.0,
    d_dropout_input=0.0,
    g_output_bias="zeros",
    data_means=(),
):
  """Build (MLPGenerator, MLPDiscriminator) for data of shape `data_shape`.

  `g_output` 'tanh' / 'sigmoid' (images), 'linear' (2D mixtures); `g_output_bias` 'zeros' or
  'marginals' (G's output bias from `data_means`, the training pixels' means in [0, 1], which the
  experiment fills in; a config leaves it empty); the other fields: module docstring
  (`num_classes`, `conditioning`, `embed_dim`: class conditioning).
  """
  cond.check_conditioning("mlp", num_classes, conditioning, CONDITIONINGS)
  check_number("embed_dim", embed_dim, integer=True, low=1)
  check_number("z_dim", z_dim, integer=True, low=1)  # then the fields of the papers' settings:
  _check_paper_fields(num_classes, g_noise, g_init, g_init_scale, d_init, d_init_scale)
  _check_d(d_activation, maxout_pieces, d_dropout, d_dropout_input)
  check_choice("g_output", g_output, G_OUTPUTS)
  g_hidden, d_hidden = check_widths("g_hidden", g_hidden), check_widths("d_hidden", d_hidden)
  output_bias = _output_bias(g_output_bias, data_means, g_output, data_shape)
  common = dict(num_classes=num_classes, conditioning=conditioning, embed_dim=embed_dim)
  g = MLPGenerator(
      tuple(data_shape), z_dim=z_dim, hidden=tuple(g_hidden), batchnorm=g_batchnorm, sn=g_sn,
      output=g_output, noise=g_noise, weight_init=g_init, weight_scale=float(g_init_scale),
      output_bias=output_bias, **common,
  )  # fmt: skip
  d = MLPDiscriminator(
      hidden=tuple(d_hidden), activation=d_activation, maxout_pieces=maxout_pieces,
      dropout=d_dropout, sn=d_sn, input_dropout=d_dropout_input, weight_init=d_init,
      weight_scale=float(d_init_scale), **common,
  )  # fmt: skip
  return g, d
