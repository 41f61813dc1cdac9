"""DCGAN (Radford et al. 2016) in the layout of PyTorch's reference example (examples/dcgan),
for 64x64 images, with variants sized by the data (32x32, 28x28, 48x48).

The image size H is halved n times down to s (n as large as keeps s >= 4 and even steps:
64 -> 4 (n=4), 32 -> 4 (n=3), 48 -> 6 (n=3), 28 -> 7 (n=2)).
G: z -> Dense(s*s*w*2^(n-1), no bias) -> BN -> ReLU -> (n-1) x [deconv 4x4/2 (halving the
   width) -> BN -> ReLU] -> deconv 4x4/2 to C -> tanh. (The example's first 4x4 transposed
   convolution of the 1x1 noise is this dense layer.)
D: n x [conv 4x4/2 pad 1 (w, 2w, 4w, ...) -> (BN, not on the first) -> LeakyReLU(0.2)]
   -> flatten -> Dense(1) (the example's final 4x4 VALID convolution).
No biases (the example's bias=False). At 64x64x3, w=64, z 100: G 3,576,704 and D 2,765,568
parameters, as the PyTorch example. `d_batchnorm=False` drops D's BatchNorm (for spectral
norm or gradient penalties), and its convolutions then get biases.

Class conditioning (models/conditioning.py): 'projection' = conditional BatchNorm in G + a
projection D on the flattened last features; 'acgan' = conditional BatchNorm in G + class head.
"""

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.models import conditioning as cond
from gan_jax.models.sngan_cnn import CONV_LAYERS, DTYPES, check_image_model

CONDITIONINGS = ("projection", "acgan")


def layout(height):
  """(start size s, number n of 2x steps) for images H x H."""
  s, n = height, 0
  while s % 2 == 0 and s // 2 >= 4:
    s, n = s // 2, n + 1
  if n < 2:
    raise ValueError(f"dcgan needs an image size with at least two halvings to >= 4, got {height}")
  return s, n


class DCGANGenerator(nn.Module):
  data_shape: tuple[int, ...]
  z_dim: int = 100
  width: int = 64
  sn: bool = False
  conv: str = "fast"
  dtype: str = "float32"
  num_classes: int = 0

  @nn.compact
  def __call__(self, z, y=None, *, train: bool):
    h, _, c = self.data_shape
    s, n = layout(h)
    dtype = DTYPES[self.dtype]
    conv_transpose = CONV_LAYERS[self.conv][1]
    y = cond.labels(self, y, z.shape[0]) if self.num_classes else None
    bn = lambda i: cond.batchnorm(self, self.num_classes, y, train, dtype, f"CondBatchNorm_{i}")
    top = self.width * 2 ** (n - 1)
    dense = nn.Dense(s * s * top, use_bias=False, dtype=dtype, name="dense")
    x = cond.apply_sn(dense, z.astype(jnp.float32), self.sn, train).reshape((-1, s, s, top))
    x = nn.relu(bn(0)(x))
    for i in range(1, n + 1):
      features = c if i == n else top >> i
      layer = conv_transpose(
          features,
          (4, 4),
          strides=(2, 2),
          padding="SAME",
          use_bias=False,
          dtype=dtype,
          name=f"deconv{i}",
      )
      x = cond.apply_sn(layer, x, self.sn, train)
      if i < n:
        x = nn.relu(bn(i)(x))
    return jnp.tanh(x).astype(jnp.float32)


class DCGANDiscriminator(nn.Module):
  width: int = 64
  sn: bool = False
  batchnorm: bool = True
  conv: str = "fast"
  dtype: str = "float32"
  num_classes: int = 0
  conditioning: str = "none"

  @nn.compact
  def __call__(self, x, y=None, *, train: bool):
    _, n = layout(x.shape[1])
    dtype = DTYPES[self.dtype]
    y = cond.labels(self, y, x.shape[0]) if self.num_classes else None
    x = x.astype(jnp.float32)
    for i in range(n):
      norm = self.batchnorm and i > 0
      layer = CONV_LAYERS[self.conv][0](
          self.width << i,
          (4, 4),
          strides=2,
          padding=((1, 1), (1, 1)),
          use_bias=not self.batchnorm,
          dtype=dtype,
          name=f"conv{i + 1}",
      )
      x = cond.apply_sn(layer, x, self.sn, train)
      if norm:
        x = nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=dtype)(x)
      x = nn.leaky_relu(x, 0.2)
    return cond.head(
        x.reshape((x.shape[0], -1)),
        y,
        num_classes=self.num_classes,
        conditioning=self.conditioning,
        sn=self.sn,
        train=train,
        use_bias=False,
        dtype=dtype,
    )


def dcgan(
    data_shape,
    *,
    z_dim=100,
    width=64,
    g_sn=False,
    d_sn=False,
    d_batchnorm=True,
    conv="fast",
    dtype="float32",
    num_classes=0,
    conditioning="none",
):
  """Build (DCGANGenerator, DCGANDiscriminator) for square images (H, H, C)."""
  cond.check_conditioning("dcgan", num_classes, conditioning, CONDITIONINGS)
  check_image_model("dcgan", data_shape, z_dim=z_dim, conv=conv, dtype=dtype, width=width)
  layout(data_shape[0])
  g = DCGANGenerator(
      tuple(data_shape),
      z_dim=z_dim,
      width=width,
      sn=g_sn,
      conv=conv,
      dtype=dtype,
      num_classes=num_classes,
  )
  d = DCGANDiscriminator(
      width=width,
      sn=d_sn,
      batchnorm=bool(d_batchnorm),
      conv=conv,
      dtype=dtype,
      num_classes=num_classes,
      conditioning=conditioning,
  )
  return g, d
