"""Progressive GAN networks (Karras et al. 2018, "Progressive Growing of GANs"), grown by stage.

Stage s works at resolution 4 * 2^s (s = 0: 4x4), up to the final stage S of the model's
`resolution` R (the smallest 4 * 2^S >= the data's H; data of another size sits in the middle
of R x R: G's final-stage output is cropped to H, D's final-stage input padded with -1, e.g.
MNIST's 28 in 32 with a 2-pixel border). The width of stage s is nf(s) = min(fmap_base /
2^(s+1), fmap_max) (the reference's nf(log2 res - 1)); nf(-1) = min(fmap_base, fmap_max).

Every layer has an equalized learning rate: its weights are stored N(0, 1) and scaled at run
time by He's constant gain / sqrt(fan_in) (gain sqrt(2), toRGB 1, G's first dense sqrt(2)/4);
biases start at 0. Activations: LeakyReLU(0.2).

G(z, stage, alpha): pixelnorm(z) -> Dense to 4x4 x nf(0) -> lrelu -> pixelnorm -> conv3x3 ->
  lrelu -> pixelnorm; block s >= 1: nearest 2x upsampling -> 2 x [conv3x3 nf(s) -> lrelu ->
  pixelnorm]; toRGB_s: 1x1 conv to C, linear. At stage s >= 1 the output is
  (1 - alpha) * up(toRGB_{s-1}(h_{s-1})) + alpha * toRGB_s(block_s(h_{s-1})).
D(x, stage, alpha): fromRGB_s: 1x1 conv to nf(s) -> lrelu; block s >= 1: conv3x3 nf(s) ->
  lrelu -> conv3x3 nf(s-1) -> lrelu -> 2x2 average pooling; at stage s >= 1 the input of block
  s-1 is (1 - alpha) * fromRGB_{s-1}(down(x)) + alpha * block_s(fromRGB_s(x)); the 4x4 block:
  minibatch stddev (group 4) -> conv3x3 nf(0) -> lrelu -> Dense nf(-1) -> lrelu -> Dense 1.
With alpha = 0 both are exactly the stage s-1 networks (on down(x)); with alpha = 1 exactly
the new path. Parameters are named by stage, so stage s's parameters are stage s+1's.

Class-conditional (conditioning='projection', num_classes K >= 2): G's input is
pixelnorm([z, one_hot(y)]) (the reference's labels concatenated to the latents), and D's logit
gains <V[y], phi(x)> with phi(x) the features of its Dense nf(-1) layer and V a learned (K, nf(-1))
embedding (Miyato & Koyama 2018's projection, models/conditioning.py).

The stage is a static Python int (one program per stage), alpha a traced scalar. Called as the
suite's models (G(z, y=None, *, train), D(x, y=None, *, train)) they run the final stage with
alpha = 1, or G at its fields `stage`, `alpha` (G.clone(stage=s, alpha=a): the same parameters,
for the suite's samplers). At initialization every stage's layers are created (all toRGB / fromRGB), so one
parameter tree serves every stage.
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.checks import check_number
from gan_jax.models import conditioning as cond
from gan_jax.models import fast_conv

EPS = 1e-8
MAX_RESOLUTION = 1024


def final_resolution(height):
  """The smallest 4 * 2^s >= height (the model's working resolution)."""
  r = 4
  while r < height:
    r *= 2
  return r


def num_stages(resolution):
  """Stages from 4x4 to `resolution` (4 * 2^S): S + 1."""
  return int(math.log2(resolution // 4)) + 1


def stage_resolution(stage):
  return 4 << stage


def stage_of_resolution(resolution):
  """The stage s working at `resolution` = 4 * 2^s, or None if it is not 4 times a power of 2."""
  if not isinstance(resolution, int) or resolution < 4 or resolution % 4:
    return None
  k = resolution // 4
  return k.bit_length() - 1 if k & (k - 1) == 0 else None


def pixel_norm(x):
  """x / sqrt(mean over channels of x^2 + 1e-8) (pixelwise feature vector normalization)."""
  return x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=-1, keepdims=True) + EPS)


def minibatch_stddev(x, group_size=4):
  """Appends one channel: per group of min(group_size, N) samples (sample n in group n mod
  N/G, the reference's reshape), the std over the group of each feature, averaged over H, W, C."""
  n, h, w, c = x.shape
  g = min(group_size, n)
  if n % g:
    raise ValueError(f'minibatch stddev: a batch of {n} is not a multiple of the group {g}')
  y = x.reshape(g, n // g, h, w, c)
  y = y - jnp.mean(y, axis=0, keepdims=True)
  y = jnp.sqrt(jnp.mean(jnp.square(y), axis=0) + EPS)  # (N/G, H, W, C)
  y = jnp.mean(y, axis=(1, 2, 3))  # (N/G,)
  y = jnp.tile(y, g)[:, None, None, None]  # sample n -> y[n mod N/G]
  return jnp.concatenate([x, jnp.broadcast_to(y, (n, h, w, 1)).astype(x.dtype)], axis=-1)


def upscale(x, factor=2):
  """Nearest-neighbour upsampling of (N, H, W, C) by `factor`."""
  if factor == 1:
    return x
  return jnp.repeat(jnp.repeat(x, factor, axis=1), factor, axis=2)


def downscale(x, factor=2):
  """Average pooling of (N, H, W, C) over `factor` x `factor` blocks."""
  if factor == 1:
    return x
  n, h, w, c = x.shape
  return x.reshape(n, h // factor, factor, w // factor, factor, c).mean(axis=(2, 4))


def fade_reals(x, alpha):
  """Real images at a fading stage: (1 - alpha) * up(down(x)) + alpha * x (x at the stage's
  resolution), so D sees reals as blurred as G's faded-in output."""
  return (1 - alpha) * upscale(downscale(x)) + alpha * x


def lerp(old, new, alpha):
  """(1 - alpha) * old + alpha * new: exactly `old` at alpha 0, exactly `new` at alpha 1."""
  return (1 - alpha) * old + alpha * new


class EqDense(nn.Module):
  """Dense with an equalized learning rate: y = x (W gain / sqrt(fan_in)) + b, W ~ N(0, 1)."""

  features: int
  gain: float = math.sqrt(2)

  @nn.compact
  def __call__(self, x):
    kernel = self.param('kernel', nn.initializers.normal(1.0), (x.shape[-1], self.features))
    bias = self.param('bias', nn.initializers.zeros, (self.features,))
    return x @ (kernel * (self.gain / math.sqrt(x.shape[-1]))) + bias


class EqConv(nn.Module):
  """k x k convolution (stride 1, SAME) with an equalized learning rate (fan_in = k k C_in)."""

  features: int
  kernel_size: int = 3
  gain: float = math.sqrt(2)

  @nn.compact
  def __call__(self, x):
    k = self.kernel_size
    shape = (k, k, x.shape[-1], self.features)
    kernel = self.param('kernel', nn.initializers.normal(1.0), shape)
    bias = self.param('bias', nn.initializers.zeros, (self.features,))
    scale = self.gain / math.sqrt(k * k * x.shape[-1])
    p = k // 2
    return fast_conv.conv(x, kernel * scale, ((p, p), (p, p))) + bias


def _lrelu(x):
  return nn.leaky_relu(x, 0.2)


def widths(fmap_base, fmap_max, stages):
  """[nf(0), ..., nf(stages - 1)]: the width of each stage."""
  return [min(fmap_base >> (s + 1), fmap_max) for s in range(stages)]


class _Grown:
  """The final resolution and the number of stages of a network for data of `data_shape`."""

  @property
  def resolution(self):
    return final_resolution(self.data_shape[0])

  @property
  def num_stages(self):
    return num_stages(self.resolution)


class ProGANGenerator(_Grown, nn.Module):
  data_shape: tuple[int, ...]
  z_dim: int = 512
  fmap_base: int = 8192
  fmap_max: int = 512
  num_classes: int = 0
  stage: int | None = None  # the stage and alpha of calls that name none (None: the final one)
  alpha: float = 1.0

  def _block(self, x, s, nf):
    if s == 0:
      x = EqDense(4 * 4 * nf, gain=math.sqrt(2) / 4, name='dense_0')(pixel_norm(x))
      x = pixel_norm(_lrelu(x.reshape(-1, 4, 4, nf)))
      return pixel_norm(_lrelu(EqConv(nf, name='conv_0')(x)))
    x = upscale(x)
    x = pixel_norm(_lrelu(EqConv(nf, name=f'conv_{s}a')(x)))
    return pixel_norm(_lrelu(EqConv(nf, name=f'conv_{s}b')(x)))


  @nn.compact
  def __call__(self, z, y=None, *, train=False, stage=None, alpha=None):
    """Images (N, 4 * 2^stage, ...) (the data's shape at the final stage), float32."""
    del train  # no batch statistics
    last = self.num_stages - 1
    stage = self.stage if stage is None else stage
    stage = last if stage is None else stage
    alpha = self.alpha if alpha is None else alpha
    nf = widths(self.fmap_base, self.fmap_max, self.num_stages)
    c = self.data_shape[-1]
    to_rgb = [EqConv(c, 1, gain=1.0, name=f'to_rgb_{s}') for s in range(stage + 1)]
    h, prev = z.astype(jnp.float32), None
    if self.num_classes:  # labels joined to the latents (pixel-normalized together)
      h = jnp.concatenate([h, cond.one_hot(cond.labels(self, y, len(z)), self.num_classes)], -1)
    for s in range(stage + 1):
      prev, h = h, self._block(h, s, nf[s])
      if self.is_initializing() and s < stage:
        to_rgb[s](h)  # every stage's toRGB exists in the one parameter tree
    out = to_rgb[stage](h)
    if stage > 0:
      out = lerp(upscale(to_rgb[stage - 1](prev)), out, alpha)
    if stage == last and self.resolution != self.data_shape[0]:
      border = (self.resolution - self.data_shape[0]) // 2
      out = out[:, border:-border, border:-border]
    return out


class ProGANDiscriminator(_Grown, nn.Module):
  data_shape: tuple[int, ...]
  fmap_base: int = 8192
  fmap_max: int = 512
  mbstd_group: int = 4
  num_classes: int = 0

  def _block(self, x, s, nf):
    x = _lrelu(EqConv(nf[s], name=f'conv_{s}a')(x))
    return downscale(_lrelu(EqConv(nf[s - 1], name=f'conv_{s}b')(x)))

  def _head(self, x, nf, y):
    if self.mbstd_group > 1:
      x = minibatch_stddev(x, self.mbstd_group)
    x = _lrelu(EqConv(nf[0], name='conv_0')(x))
    x = _lrelu(EqDense(min(self.fmap_base, self.fmap_max), name='dense_0')(x.reshape(len(x), -1)))
    logits = EqDense(1, gain=1.0, name='dense_out')(x)[:, 0]
    if self.num_classes:  # projection: + <V[y], phi(x)>
      logits += jnp.sum(nn.Embed(self.num_classes, x.shape[-1], name='embed')(y) * x, axis=-1)
    return logits

  @nn.compact
  def __call__(self, x, y=None, *, train=False, stage=None, alpha=1.0):
    """Logits (N,) of images at stage `stage`'s resolution (the data's at the final stage)."""
    del train
    y = cond.labels(self, y, len(x)) if self.num_classes else None
    last = self.num_stages - 1
    stage = last if stage is None else stage
    nf = widths(self.fmap_base, self.fmap_max, self.num_stages)
    x = x.astype(jnp.float32)
    if stage == last and self.resolution != x.shape[1]:
      border = (self.resolution - x.shape[1]) // 2
      pad = ((0, 0), (border, border), (border, border), (0, 0))
      x = jnp.pad(x, pad, constant_values=-1.0)
    convs = [EqConv(nf[s], 1, name=f'from_rgb_{s}') for s in range(stage + 1)]
    from_rgb = lambda s, images: _lrelu(convs[s](images))
    h = from_rgb(stage, x)
    if self.is_initializing():  # every stage's fromRGB exists in the one parameter tree
      for s in range(stage - 1):
        from_rgb(s, downscale(x, 2 ** (stage - s)))
    for s in range(stage, 0, -1):
      h = self._block(h, s, nf)
      if s == stage:
        h = lerp(from_rgb(s - 1, downscale(x)), h, alpha)
    return self._head(h, nf, y).astype(jnp.float32)


def progan(
    data_shape,
    *,
    z_dim=512,
    fmap_base=8192,
    fmap_max=512,
    mbstd_group=4,
    num_classes=0,
    conditioning='none',
):
  """Build (ProGANGenerator, ProGANDiscriminator) for square images (H, H, C), H <= 1024;
  class-conditional with conditioning='projection' (the module docstring)."""
  cond.check_conditioning('progan', num_classes, conditioning, ('projection',))
  for name, value in (('z_dim', z_dim), ('fmap_base', fmap_base), ('fmap_max', fmap_max)):
    check_number(name, value, integer=True, low=1)
  check_number('mbstd_group', mbstd_group, integer=True, low=1)
  if len(data_shape) != 3 or data_shape[0] != data_shape[1]:
    raise ValueError(f'progan needs a square (H, H, C) image shape, got {tuple(data_shape)}')
  h = data_shape[0]
  if not 4 <= h <= MAX_RESOLUTION or (final_resolution(h) - h) % 2:
    raise ValueError(
        f'progan needs images of 4 to {MAX_RESOLUTION} pixels a side whose size is even or a '
        f'power of two times 4, got {h}'
    )
  nf = widths(fmap_base, fmap_max, num_stages(final_resolution(h)))
  if min(nf) < 1:
    raise ValueError(f'fmap_base={fmap_base}: the last stage would have no feature maps')
  g = ProGANGenerator(tuple(data_shape), z_dim, fmap_base, fmap_max, num_classes)
  d = ProGANDiscriminator(tuple(data_shape), fmap_base, fmap_max, mbstd_group, num_classes)
  return g, d
