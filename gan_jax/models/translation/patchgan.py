"""The PatchGAN discriminator of pix2pix (Isola et al. 2017) in the layout of the reference's
NLayerDiscriminator, and its 1x1 PixelGAN (PixelDiscriminator), as one module: `n_layers`.

n_layers = n >= 1: conv 4x4/2 (pad 1) to ndf, LeakyReLU 0.2; for k = 1 .. n - 1: conv 4x4/2 to
ndf * min(2^k, 8), norm, LeakyReLU; conv 4x4/1 to ndf * min(2^n, 8), norm, LeakyReLU; conv
4x4/1 to 1 channel. The first and last convolutions have biases, the others
`layers.conv_bias(norm)`. D(x) is a grid of logits, one per patch of the input.
n_layers = 0 (PixelGAN): 1x1 convs to ndf (bias), LeakyReLU, to 2 ndf, norm, LeakyReLU, to 1
(the reference gives these last two `conv_bias(norm)`, and so do we): one logit per pixel.

Receptive field (`receptive_field`), the side of the input square one logit sees: r = 1 for the
pixel layout; else back from the output, r <- (r - 1) * stride + 4 over the two stride-1 and the
n stride-2 convolutions: 16, 34, 70, 142, 286 at n = 1 .. 5 (70: pix2pix's 70x70 PatchGAN,
286: its "ImageGAN" at 256x256). The logit grid of an H-high input (`patch_grid`):
H -> floor(H / 2) n times, then -1 twice (28 -> 1 and 32 -> 2 at n = 3).

Parameters at ndf 64, n_layers 3 as the reference: 2,768,705 on 6 input channels (pix2pix's
input|output pairs) with batch norm, 2,764,737 on 3 (CycleGAN) with instance norm; the PixelGAN
9,024 on 6 channels with batch norm, 8,705 on 3 with instance norm. D is called D(x, *, train) on
NHWC images (any number of channels: pix2pix concatenates input and output); it returns float32
logits of shape (N, h, w, 1), (h, w) = patch_grid of (H, W).
"""

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.checks import check_number
from gan_jax.errors import FieldError
from gan_jax.models.translation import layers


def receptive_field(n_layers: int) -> int:
  """The side of the input square each logit of PatchGAN(n_layers) sees (1: the PixelGAN)."""
  if n_layers == 0:
    return 1
  r = 1
  for stride in (1, 1, *([2] * n_layers)):  # the convolutions from the last to the first
    r = (r - 1) * stride + 4
  return r


def patch_grid(size: int, n_layers: int) -> int:
  """The number of logits along a side of `size` pixels (< 1: the input is too small)."""
  if n_layers == 0:
    return size
  for _ in range(n_layers):
    size = (size + 2 - 4) // 2 + 1
  return size - 2


def widths(n_layers, ndf):
  """The channels of the convolutions before the 1-channel output."""
  if n_layers == 0:
    return [ndf, 2 * ndf]
  return [ndf * min(2**k, 8) for k in range(n_layers + 1)]


def check_patchgan(data_shape, *, n_layers, ndf, d_norm):
  """FieldError (one line, naming the builders' field) for fields PatchGAN cannot run with on
  (H, W, C) images."""
  check_number('n_layers', n_layers, integer=True, low=0)
  check_number('ndf', ndf, integer=True, low=1)
  layers.check_norm('d_norm', d_norm)
  height, width = data_shape[:2]
  if min(patch_grid(height, n_layers), patch_grid(width, n_layers)) < 1:
    raise FieldError(
        f'n_layers={n_layers}: a {height}x{width} image is too small for it (no patch is left; '
        f'the largest n_layers for it is {_largest(height, width)})'
    )


def _largest(height, width):
  n = 0
  while min(patch_grid(height, n + 1), patch_grid(width, n + 1)) >= 1:
    n += 1
  return n


class PatchGAN(nn.Module):
  n_layers: int = 3
  ndf: int = 64
  norm: str = 'batch'
  conv: str = 'fast'
  dtype: str = 'float32'

  @property
  def receptive_field(self) -> int:
    return receptive_field(self.n_layers)

  @nn.compact
  def __call__(self, x, *, train: bool):
    layers.check_input('PatchGAN', x, 1)
    dtype, bias = layers.DTYPES[self.dtype], layers.conv_bias(self.norm)
    norm = lambda h, name: layers.normalize(h, self.norm, train=train, dtype=dtype, name=name)
    h = x.astype(jnp.float32)
    if self.n_layers == 0:
      h = nn.leaky_relu(layers.conv(self, self.ndf, 1, bias=True, name='conv0')(h), 0.2)
      h = layers.conv(self, 2 * self.ndf, 1, bias=bias, name='conv1')(h)
      h = nn.leaky_relu(norm(h, 'norm1'), 0.2)
      return layers.conv(self, 1, 1, bias=bias, name='conv2')(h).astype(jnp.float32)
    for k, features in enumerate(widths(self.n_layers, self.ndf)):
      stride = 2 if k < self.n_layers else 1
      layer = layers.conv(
          self, features, 4, stride=stride, padding=1, bias=bias or k == 0, name=f'conv{k}'
      )
      h = layer(h)
      if k > 0:
        h = norm(h, f'norm{k}')
      h = nn.leaky_relu(h, 0.2)
    last = layers.conv(self, 1, 4, padding=1, bias=True, name=f'conv{self.n_layers + 1}')
    return last(h).astype(jnp.float32)
