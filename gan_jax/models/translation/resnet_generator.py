"""The ResNet generator of CycleGAN (Zhu et al. 2017; Johnson et al. 2016's transformation
network), in the layout of the reference's ResnetGenerator (junyanz/pytorch-CycleGAN-and-pix2pix,
models/networks.py):

  ReflectionPad 3, conv 7x7 to ngf, norm, ReLU
  2 x [conv 3x3/2 (pad 1) doubling the width, norm, ReLU]                 (H -> H / 4, 4 ngf)
  n_blocks x [x + (ReflectionPad 1, conv 3x3, norm, ReLU, (dropout), ReflectionPad 1, conv 3x3,
              norm)(x)]
  2 x [ConvTranspose 3x3/2 (PyTorch pad 1, output_padding 1) halving the width, norm, ReLU]
  ReflectionPad 3, conv 7x7 to the output channels (bias), tanh

Biases: `layers.conv_bias(norm)` on every other convolution (CycleGAN's instance norm: biases;
the norm has no scale or shift). H and W must be multiples of 4 (the two halvings come back to
the input's size). resnet_9blocks (ngf 64, instance norm, 3 -> 3 channels): 11,378,179
parameters, the reference's; resnet_6blocks 7,837,699. Dropout (rate `dropout`, 0: off; the
reference's use_dropout is 0.5) is on only in training, where G.apply then needs
rngs={'dropout': key}. G is called G(x, *, train) on NHWC images in [-1, 1]; it returns
(N, H, W, out_channels) float32 in [-1, 1].
"""

import flax.linen as nn
import jax.numpy as jnp

from gan_jax.checks import check_number
from gan_jax.models.translation.patchgan import PatchGAN, check_patchgan
from gan_jax.models.translation import layers

DOWNS = 2  # the reference's n_downsampling


def check_size(height, width):
  """ValueError (one line) unless 4 divides H and W (no field of the model sizes it)."""
  if height % 2**DOWNS or width % 2**DOWNS:
    raise ValueError(
        f'the ResNet generator halves the image twice: its height and width must be multiples '
        f'of {2**DOWNS}, got {height}x{width}'
    )


class ResNetGenerator(nn.Module):
  out_channels: int
  n_blocks: int = 6
  ngf: int = 16
  norm: str = 'instance'
  dropout: float = 0.0
  conv: str = 'fast'
  dtype: str = 'float32'

  @nn.compact
  def __call__(self, x, *, train: bool):
    layers.check_input('ResNetGenerator', x, 2**DOWNS)
    bias, dtype = layers.conv_bias(self.norm), layers.DTYPES[self.dtype]
    norm = lambda h, name: layers.normalize(h, self.norm, train=train, dtype=dtype, name=name)
    conv = lambda h, c, k, name, **kw: layers.conv(self, c, k, bias=bias, name=name, **kw)(h)
    h = conv(layers.reflect_pad(x.astype(jnp.float32), 3), self.ngf, 7, 'conv_in')
    h = nn.relu(norm(h, 'norm_in'))
    for i in range(DOWNS):
      h = conv(h, self.ngf * 2 ** (i + 1), 3, f'down{i}', stride=2, padding=1)
      h = nn.relu(norm(h, f'down_norm{i}'))
    width = self.ngf * 2**DOWNS
    for b in range(self.n_blocks):
      r = conv(layers.reflect_pad(h, 1), width, 3, f'block{b}_conv0')
      r = nn.relu(norm(r, f'block{b}_norm0'))
      if self.dropout:
        r = nn.Dropout(self.dropout, deterministic=not train)(r)
      h = h + norm(conv(layers.reflect_pad(r, 1), width, 3, f'block{b}_conv1'), f'block{b}_norm1')
    for i in range(DOWNS):
      features = self.ngf * 2 ** (DOWNS - 1 - i)
      up = layers.conv_transpose(self, features, 3, pads=(1, 2), bias=bias, name=f'up{i}')
      h = nn.relu(norm(up(h), f'up_norm{i}'))
    out = layers.conv(self, self.out_channels, 7, bias=True, name='conv_out')
    return jnp.tanh(out(layers.reflect_pad(h, 3))).astype(jnp.float32)


def resnet_generator(
    data_shape,
    *,
    n_blocks=6,
    ngf=16,
    norm='instance',
    dropout=0.0,
    n_layers=2,
    ndf=32,
    d_norm='instance',
    conv='fast',
    dtype='float32',
):
  """(ResNetGenerator to data_shape's channels, PatchGAN) for (H, W, C) images: CycleGAN's pair
  (instance norm on both). The defaults are sized for 28x28 digits on a CPU (ngf 16: about the
  multiply-adds per image of the default U-Net at 32x32; D n_layers 2 as the U-Net's); the
  reference's are ngf = ndf = 64, n_blocks 9 or 6, n_layers 3 (`translation.LAYOUTS`)."""
  layers.check_fields(
      data_shape, conv=conv, dtype=dtype, norms={'norm': norm}, widths={'ngf': ngf}
  )
  data_shape = tuple(int(d) for d in data_shape)
  check_number('n_blocks', n_blocks, integer=True, low=0)
  check_number('dropout', dropout, low=0, high_open=1)
  check_size(*data_shape[:2])
  check_patchgan(data_shape, n_layers=n_layers, ndf=ndf, d_norm=d_norm)
  g = ResNetGenerator(
      data_shape[-1], n_blocks=n_blocks, ngf=ngf, norm=norm, dropout=dropout, conv=conv, dtype=dtype
  )
  return g, PatchGAN(n_layers=n_layers, ndf=ndf, norm=d_norm, conv=conv, dtype=dtype)
