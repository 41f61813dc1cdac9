"""The "standard CNN" of Miyato et al. 2018 (SNGAN, table 3), for square images.

G: z -> Dense(s*s*2c0) -> reshape -> BN -> ReLU -> n x [ConvTranspose 4x4/2 -> BN -> ReLU] with
   channels c = last n of (4w, 2w, w) -> Conv 3x3 to C -> tanh; n = 3 if H % 8 == 0
   (s = H/8) else 2 (s = H/4). At 32x32x3, w=64, z_dim=128: 3.81M params.
D: 7 convs (w,w,2w,2w,4w,4w,8w; kernels 3,4,3,4,3,4,3; strides 1,2,1,2,1,2,1; pad 1),
   each -> LeakyReLU(0.1); flatten -> Dense(1). At 32x32x3, w=64: 2.94M params.
Optional spectral norm wraps every Dense/Conv/ConvTranspose (u/sigma in `batch_stats`).
`conv` picks the convolution layers: 'xla' (nn.Conv / nn.ConvTranspose) or 'fast' (the same
function and parameters from stride-1 VALID convolutions, models/fast_conv.py: several times
faster on XLA:CPU, with the gradient penalty's double backprop). `dtype` is the compute dtype
(parameters stay float32; 'bfloat16' is mixed precision for GPUs); outputs are float32.

Class conditioning (models/conditioning.py): 'projection' = conditional BatchNorm in G (per-class
gamma/beta) and a projection D (logit + <V[y], phi(x)>, phi the flattened last features,
Miyato & Koyama 2018); 'acgan' = conditional BatchNorm in G and a class head on phi.
`attention_res` > 0 inserts a SAGAN self-attention block (Zhang et al. 2019) on the feature map
of that resolution, in G (after the layer that makes it), D (after the last layer at it) or
both (`attention_in`); `attention_pool` max-pools its keys and values.
With num_classes=0 and no attention the parameters and outputs are today's.
"""

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.checks import check_choice, check_number
from gan_jax.models.fast_conv import FastConv, FastConvTranspose
from gan_jax.models import conditioning as cond
from gan_jax.models.mlp import apply_layer

# conv field -> (conv layer, transposed conv layer); both take nn.Conv's arguments.
CONV_LAYERS = {"fast": (FastConv, FastConvTranspose), "xla": (nn.Conv, nn.ConvTranspose)}
DTYPES = {"float32": jnp.float32, "bfloat16": jnp.bfloat16}


def check_image_model(model, data_shape, *, z_dim, conv, dtype, **widths):
  """The fields every convolutional builder shares (z_dim, its widths, conv, dtype) and a
  square (H, H, C) data shape; FieldError / ValueError naming the first that is off."""
  check_number("z_dim", z_dim, integer=True, low=1)
  for name, width in widths.items():
    check_number(name, width, integer=True, low=1)
  check_choice("conv", conv, tuple(CONV_LAYERS))
  check_choice("dtype", dtype, tuple(DTYPES))
  if len(data_shape) != 3 or data_shape[0] != data_shape[1]:
    raise ValueError(f"{model} needs a square (H, H, C) image shape, got {tuple(data_shape)}")


CONDITIONINGS = ("projection", "acgan")


def _n_upsamplings(height: int) -> int:
  if height % 8 == 0:
    return 3
  if height % 4 == 0:
    return 2
  raise ValueError(f"sngan_cnn needs an image size divisible by 4, got {height}")


