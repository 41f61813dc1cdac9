"""The ResNet generator and discriminator of WGAN-GP (Gulrajani et al. 2017, appendix F) and
SNGAN (Miyato et al. 2018, appendix B.4) for 32x32 images, sized by the data.

G: z -> Dense(s*s*g_width) -> reshape (s, s, g_width) -> n x GBlock -> BN -> ReLU
   -> conv 3x3 to C -> tanh, with n = 3 up-sampling blocks if H % 8 == 0 (s = H/8: 4 at 32,
   6 at 48, 8 at 64) else 2 (s = H/4: 7 at 28).
   GBlock(x) = conv3x3(ReLU(BN(conv3x3(up(ReLU(BN(x))))))) + conv1x1(up(x)), `up` the
   nearest-neighbour 2x up-sampling (jnp.repeat).
D: OptimizedBlock (down) -> DBlock (down) [-> DBlock (down) for H >= 48] -> DBlock -> DBlock
   -> ReLU -> global sum pooling -> Dense(1); every block d_width channels.
   OptimizedBlock(x) = pool(conv3x3(ReLU(conv3x3(x)))) + conv1x1(pool(x)) (SNGAN's first block);
   DBlock(x) = [pool](conv3x3(ReLU(conv3x3(ReLU(x))))) + shortcut, shortcut = [pool](conv1x1(x))
   when down-sampling or changing width, else x; `pool` a 2x2 average pooling.
At 32x32x3 (z 128): g_width=128 (WGAN-GP) G 1,204,483 and D 1,053,825 parameters;
g_width=256 (SNGAN's CIFAR-10 setting) G 4,276,739.

Class conditioning (models/conditioning.py): 'projection' = conditional BatchNorm in G's blocks
(the last BN stays unconditional, as in Miyato & Koyama's code) + projection D on the pooled
features; 'acgan' = conditional BatchNorm G + a class head on the pooled features.
`attention_res` inserts SAGAN self-attention (Zhang et al. 2019) after the G block (or the dense
layer) making that resolution and/or after the first D block at it (`attention_in`).
`conv`: 'fast' (models/fast_conv.py, stride-1 convolutions with custom VJPs: the gradient
penalty's double backprop stays on XLA:CPU's fast path) or 'xla' (nn.Conv).
"""

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.models import conditioning as cond
from gan_jax.models.sngan_cnn import CONV_LAYERS, DTYPES, check_image_model

CONDITIONINGS = ("projection", "acgan")


def upsample(x):
  """Nearest-neighbour 2x up-sampling of NHWC x."""
  return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)


def downsample(x):
  """2x2 average pooling of NHWC x."""
  return nn.avg_pool(x, (2, 2), strides=(2, 2))


def g_layout(height):
  """(start size s, number of up-sampling blocks) of the generator for images H x H."""
  if height % 8 == 0:
    return height // 8, 3
  if height % 4 == 0:
    return height // 4, 2
  raise ValueError(f"resnet needs an image size divisible by 4, got {height}")


def d_downsamplings(height):
  """Down-sampling blocks of the discriminator: 2 up to 32x32 (SNGAN's CIFAR D), 3 above."""
  return 2 if height <= 32 else 3


class _Layers(nn.Module):
  """Fields shared by the blocks."""

  features: int
  sn: bool = False
  conv: str = "fast"
  dtype: str = "float32"

  def conv_layer(self, x, kernel, name, train):
    layer = CONV_LAYERS[self.conv][0](
        self.features, (kernel, kernel), padding="SAME", dtype=DTYPES[self.dtype], name=name
    )
    return cond.apply_sn(layer, x, self.sn, train)


class GBlock(_Layers):
  num_classes: int = 0

  @nn.compact
  def __call__(self, x, y, train: bool):
    dtype = DTYPES[self.dtype]
    bn = lambda i: cond.batchnorm(self, self.num_classes, y, train, dtype, f"CondBatchNorm_{i}")
    h = upsample(nn.relu(bn(0)(x)))
    h = self.conv_layer(h, 3, "conv1", train)
    h = nn.relu(bn(1)(h))
    h = self.conv_layer(h, 3, "conv2", train)
    return h + self.conv_layer(upsample(x), 1, "shortcut", train)


