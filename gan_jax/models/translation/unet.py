"""The U-Net generator of pix2pix (Isola et al. 2017), in the layout of the reference
implementation's UnetGenerator (junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py).

n = num_downs levels; level i (0 = outermost) halves the size with a 4x4/2 convolution (pad 1)
to w_i = ngf * min(2^i, 8) channels and doubles it back with a 4x4/2 transposed convolution
(PyTorch pad 1) to the level's input width (the image's C at level 0):

  down_i = conv(x_i) for i = 0, conv(LeakyReLU_0.2(x_i)) otherwise; then norm for 0 < i < n - 1
           (the outermost and the innermost levels have no norm on the way down)
  up_i   = ConvT(ReLU(down_{n-1}))                    i = n - 1 (innermost: no skip below it)
           ConvT(ReLU(concat(x_{i+1}, up_{i+1})))     otherwise; x_{i+1} = down_i is the skip
  then norm (and dropout on `dropout_blocks` levels) for i > 0; G(x) = tanh(up_0).

The skip concatenates the features entering a level with those coming back up at the same size,
so H and W must be multiples of 2^n (the innermost output is (H / 2^n) x (W / 2^n); at 256 and
n = 8, 1x1). Convolution biases: `layers.conv_bias(norm)` (the reference's: only with instance
norm), and always on the outermost transposed convolution.

Dropout is pix2pix's noise: rate `dropout` after the norm of the `dropout_blocks` levels just
outside the innermost (levels n - 1 - dropout_blocks .. n - 2, or all of 1 .. n - 2 if fewer;
the reference puts it on its num_downs - 5 middle blocks of width 8 ngf: 3 at unet_256, 2 at
unet_128, none below num_downs 6, hence a field). It is on in training
and, with `dropout_at_test` (pix2pix's choice: the paper runs the generator at test as in
training), also when train=False; while it is on, G.apply needs rngs={'dropout': key}.

unet_256 (n = 8, ngf 64, batch norm, 3 -> 3 channels): 54,413,955 parameters, the reference's
count (its layers counted one by one: 54,409,603 with instance norm, whose convolutions gain a
bias and lose BatchNorm's scale and shift). G is called G(x, *, train) on NHWC float images in
[-1, 1] of any number of channels; it returns (N, H, W, out_channels) float32 in [-1, 1].
"""

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.checks import check_number
from gan_jax.errors import FieldError
from gan_jax.models.translation import layers
from gan_jax.models.translation.patchgan import PatchGAN, check_patchgan


def level_widths(num_downs, ngf):
  """[w_0, ..., w_{n-1}]: the channels of each level's down convolution."""
  return [ngf * min(2**i, 8) for i in range(num_downs)]


def dropout_levels(num_downs, dropout_blocks):
  """The levels whose up path ends in dropout: the `dropout_blocks` just outside the innermost
  (all the num_downs - 2 between the outermost and the innermost, if there are fewer)."""
  return range(max(1, num_downs - 1 - dropout_blocks), num_downs - 1)


def check_size(num_downs, height, width):
  """FieldError (one line) unless the U-Net of `num_downs` levels takes H x W images."""
  step = 2**num_downs
  if height % step or width % step:
    raise FieldError(
        f'num_downs={num_downs}: the image size {height}x{width} must be divisible by '
        f'2**num_downs = {step} (largest num_downs for it: {_largest_depth(height, width)})'
    )


def _largest_depth(height, width):
  n = 0
  while height % 2 ** (n + 1) == 0 and width % 2 ** (n + 1) == 0:
    n += 1
  return n


class UNetGenerator(nn.Module):
  out_channels: int
  num_downs: int = 5
  ngf: int = 32
  norm: str = 'batch'
  dropout: float = 0.5
  dropout_blocks: int = 3
  dropout_at_test: bool = True
  conv: str = 'fast'
  dtype: str = 'float32'

  @nn.compact
  def __call__(self, x, *, train: bool):
    n = self.num_downs
    layers.check_input('UNetGenerator', x, 2**n)
    widths = level_widths(n, self.ngf)
    bias, dtype = layers.conv_bias(self.norm), layers.DTYPES[self.dtype]
    norm = lambda h, name: layers.normalize(h, self.norm, train=train, dtype=dtype, name=name)
    h, skips = x.astype(jnp.float32), []
    for i in range(n):
      skips.append(h)
      h = h if i == 0 else nn.leaky_relu(h, 0.2)
      h = layers.conv(self, widths[i], 4, stride=2, padding=1, bias=bias, name=f'down{i}')(h)
      if 0 < i < n - 1:
        h = norm(h, f'down_norm{i}')
    noisy = train or self.dropout_at_test
    for i in reversed(range(n)):
      features = self.out_channels if i == 0 else widths[i - 1]
      up = layers.conv_transpose(self, features, 4, pads=(2, 2), bias=bias or i == 0, name=f'up{i}')
      h = up(nn.relu(h))
      if i == 0:
        return jnp.tanh(h).astype(jnp.float32)
      h = norm(h, f'up_norm{i}')
      if self.dropout and i in dropout_levels(n, self.dropout_blocks):
        h = nn.Dropout(self.dropout, deterministic=not noisy)(h)
      h = jnp.concatenate([skips[i].astype(h.dtype), h], axis=-1)


def unet(
    data_shape,
    *,
    num_downs=5,
    ngf=32,
    norm='batch',
    dropout=0.5,
    dropout_blocks=3,
    dropout_at_test=True,
    n_layers=2,
    ndf=32,
    d_norm='batch',
    conv='fast',
    dtype='float32',
):
  """(UNetGenerator to data_shape's channels, PatchGAN) for (H, W, C) images: pix2pix's pair
  (batch norm on both). The defaults fit 32x32 images (innermost 1x1, as unet_256 at 256x256;
  D's 34x34 receptive field covers the image: n_layers 3 adds layers on 3x3 and 2x2 maps that
  take several times D's time on XLA:CPU); the reference's unet_256 is num_downs 8, ngf = ndf = 64,
  n_layers 3 (`translation.LAYOUTS`)."""
  layers.check_fields(
      data_shape, conv=conv, dtype=dtype, norms={'norm': norm}, widths={'ngf': ngf}
  )
  data_shape = tuple(int(d) for d in data_shape)
  check_number('num_downs', num_downs, integer=True, low=2)
  check_number('dropout', dropout, low=0, high_open=1)
  check_number('dropout_blocks', dropout_blocks, integer=True, low=0)
  if not isinstance(dropout_at_test, bool):
    raise FieldError(f'dropout_at_test={dropout_at_test!r}: must be True or False')
  check_size(num_downs, *data_shape[:2])
  check_patchgan(data_shape, n_layers=n_layers, ndf=ndf, d_norm=d_norm)
  g = UNetGenerator(
      data_shape[-1],
      num_downs=num_downs,
      ngf=ngf,
      norm=norm,
      dropout=dropout,
      dropout_blocks=dropout_blocks,
      dropout_at_test=dropout_at_test,
      conv=conv,
      dtype=dtype,
  )
  return g, PatchGAN(n_layers=n_layers, ndf=ndf, norm=d_norm, conv=conv, dtype=dtype)
