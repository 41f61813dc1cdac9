"""Exact convolution layers built only from stride-1 NHWC x HWIO convolutions.

XLA:CPU runs a stride-1 NHWC x HWIO convolution (zero padding folded in or not) on its fast
(Eigen) path. The strided, lhs-dilated, rhs-dilated and window-reversed convolutions that JAX's
autodiff emits for strided and transposed convolutions and for their second derivatives (the
gradient penalty's double backprop) miss it: on a 2-core x86, 5-7 s instead of 0.3-0.4 s for
one SNGAN layer's double backprop or transposed-conv backward at batch 64-128. Here every
convolution, in the forward pass and in derivatives of any reverse-mode order, is

  conv(x, k, pad)[n, i, j, o] = sum_{a, b, c} x_pad[n, i + a, j + b, c] k[a, b, c, o]

(x_pad: x zero-padded by `pad` = ((top, bottom), (left, right)); negative pads crop) whose VJP
is again made of `conv` and its kernel gradient:

  dx = conv(dy, flip_hw(k) with I and O swapped, ((kh - 1 - top, kh - 1 - bottom), ...))
  dk = kernel_grad(x, dy, pad)[a, b, c, o] = sum_{n, i, j} x_pad[n, i + a, j + b, c] dy[n, i, j, o]

and kernel_grad's VJP at g is (input grad of conv(., g, pad) at dy, conv(x, g, pad)).
kernel_grad is a stride-1 convolution too, with the batch as its contraction dim. With at most
4 output channels (an image's) conv and kernel_grad are instead one GEMM and a sum of shifted
slices: Eigen's convolution runs those 3-5x slower.

A stride-s convolution is a space-to-depth of the padded input (s x s blocks into channels) and
a stride-1 convolution with the rearranged kernel; a stride-s transposed convolution is a
stride-1 convolution to s*s*O channels (one per output phase) and a depth-to-space. Both are
exact rearrangements (the same products and sums; only the summation order differs), so
results match lax's to float rounding. Forward-mode autodiff (jvp) is not available through
custom VJPs: use nn.Conv (sngan_cnn's conv='xla') for that.

`FastConv` / `FastConvTranspose` are drop-in for `nn.Conv` / `nn.ConvTranspose` on NHWC inputs:
the same parameters ('kernel' HWIO, 'bias'), initializers, dtype promotion and output.
"""

import functools
from typing import Any, Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax.linen.dtypes import promote_dtype
from jax import lax

_DIMENSION_NUMBERS = ('NHWC', 'HWIO', 'NHWC')
_NO_PAD = ((0, 0), (0, 0))


def _pad_or_crop(x, axis, before, after):
  """Pads (positive) or crops (negative) `x` along `axis`."""
  if before == after == 0:
    return x
  config = [(0, 0, 0)] * x.ndim
  config[axis] = (before, after, 0)
  return lax.pad(x, jnp.zeros((), x.dtype), config)


def _crop(x, pad):
  """(x with negative pads cropped off, the remaining pads)."""
  for axis, (lo, hi) in zip((1, 2), pad):
    x = _pad_or_crop(x, axis, min(lo, 0), min(hi, 0))
  return x, tuple((max(lo, 0), max(hi, 0)) for lo, hi in pad)


def _lax_conv(x, k, pad):
  """lax's stride-1 convolution, pads >= 0."""
  return lax.conv_general_dilated(x, k, (1, 1), pad, dimension_numbers=_DIMENSION_NUMBERS)


def _narrow_conv(x, k, pad):
  """conv for few output channels (an image's), where Eigen's convolution is several times
  slower: one GEMM to every (tap, channel), then a sum of shifted slices:
    p[n, u, v, a, b, o] = sum_c x[n, u, v, c] k[a, b, c, o]
    y[n, i, j, o] = sum_{a, b} p_pad[n, i + a, j + b, a, b, o]
  """
  (n, h, w, c), (kh, kw, _, o) = x.shape, k.shape
  p = jnp.dot(x.reshape(-1, c), k.transpose(2, 0, 1, 3).reshape(c, -1))
  p = jnp.pad(p.reshape(n, h, w, kh, kw, o), ((0, 0), *pad, (0, 0), (0, 0), (0, 0)))
  ho, wo = p.shape[1] - kh + 1, p.shape[2] - kw + 1
  return sum(p[:, a : a + ho, b : b + wo, a, b] for a in range(kh) for b in range(kw))