class DBlock(_Layers):
  down: bool = True
  optimized: bool = False

  @nn.compact
  def __call__(self, x, train: bool):
    if self.optimized:
      h = self.conv_layer(x, 3, "conv1", train)
      h = downsample(self.conv_layer(nn.relu(h), 3, "conv2", train))
      return h + self.conv_layer(downsample(x), 1, "shortcut", train)
    h = self.conv_layer(nn.relu(x), 3, "conv1", train)
    h = self.conv_layer(nn.relu(h), 3, "conv2", train)
    if self.down:
      h = downsample(h)
    if self.down or x.shape[-1] != self.features:
      shortcut = self.conv_layer(x, 1, "shortcut", train)
      x = downsample(shortcut) if self.down else shortcut
    return h + x


class ResNetGenerator(nn.Module):
  data_shape: tuple[int, ...]
  z_dim: int = 128
  width: int = 128
  sn: bool = False
  conv: str = "fast"
  dtype: str = "float32"
  num_classes: int = 0
  attention_res: int = 0
  attention_pool: bool = False

  @nn.compact
  def __call__(self, z, y=None, *, train: bool):
    h, _, c = self.data_shape
    s, n = g_layout(h)
    dtype = DTYPES[self.dtype]
    y = cond.labels(self, y, z.shape[0]) if self.num_classes else None
    attend = lambda x: (
        cond.SelfAttention(self.sn, self.attention_pool, dtype, name="attention")(x, train)
        if x.shape[1] == self.attention_res
        else x
    )
    dense = nn.Dense(s * s * self.width, dtype=dtype, name="dense")
    x = cond.apply_sn(dense, z.astype(jnp.float32), self.sn, train)
    x = attend(x.reshape((x.shape[0], s, s, self.width)))
    fields = dict(sn=self.sn, conv=self.conv, dtype=self.dtype, num_classes=self.num_classes)
    for i in range(n):
      x = attend(GBlock(self.width, **fields, name=f"block{i + 1}")(x, y, train))
    x = nn.relu(nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=dtype)(x))
    layer = CONV_LAYERS[self.conv][0](c, (3, 3), padding="SAME", dtype=dtype, name="conv_out")
    return jnp.tanh(cond.apply_sn(layer, x, self.sn, train)).astype(jnp.float32)


class ResNetDiscriminator(nn.Module):
  width: int = 128
  sn: bool = False
  conv: str = "fast"
  dtype: str = "float32"
  num_classes: int = 0
  conditioning: str = "none"
  attention_res: int = 0
  attention_pool: bool = False

  @nn.compact
  def __call__(self, x, y=None, *, train: bool):
    dtype = DTYPES[self.dtype]
    y = cond.labels(self, y, x.shape[0]) if self.num_classes else None
    x = x.astype(jnp.float32)
    downs = d_downsamplings(x.shape[1])
    fields = dict(sn=self.sn, conv=self.conv, dtype=self.dtype)
    attended = False
    for i in range(downs + 2):
      block = DBlock(self.width, down=i < downs, optimized=i == 0, **fields, name=f"block{i + 1}")
      x = block(x, train)
      if not attended and x.shape[1] == self.attention_res:
        x = cond.SelfAttention(self.sn, self.attention_pool, dtype, name="attention")(x, train)
        attended = True
    phi = jnp.sum(nn.relu(x), axis=(1, 2))
    return cond.head(
        phi,
        y,
        num_classes=self.num_classes,
        conditioning=self.conditioning,
        sn=self.sn,
        train=train,
        dtype=dtype,
    )


def resnet(
    data_shape,
    *,
    z_dim=128,
    g_width=128,
    d_width=128,
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
  """Build (ResNetGenerator, ResNetDiscriminator) for images (H, H, C), H divisible by 4."""
  cond.check_conditioning("resnet", num_classes, conditioning, CONDITIONINGS)
  check_image_model(
      "resnet", data_shape, z_dim=z_dim, conv=conv, dtype=dtype, g_width=g_width, d_width=d_width
  )
  h = data_shape[0]
  s, n = g_layout(h)
  d_res, downs = [h], d_downsamplings(h)
  for _ in range(downs):
    d_res.append(d_res[-1] // 2)
  in_g, in_d = cond.attention_where(
      attention_res, attention_in, [s << k for k in range(n + 1)], d_res[1:], "resnet"
  )
  g = ResNetGenerator(
      tuple(data_shape),
      z_dim=z_dim,
      width=g_width,
      sn=g_sn,
      conv=conv,
      dtype=dtype,
      num_classes=num_classes,
      attention_res=attention_res if in_g else 0,
      attention_pool=bool(attention_pool),
  )
  d = ResNetDiscriminator(
      width=d_width,
      sn=d_sn,
      conv=conv,
      dtype=dtype,
      num_classes=num_classes,
      conditioning=conditioning,
      attention_res=attention_res if in_d else 0,
      attention_pool=bool(attention_pool),
  )
  return g, d
