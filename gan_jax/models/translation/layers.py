"""The layers the translation networks share: the norm field and the reference's choices that
follow from it (junyanz/pytorch-CycleGAN-and-pix2pix, models/networks.py), the convolution
implementation field, reflection padding and the checks of the fields every builder has.

norm = 'batch'     nn.BatchNorm with a learned scale and shift (PyTorch's affine BatchNorm2d:
                   momentum 0.1 there is 0.9 here, eps 1e-5); running averages when not training
     = 'instance'  nn.InstanceNorm without scale or shift (the reference's InstanceNorm2d has
                   affine=False and, today, no running statistics): each image's own statistics
                   per channel, in training and at test, eps 1e-5
     = 'none'      the identity

`conv_bias(norm)`: a convolution followed by a norm has a bias only when that norm has no
learned shift. The reference's rule is "bias only with InstanceNorm", which agrees for 'batch'
(no bias: BatchNorm's shift replaces it) and 'instance' (bias); with 'none' the reference drops
the biases too (its rule compares the layer with InstanceNorm2d), here they are kept, since
nothing else shifts the features. The layers the reference always gives a bias (the first
PatchGAN conv, the last conv of each network) have one whatever the norm.

Initialisation as the reference's init_weights('normal', 0.02): convolution kernels N(0, 0.02²),
biases 0, BatchNorm scales N(1, 0.02²) and shifts 0.
"""

import numbers

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.checks import check_choice, check_number
from gan_jax.models.sngan_cnn import CONV_LAYERS, DTYPES

NORMS = ('instance', 'batch', 'none')
EPSILON = 1e-5  # PyTorch's BatchNorm2d / InstanceNorm2d eps
KERNEL_INIT = nn.initializers.normal(0.02)


def check_norm(name, norm):
  """`norm` if it is one of NORMS, else FieldError('<name>=<norm>: allowed: ...')."""
  return check_choice(name, norm, NORMS)


def conv_bias(norm) -> bool:
  """Whether a convolution followed by `norm` has a bias (see the module docstring)."""
  return norm != 'batch'


def _scale_init(key, shape, dtype=jax.numpy.float32):
  return 1.0 + 0.02 * jax.random.normal(key, shape, dtype)


def normalize(x, norm, *, train, dtype, name):
  """x (NHWC) through the norm layer `norm` (a submodule called `name` of the calling compact
  module; 'none' makes none)."""
  if norm == 'batch':
    layer = nn.BatchNorm(
        use_running_average=not train,
        momentum=0.9,
        epsilon=EPSILON,
        dtype=dtype,
        scale_init=_scale_init,
        name=name,
    )
    return layer(x)
  if norm == 'instance':
    return nn.InstanceNorm(
        epsilon=EPSILON, use_scale=False, use_bias=False, dtype=dtype, name=name
    )(x)
  return x


def conv(module, features, kernel, *, stride=1, padding=0, bias, name):
  """The `module.conv` implementation of a k x k convolution ('fast' / 'xla', the same function
  and parameters), zero `padding` on each side as PyTorch's Conv2d(padding=p)."""
  layer = CONV_LAYERS[module.conv][0]
  return layer(
      features,
      (kernel, kernel),
      strides=stride,
      padding=((padding, padding), (padding, padding)),
      use_bias=bias,
      dtype=DTYPES[module.dtype],
      kernel_init=KERNEL_INIT,
      name=name,
  )


def conv_transpose(module, features, kernel, *, pads, bias, name):
  """A stride-2 k x k transposed convolution; `pads` (before, after) of the dilated input as
  lax.conv_transpose takes them: PyTorch's ConvTranspose2d(k, 2, p, output_padding=q) is
  (k - 1 - p, k - 1 - p + q) (its kernel is this one flipped, the same set of functions)."""
  layer = CONV_LAYERS[module.conv][1]
  return layer(
      features,
      (kernel, kernel),
      strides=(2, 2),
      padding=(pads, pads),
      use_bias=bias,
      dtype=DTYPES[module.dtype],
      kernel_init=KERNEL_INIT,
      name=name,
  )


def reflect_pad(x, p):
  """PyTorch's ReflectionPad2d(p) of an NHWC batch (the edge row is not repeated)."""
  return jnp.pad(x, ((0, 0), (p, p), (p, p), (0, 0)), mode='reflect')


def check_fields(data_shape, *, conv, dtype, norms, widths):
  """The fields every translation builder has (FieldError naming the first that is off; `norms`
  and `widths`: {field name: value}) and its (H, W, C) data shape (ValueError)."""
  sizes_ok = all(isinstance(d, numbers.Integral) and d >= 1 for d in data_shape)
  if len(data_shape) != 3 or not sizes_ok:
    raise ValueError(f'needs an (H, W, C) image shape, got {tuple(data_shape)}')
  for name, width in widths.items():
    check_number(name, width, integer=True, low=1)
  for name, norm in norms.items():
    check_norm(name, norm)
  check_choice('conv', conv, tuple(CONV_LAYERS))
  check_choice('dtype', dtype, tuple(DTYPES))


def check_input(module, x, divisor):
  """ValueError (one line) unless x is NHWC with H and W multiples of `divisor`."""
  if x.ndim != 4 or x.shape[1] % divisor or x.shape[2] % divisor:
    raise ValueError(
        f'{module} takes NHWC images with height and width divisible by {divisor}, got '
        f'shape {tuple(x.shape)}'
    )