def _narrow_kernel_grad(x, dy, pad):
  """kernel_grad for few dy channels: one GEMM of x with dy's kh * kw shifted copies,
  dk[a, b, c, o] = sum_{n, u, v} x[n, u, v, c] dy[n, u + top - a, v + left - b, o]."""
  (n, h, w, c), o = x.shape, dy.shape[-1]
  (top, bottom), (left, right) = pad
  kh, kw = h + top + bottom - dy.shape[1] + 1, w + left + right - dy.shape[2] + 1
  dy = jnp.pad(dy, ((0, 0), (kh - 1, kh - 1), (kw - 1, kw - 1), (0, 0)))
  rows, cols = top + kh - 1, left + kw - 1
  taps = [(rows - a, cols - b) for a in range(kh) for b in range(kw)]
  shifted = jnp.stack([dy[:, i : i + h, j : j + w] for i, j in taps], axis=3)
  shifted = shifted.reshape(-1, kh * kw * o)
  dk = lax.dot_general(x.reshape(-1, c), shifted, (((0,), (0,)), ((), ())))
  return dk.reshape(c, kh, kw, o).transpose(1, 2, 0, 3)


# Output channels up to which conv and kernel_grad are GEMMs, not Eigen convolutions.
_NARROW = 4


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def conv(x, k, pad=_NO_PAD):
  """y[n, i, j, o] = sum_{a, b, c} x_pad[n, i + a, j + b, c] k[a, b, c, o]; x NHWC, k HWIO,
  pad ((top, bottom), (left, right)) zeros (negative: crop)."""
  x, pad = _crop(x, pad)
  return (_narrow_conv if k.shape[-1] <= _NARROW else _lax_conv)(x, k, pad)


def input_grad(dy, k, pad=_NO_PAD):
  """The VJP of conv(., k, pad) at dy: a full correlation with the flipped kernel."""
  kh, kw = k.shape[:2]
  (top, bottom), (left, right) = pad
  pad_t = ((kh - 1 - top, kh - 1 - bottom), (kw - 1 - left, kw - 1 - right))
  return conv(dy, jnp.swapaxes(k[::-1, ::-1], 2, 3), pad_t)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
def kernel_grad(x, dy, pad=_NO_PAD):
  """dk[a, b, c, o] = sum_{n, i, j} x_pad[n, i + a, j + b, c] dy[n, i, j, o]: the VJP of
  conv(x, ., pad) at dy; a convolution of x_pad as (C, H, W, N) with dy as (Ho, Wo, N, O).

  Where x (unpadded) has fewer pixels than the (Ho, Wo) window, XLA would swap the operands
  into a window-reversed convolution, off the fast path: x is then padded before, not inside,
  this convolution.
  """
  x, pad = _crop(x, pad)
  if dy.shape[-1] <= _NARROW:
    return _narrow_kernel_grad(x, dy, pad)
  if dy.shape[1] * dy.shape[2] > x.shape[1] * x.shape[2]:
    for axis, (lo, hi) in zip((1, 2), pad):
      x = _pad_or_crop(x, axis, lo, hi)
    pad = _NO_PAD
  out = _lax_conv(jnp.transpose(x, (3, 1, 2, 0)), jnp.transpose(dy, (1, 2, 0, 3)), pad)
  return jnp.transpose(out, (1, 2, 0, 3))


def _conv_fwd(x, k, pad):
  return conv(x, k, pad), (x, k)


def _conv_bwd(pad, res, dy):
  x, k = res
  return input_grad(dy, k, pad), kernel_grad(x, dy, pad)


def _kernel_grad_fwd(x, dy, pad):
  return kernel_grad(x, dy, pad), (x, dy)


def _kernel_grad_bwd(pad, res, g):
  x, dy = res
  return input_grad(dy, g, pad), conv(x, g, pad)


conv.defvjp(_conv_fwd, _conv_bwd)
kernel_grad.defvjp(_kernel_grad_fwd, _kernel_grad_bwd)


@jax.custom_vjp
def add_bias(y, b):
  """y + b over the last axis. b's gradient is a GEMV with ones, accumulated in float32:
  XLA:CPU's reduction over N, H, W is slower (the WGAN-GP step: 4% faster this way)."""
  return y + b


def _add_bias_fwd(y, b):
  return y + b, None


def _add_bias_bwd(_, dy):
  rows = dy.reshape(-1, dy.shape[-1])
  ones = jnp.ones(rows.shape[0], dy.dtype)
  db = lax.dot_general(ones, rows, (((0,), (0,)), ((), ())), preferred_element_type=jnp.float32)
  return dy, db.astype(dy.dtype)


add_bias.defvjp(_add_bias_fwd, _add_bias_bwd)


