"""MLP generator/discriminator of the original GAN paper (Goodfellow et al. 2014).

G: [Dense -> (BatchNorm) -> ReLU] per hidden width, then Dense(prod(data_shape)) -> tanh
   (images in [-1, 1]) or linear (`g_output='linear'`, for unbounded data such as 2D mixtures).
D: flatten, [Dense -> maxout / ReLU / LeakyReLU(0.2) -> Dropout] per hidden width, Dense(1).
Optional spectral norm wraps every Dense (its u/sigma live in `batch_stats`).

Class conditioning (`num_classes` > 0, models/conditioning.py): 'concat' joins one-hot(y) to z
and to D's flattened input (Mirza & Osindero 2014); 'embed' a learned `embed_dim`-wide
embedding instead (one table in G, one in D); 'projection' concatenates one-hot(y) to z and
gives D a projection head (logit + <V[y], h>, Miyato & Koyama 2018) on its last hidden layer;
'acgan' concatenates one-hot(y) to z and gives D a class head (Odena et al. 2017).
With num_classes=0 the parameters and outputs are those of the unconditional models.
"""

import math

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.checks import check_number, check_widths
from gan_jax.models import conditioning as cond

G_OUTPUTS = ("tanh", "linear")
CONDITIONINGS = ("concat", "embed", "projection", "acgan")
D_ACTIVATIONS = ("maxout", "relu", "leaky_relu")


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
  tanh: bool = True
  num_classes: int = 0
  conditioning: str = "none"
  embed_dim: int = 10

  @nn.compact
  def __call__(self, z, y=None, *, train: bool):
    x = z.astype(jnp.float32)
    if self.num_classes:
      x = jnp.concatenate([x, _label_code(self, y, x.shape[0])], axis=-1)
    for width in self.hidden:
      # BatchNorm cancels a bias, whose true gradient is then 0: Adam would only amplify rounding noise.
      x = apply_layer(nn.Dense(width, use_bias=not self.batchnorm), x, self.sn, train)
      if self.batchnorm:
        x = nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
      x = nn.relu(x)
    x = apply_layer(nn.Dense(math.prod(self.data_shape)), x, self.sn, train)
    x = jnp.tanh(x) if self.tanh else x
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

  @nn.compact
  def __call__(self, x, y=None, *, train: bool):
    x = x.astype(jnp.float32).reshape((x.shape[0], -1))
    if self.num_classes:
      y = cond.labels(self, y, x.shape[0])
      if self.conditioning in ("concat", "embed"):
        x = jnp.concatenate([x, _label_code(self, y, x.shape[0])], axis=-1)
    for width in self.hidden:
      if self.activation == "maxout":
        x = apply_layer(nn.Dense(width * self.maxout_pieces), x, self.sn, train)
        x = x.reshape((x.shape[0], width, self.maxout_pieces)).max(axis=-1)
      else:
        x = apply_layer(nn.Dense(width), x, self.sn, train)
        x = nn.relu(x) if self.activation == "relu" else nn.leaky_relu(x, 0.2)
      if self.dropout > 0:
        x = nn.Dropout(self.dropout, deterministic=not train)(x)
    return cond.head(
        x, y, num_classes=self.num_classes, conditioning=self.conditioning, sn=self.sn, train=train
    )


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
):
  """Build (MLPGenerator, MLPDiscriminator) for data of shape `data_shape`.

  `g_output`: 'tanh' for images in [-1, 1], 'linear' for unbounded data (2D mixtures).
  `num_classes`, `conditioning`, `embed_dim`: class conditioning (module docstring).
  """
  cond.check_conditioning("mlp", num_classes, conditioning, CONDITIONINGS)
  check_number("embed_dim", embed_dim, integer=True, low=1)
  check_number("z_dim", z_dim, integer=True, low=1)
  check_number("maxout_pieces", maxout_pieces, integer=True, low=1)
  check_number("d_dropout", d_dropout, low=0, high_open=1)
  g_hidden, d_hidden = check_widths("g_hidden", g_hidden), check_widths("d_hidden", d_hidden)
  if d_activation not in D_ACTIVATIONS:
    raise ValueError(f"unknown d_activation {d_activation!r}; allowed: {D_ACTIVATIONS}")
  if g_output not in G_OUTPUTS:
    raise ValueError(f"unknown g_output {g_output!r}; allowed: {G_OUTPUTS}")
  g = MLPGenerator(
      tuple(data_shape),
      z_dim=z_dim,
      hidden=tuple(g_hidden),
      batchnorm=g_batchnorm,
      sn=g_sn,
      tanh=g_output == "tanh",
      num_classes=num_classes,
      conditioning=conditioning,
      embed_dim=embed_dim,
  )
  d = MLPDiscriminator(
      hidden=tuple(d_hidden),
      activation=d_activation,
      maxout_pieces=maxout_pieces,
      dropout=d_dropout,
      sn=d_sn,
      num_classes=num_classes,
      conditioning=conditioning,
      embed_dim=embed_dim,
  )
  return g, d