def _d_resolutions(height):
  """The feature-map sizes of the discriminator's convolutions (pad 1; stride 2 with 4x4)."""
  res = [height]
  for _ in range(3):
    res.append((res[-1] - 2) // 2 + 1)
  return res


class CNNGenerator(nn.Module):
  """z -> Dense -> reshape (s, s, 2*c0) -> BN -> ReLU -> [deconv 4x4/2 -> BN -> ReLU]*
  -> conv 3x3 -> tanh (the BN + ReLU after the dense layer as in chainer-gan-lib's
  DCGANGenerator, which the SNGAN paper used)."""

  data_shape: tuple[int, ...]
  z_dim: int = 128
  width: int = 64
  sn: bool = False
  conv: str = "fast"
  dtype: str = "float32"
  num_classes: int = 0
  attention_res: int = 0
  attention_pool: bool = False

  @nn.compact
  def __call__(self, z, y=None, *, train: bool):
    h, _, c = self.data_shape
    n = _n_upsamplings(h)
    s = h // 2**n
    chans = (4 * self.width, 2 * self.width, self.width)[-n:]
    conv, conv_transpose = CONV_LAYERS[self.conv]
    dtype = DTYPES[self.dtype]
    y = cond.labels(self, y, z.shape[0]) if self.num_classes else None
    bn_count = iter(range(n + 1))
    batchnorm = lambda x: cond.batchnorm(
        self, self.num_classes, y, train, dtype=dtype, name=f"CondBatchNorm_{next(bn_count)}"
    )(x)
    attend = lambda x: (
        cond.SelfAttention(self.sn, self.attention_pool, dtype, name="attention")(x, train)
        if x.shape[1] == self.attention_res
        else x
    )
    dense = nn.Dense(s * s * 2 * chans[0], dtype=dtype)
    x = apply_layer(dense, z.astype(jnp.float32), self.sn, train)
    x = x.reshape((x.shape[0], s, s, 2 * chans[0]))
    x = attend(nn.relu(batchnorm(x)))
    for i, ch in enumerate(chans):  # names as nn.ConvTranspose's, so conv='xla'/'fast' share params
      layer = conv_transpose(
          ch, (4, 4), strides=(2, 2), padding="SAME", dtype=dtype, name=f"ConvTranspose_{i}"
      )
      x = attend(nn.relu(batchnorm(apply_layer(layer, x, self.sn, train))))
    x = apply_layer(conv(c, (3, 3), padding="SAME", dtype=dtype, name="Conv_0"), x, self.sn, train)
    return jnp.tanh(x).astype(jnp.float32)


class CNNDiscriminator(nn.Module):
  """x -> 7 x [conv (pad 1) -> LeakyReLU(0.1)] -> flatten -> Dense(1) -> (B,)."""

  width: int = 64
  sn: bool = False
  conv: str = "fast"
  dtype: str = "float32"
  num_classes: int = 0
  conditioning: str = "none"
  attention_res: int = 0
  attention_pool: bool = False

  @nn.compact
  def __call__(self, x, y=None, *, train: bool):
    w = self.width
    conv, dtype = CONV_LAYERS[self.conv][0], DTYPES[self.dtype]
    y = cond.labels(self, y, x.shape[0]) if self.num_classes else None
    x = x.astype(jnp.float32)
    strides = (1, 2, 1, 2, 1, 2, 1)
    for i, (ch, k, st) in enumerate(
        zip((w, w, 2 * w, 2 * w, 4 * w, 4 * w, 8 * w), (3, 4, 3, 4, 3, 4, 3), strides)
    ):
      layer = conv(ch, (k, k), strides=st, padding=((1, 1), (1, 1)), dtype=dtype, name=f"Conv_{i}")
      x = nn.leaky_relu(apply_layer(layer, x, self.sn, train), 0.1)
      last_at_res = i + 1 == len(strides) or strides[i + 1] == 2
      if self.attention_res and x.shape[1] == self.attention_res and last_at_res:
        x = cond.SelfAttention(self.sn, self.attention_pool, dtype, name="attention")(x, train)
    x = x.reshape((x.shape[0], -1))
    return cond.head(
        x,
        y,
        num_classes=self.num_classes,
        conditioning=self.conditioning,
        sn=self.sn,
        train=train,
        dtype=dtype,
    )


def sngan_cnn(
    data_shape,
    *,
    z_dim=128,
    width=64,
    g_sn=False,
    d_sn=False,
    conv="fast",
    dtype="float32",
    num_classes=0,
    conditioning="none",
    attention_res=0,
    attention_in="both",
    attention_pool=False,
):
  """Build (CNNGenerator, CNNDiscriminator) for images of shape (H, H, C)."""
  cond.check_conditioning("sngan_cnn", num_classes, conditioning, CONDITIONINGS)
  check_image_model("sngan_cnn", data_shape, z_dim=z_dim, conv=conv, dtype=dtype, width=width)
  h = data_shape[0]
  n = _n_upsamplings(h)
  in_g, in_d = cond.attention_where(
      attention_res,
      attention_in,
      [h >> k for k in range(n + 1)],  # G: after the dense layer and after each deconv
      _d_resolutions(h),
      "sngan_cnn",
  )
  attention_pool = bool(attention_pool)
  g = CNNGenerator(
      tuple(data_shape),
      z_dim=z_dim,
      width=width,
      sn=g_sn,
      conv=conv,
      dtype=dtype,
      num_classes=num_classes,
      attention_res=attention_res if in_g else 0,
      attention_pool=attention_pool,
  )
  d = CNNDiscriminator(
      width=width,
      sn=d_sn,
      conv=conv,
      dtype=dtype,
      num_classes=num_classes,
      conditioning=conditioning,
      attention_res=attention_res if in_d else 0,
      attention_pool=attention_pool,
  )
  return g, d