def strided_conv(x, k, strides, pad=_NO_PAD):
  """lax.conv_general_dilated(x, k, strides, pad) (NHWC, HWIO) from `conv`.

  With strides > 1 the kernel is zero-padded to multiples of the strides; the padded input's
  s x s blocks move into channels (space-to-depth, channel order (row, col, c)) and so do the
  kernel's taps: a stride-1 convolution of the blocks.
  """
  (sh, sw), (kh, kw) = strides, k.shape[:2]
  if (sh, sw) == (1, 1):
    return conv(x, k, pad)
  for axis, (lo, hi) in zip((1, 2), pad):
    x = _pad_or_crop(x, axis, lo, hi)
  n, h, w, c = x.shape
  mh, mw = -(-kh // sh), -(-kw // sw)  # kernel size in blocks
  ho, wo = (h - kh) // sh + 1, (w - kw) // sw + 1
  x = _pad_or_crop(x, 1, 0, sh * (ho + mh - 1) - h)
  x = _pad_or_crop(x, 2, 0, sw * (wo + mw - 1) - w)
  bh, bw = x.shape[1] // sh, x.shape[2] // sw
  x = x.reshape(n, bh, sh, bw, sw, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, bh, bw, sh * sw * c)
  k = jnp.pad(k, ((0, mh * sh - kh), (0, mw * sw - kw), (0, 0), (0, 0)))
  k = k.reshape(mh, sh, mw, sw, c, -1).transpose(0, 2, 1, 3, 4, 5).reshape(mh, mw, sh * sw * c, -1)
  return conv(x, k)


def _phase_taps(size, k, s, pad_before, out_size):
  """One spatial dim of a transposed convolution as a stride-1 convolution per output phase.

  lax.conv_transpose computes y[m] = sum_d x_up[m + d] k[d], x_up[t] = x[(t - p) / s] where
  s divides t - p. Output m = s t + r - shift (block t, phase r) takes taps d = s e + delta_r,
  reading x[t + e + c_r]. Returns (shift, taps, pad): taps[l, r] is the index into k (k itself
  for a zero tap) of window position l, so that z[t, r] = sum_l x_pad[t + l] k[taps[l, r]] with
  x padded by `pad` = (before, after), and y = depth_to_space(z)[shift : shift + out_size].
  The shift with the shortest window wins.
  """
  best = None
  for shift in range(s):
    delta = [(pad_before - r + shift) % s for r in range(s)]
    count = [max(0, -(-(k - delta[r]) // s)) for r in range(s)]
    offset = [(r - shift + delta[r] - pad_before) // s for r in range(s)]
    used = [r for r in range(s) if count[r]]  # k < s leaves phases without taps
    lo = min(offset[r] for r in used)
    window = max(offset[r] - lo + count[r] for r in used)
    if best is None or window < best[0]:
      taps = np.full((window, s), k)
      for r in range(s):
        for e in range(count[r]):
          taps[offset[r] - lo + e, r] = s * e + delta[r]
      best = (window, shift, lo, taps)
  window, shift, lo, taps = best
  blocks = -(-(out_size + shift) // s)
  return shift, taps, (-lo, blocks + window - 1 - (size - lo))


def transposed_conv(x, k, strides, padding):
  """lax.conv_transpose(x, k, strides, padding) (NHWC, HWIO, kernel not flipped) from `conv`.

  `padding`: ((before, after), ...) of the lhs-dilated input, as lax.conv_transpose resolves it.
  Each output phase (r_h, r_w) is a stride-1 convolution of x; they share one window and one
  `conv` to s_h s_w O channels (zero taps where a phase's window is shorter), then a
  depth-to-space and a crop give y.
  """
  n, h, w, c = x.shape
  (kh, kw, _, o), (sh, sw) = k.shape, strides
  (ph, ph_after), (pw, pw_after) = padding
  ho, wo = (h - 1) * sh + ph + ph_after - kh + 2, (w - 1) * sw + pw + pw_after - kw + 2
  shift_h, taps_h, pads_h = _phase_taps(h, kh, sh, ph, ho)
  shift_w, taps_w, pads_w = _phase_taps(w, kw, sw, pw, wo)
  k = jnp.pad(k, ((0, 1), (0, 1), (0, 0), (0, 0)))  # index kh / kw: a zero tap
  k = k[taps_h[:, :, None, None], taps_w[None, None, :, :]]  # (lh, sh, lw, sw, c, o)
  k = k.transpose(0, 2, 4, 1, 3, 5).reshape(taps_h.shape[0], taps_w.shape[0], c, sh * sw * o)
  z = conv(x, k, (pads_h, pads_w))
  bh, bw = z.shape[1:3]
  y = z.reshape(n, bh, bw, sh, sw, o).transpose(0, 1, 3, 2, 4, 5).reshape(n, bh * sh, bw * sw, o)
  return y[:, shift_h : shift_h + ho, shift_w : shift_w + wo]


def _transpose_padding(k, s, padding):
  """(before, after) padding of the dilated input for lax.conv_transpose's SAME / VALID."""
  if padding == 'SAME':
    total = k + s - 2
    before = k - 1 if s > k - 1 else -(-total // 2)
  else:
    total, before = k + s - 2 + max(k - s, 0), k - 1
  return before, total - before


def _pairs(name, value, size=2):
  value = (value,) * size if isinstance(value, int) else tuple(value)
  if len(value) != size or not all(isinstance(v, int) and v >= 1 for v in value):
    raise ValueError(f'{name}={value!r}: must be {size} positive integers')
  return value


def _explicit_padding(padding, module):
  """Flax's padding forms other than strings: an int, or per dim an int or a (lo, hi) pair."""
  if isinstance(padding, int):
    return ((padding, padding),) * 2
  try:
    pads = tuple((p, p) if isinstance(p, int) else tuple(p) for p in padding)
  except TypeError:
    pads = ()
  if len(pads) != 2 or not all(len(p) == 2 and all(isinstance(v, int) for v in p) for p in pads):
    raise ValueError(
        f'{module}: padding={padding!r} is not supported; use SAME, VALID or 2 (lo, hi) pairs'
    )
  return pads


def _check_input(x, module):
  if x.ndim != 4:
    raise ValueError(f'{module} takes NHWC inputs (4 dims), got shape {x.shape}')


class _ConvParams(nn.Module):
  """nn.Conv's / nn.ConvTranspose's fields and parameters: 'kernel' (kh, kw, in, features),
  'bias' (features,), created in that order with their initializers, promoted to `dtype`."""

  features: int
  kernel_size: Sequence[int]
  strides: int | Sequence[int] | None = 1
  padding: Any = 'SAME'
  use_bias: bool = True
  dtype: Any = None
  param_dtype: Any = jnp.float32
  kernel_init: Callable = nn.linear.default_kernel_init
  bias_init: Callable = nn.initializers.zeros_init()

  def _params(self, inputs, kernel_size):
    shape = (*kernel_size, inputs.shape[-1], self.features)
    kernel = self.param('kernel', self.kernel_init, shape, self.param_dtype)
    bias = None
    if self.use_bias:
      bias = self.param('bias', self.bias_init, (self.features,), self.param_dtype)
    return promote_dtype(inputs, kernel, bias, dtype=self.dtype)


class FastConv(_ConvParams):
  """nn.Conv for 2D NHWC inputs (padding SAME, VALID or explicit; any kernel and strides)
  from stride-1 convolutions with custom VJPs (see the module docstring)."""

  @nn.compact
  def __call__(self, inputs):
    _check_input(inputs, 'FastConv')
    kernel_size = _pairs('kernel_size', self.kernel_size)
    strides = _pairs('strides', 1 if self.strides is None else self.strides)
    if self.padding in ('SAME', 'VALID'):
      pads = lax.padtype_to_pads(inputs.shape[1:3], kernel_size, strides, self.padding)
    elif isinstance(self.padding, str):
      raise ValueError(f'FastConv: padding={self.padding!r} is not supported; use SAME or VALID')
    else:
      pads = _explicit_padding(self.padding, 'FastConv')
    inputs, kernel, bias = self._params(inputs, kernel_size)
    y = strided_conv(inputs, kernel, strides, tuple(map(tuple, pads)))
    return y if bias is None else add_bias(y, bias)


class FastConvTranspose(_ConvParams):
  """nn.ConvTranspose (transpose_kernel=False) for 2D NHWC inputs (padding SAME, VALID or
  explicit; any kernel and strides) as one stride-1 convolution per output phase."""

  strides: int | Sequence[int] | None = None

  @nn.compact
  def __call__(self, inputs):
    _check_input(inputs, 'FastConvTranspose')
    kernel_size = _pairs('kernel_size', self.kernel_size)
    strides = _pairs('strides', 1 if self.strides is None else self.strides)
    if self.padding in ('SAME', 'VALID'):
      pads = tuple(_transpose_padding(k, s, self.padding) for k, s in zip(kernel_size, strides))
    elif isinstance(self.padding, str):
      raise ValueError(
          f'FastConvTranspose: padding={self.padding!r} is not supported; use SAME or VALID'
      )
    else:
      pads = _explicit_padding(self.padding, 'FastConvTranspose')
    inputs, kernel, bias = self._params(inputs, kernel_size)
    y = transposed_conv(inputs, kernel, strides, pads)
    return y if bias is None else add_bias(y, bias)
