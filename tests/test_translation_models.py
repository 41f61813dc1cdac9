"""The translation networks (gan_jax/models/translation): the reference's parameter counts,
PatchGAN's receptive field, the U-Net's skip shapes at every size it takes and one-line errors
for those it cannot, the fields' checks, pix2pix's dropout noise, and the transposed
convolutions' alignment as PyTorch's. Shapes and counts by jax.eval_shape (no 54M-parameter
init)."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import linen as nn

from gan_jax import schema
from gan_jax.errors import FieldError
from gan_jax.models.translation import (
    LAYOUTS,
    TRANSLATION_MODELS,
    PatchGAN,
    build_translation_models,
    describe,
    param_count,
    patch_grid,
    receptive_field,
)
from gan_jax.models.translation import layers
from gan_jax.models.translation.unet import dropout_levels, level_widths

# The counts of junyanz/pytorch-CycleGAN-and-pix2pix's models/networks.py, layer by layer
# (torch's count: conv weights and biases, BatchNorm2d's weight and bias, InstanceNorm2d none).
REFERENCE = [
    ('unet_256', 'batch', 3, 54_413_955),
    ('unet_256', 'instance', 3, 54_409_603),
    ('unet_128', 'batch', 3, 41_828_995),
    ('resnet_9blocks', 'instance', 3, 11_378_179),
    ('resnet_6blocks', 'instance', 3, 7_837_699),
]
REFERENCE_D = [(3, 'batch', 6, 2_768_705), (3, 'instance', 3, 2_764_737)]
REFERENCE_D += [(0, 'batch', 6, 9_024), (0, 'instance', 3, 8_705)]  # PixelDiscriminator


@pytest.mark.parametrize('layout,norm,channels,count', REFERENCE)
def test_generators_have_the_references_parameter_counts(layout, norm, channels, count):
  name, fields = LAYOUTS[layout]
  g, _ = build_translation_models(name, (256, 256, channels), **fields, norm=norm)
  assert param_count(g, (1, 256, 256, channels)) == count


@pytest.mark.parametrize('n_layers,norm,channels,count', REFERENCE_D)
def test_patchgan_has_the_references_parameter_counts(n_layers, norm, channels, count):
  d = PatchGAN(n_layers=n_layers, ndf=64, norm=norm)
  assert param_count(d, (1, 256, 256, channels)) == count


def test_receptive_field():
  assert receptive_field(3) == 70  # pix2pix's 70x70 PatchGAN
  assert receptive_field(0) == 1  # the PixelGAN
  assert [receptive_field(n) for n in (1, 2, 4, 5)] == [16, 34, 142, 286]
  assert PatchGAN(n_layers=3).receptive_field == 70


def _captured(module, shape, *, dropout=True):
  """(output, intermediates) of module.init on `shape`, abstract."""
  keys = {'params': jax.random.key(0), 'dropout': jax.random.key(1)}
  x = jax.ShapeDtypeStruct(shape, jnp.float32)
  init = functools.partial(module.init, train=True, capture_intermediates=True)
  variables = jax.eval_shape(init, keys, x)
  return variables['intermediates']['__call__'][0], variables['intermediates']


@pytest.mark.parametrize('n_layers', [0, 1, 2, 3])
@pytest.mark.parametrize('size', [(28, 28), (32, 48)])
def test_patchgan_logit_grid(n_layers, size):
  out, _ = _captured(PatchGAN(n_layers=n_layers, ndf=4), (2, *size, 3))
  assert out.shape == (2, patch_grid(size[0], n_layers), patch_grid(size[1], n_layers), 1)


def test_describe_prints_counts_and_receptive_field():
  g, d = build_translation_models('unet', (32, 32, 1))
  line = describe(g, d, (1, 32, 32, 1), (1, 32, 32, 2))
  assert f'{param_count(d, (1, 32, 32, 2)):,} parameters' in line
  assert '34x34 receptive field, 6x6 logits per image' in line  # n_layers 2 at 32x32


# Every num_downs at its smallest size (1x1 innermost) or a non-square multiple of it, and the
# digits' sizes (28x28 takes num_downs <= 2, 32x32 <= 5).
UNET_SIZES = [(n, (2**n, 2**n) if n % 2 else (3 * 2**n, 2**n)) for n in range(2, 9)]
UNET_SIZES += [(2, (28, 28)), (4, (32, 32)), (5, (64, 96))]


@pytest.mark.parametrize('num_downs,size', UNET_SIZES)
def test_unet_skip_shapes(num_downs, size):
  """Each level's way up comes back at the size and width of the features it is joined to."""
  ngf, h, w = 2, *size
  g, _ = build_translation_models('unet', (h, w, 3), num_downs=num_downs, ngf=ngf, n_layers=0)
  out, found = _captured(g, (2, h, w, 1))
  assert out.shape == (2, h, w, 3)
  widths = level_widths(num_downs, ngf)
  for i in range(num_downs):
    assert found[f'down{i}']['__call__'][0].shape == (2, h >> (i + 1), w >> (i + 1), widths[i])
    joined = (2, h >> i, w >> i, widths[i - 1] if i else 3)  # level i's input (at 0: G's output)
    assert found[f'up{i}']['__call__'][0].shape == joined
  dropouts = sorted(k for k in found if k.startswith('Dropout'))  # on min(3, n - 2) levels
  assert dropouts == [f'Dropout_{j}' for j in range(min(3, num_downs - 2))]


def test_unet_256_layout():
  """unet_256's widths, and dropout on the three levels next to the innermost, as the reference."""
  assert level_widths(8, 64) == [64, 128, 256, 512, 512, 512, 512, 512]
  assert list(dropout_levels(8, 3)) == [4, 5, 6]
  assert list(dropout_levels(7, 2)) == [4, 5]
  assert list(dropout_levels(5, 3)) == [1, 2, 3]  # the CPU default: every level between
  assert list(dropout_levels(3, 3)) == [1]  # as many as there are


def test_unet_rejects_sizes_it_cannot_take():
  with pytest.raises(FieldError) as e:
    build_translation_models('unet', (28, 28, 1))  # num_downs 5 needs multiples of 32
  message = str(e.value)
  assert message == (
      'num_downs=5: the image size 28x28 must be divisible by 2**num_downs = 32 '
      '(largest num_downs for it: 2)'
  )
  with pytest.raises(FieldError, match=r'^num_downs=3: the image size 32x20 '):
    build_translation_models('unet', (32, 20, 1), num_downs=3)
  g, _ = build_translation_models('unet', (32, 32, 1))
  with pytest.raises(ValueError) as e:
    g.init(jax.random.key(0), jnp.zeros((1, 28, 28, 1)), train=False)  # fails before computing
  assert str(e.value).splitlines()[0] == (
      'UNetGenerator takes NHWC images with height and width divisible by 32, got shape '
      '(1, 28, 28, 1)'
  )


def test_other_sizes_and_fields_are_one_line_errors():
  errors = [
      (('resnet_generator', (30, 30, 1)), {}, ValueError, 'multiples of 4, got 30x30'),
      (('resnet_generator', (28, 28, 1)), dict(n_layers=4), FieldError, '^n_layers=4: a 28x28'),
      (('unet', (32, 32, 1)), dict(norm='group'), FieldError, "^norm='group': allowed: instance"),
      (('unet', (32, 32, 1)), dict(d_norm='layer'), FieldError, "^d_norm='layer': allowed"),
      (('unet', (32, 32, 1)), dict(dropout_blocks=-1), FieldError, '^dropout_blocks=-1: must be'),
      (('unet', (32, 32, 1)), dict(dropout=1.0), FieldError, '^dropout=1.0: must be < 1'),
      (('unet', (32, 32, 1)), dict(num_downs=1), FieldError, '^num_downs=1: must be >= 2'),
      (('unet', (32, 32, 1)), dict(conv='cudnn'), FieldError, "^conv='cudnn': allowed"),
      (('unet', (32, 32)), {}, ValueError, 'needs an \\(H, W, C\\) image shape'),
  ]
  for args, fields, kind, pattern in errors:
    with pytest.raises(kind, match=pattern) as e:
      build_translation_models(*args, **fields)
    assert '\n' not in str(e.value)


def test_registry_fields_and_layouts():
  """The builders' fields are the config's (schema.entry); every layout names real fields."""
  assert set(TRANSLATION_MODELS) == {'unet', 'resnet_generator'}
  unet = schema.entry(TRANSLATION_MODELS, 'unet')
  assert (unet.num_downs, unet.ngf, unet.norm, unet.n_layers, unet.d_norm) == (
      5,
      32,
      'batch',
      2,
      'batch',
  )
  assert schema.entry(TRANSLATION_MODELS, 'resnet_generator').norm == 'instance'
  for name, fields in LAYOUTS.values():
    schema.entry(TRANSLATION_MODELS, name, **fields)  # ValueError on an unknown field


def _filled(module, x):
  """Variables of `module` on x's shape with random values drawn by numpy: compiling a flax
  init (a threefry per parameter) takes far longer than the network's forward pass."""
  key = jax.random.key(0)
  init = functools.partial(module.init, train=False)
  shapes = jax.eval_shape(init, {'params': key, 'dropout': key}, x)
  rs = np.random.RandomState(0)
  draw = lambda path, s: np.ones(s.shape) if path[-1].key == 'var' else rs.normal(0, 0.5, s.shape)
  return jax.tree_util.tree_map_with_path(lambda p, s: jnp.asarray(draw(p, s), s.dtype), shapes)


def test_dropout_is_pix2pix_noise_in_training_and_by_choice_at_test():
  x = jnp.asarray(np.random.RandomState(0).uniform(-1, 1, (2, 8, 8, 1)), jnp.float32)
  keys = jax.random.split(jax.random.key(1))
  nets = {}
  for at_test in (True, False):
    nets[at_test], _ = build_translation_models(
        'unet', (8, 8, 2), num_downs=3, ngf=2, n_layers=1, dropout_at_test=at_test, conv='xla'
    )
  variables = _filled(nets[True], x)

  @functools.partial(jax.jit, static_argnums=(0, 1))
  def run(at_test, train, key):
    rngs = None if key is None else {'dropout': key}
    return nets[at_test].apply(variables, x, train=train, rngs=rngs, mutable=True)[0]

  for train in (True, False):  # dropout_at_test=True (pix2pix's choice): noise in both
    a, b = (run(True, train, k) for k in keys)
    assert a.shape == (2, 8, 8, 2) and float(jnp.abs(a).max()) <= 1
    assert not np.allclose(a, b)
  assert not np.allclose(*(run(False, True, k) for k in keys))  # off at test: on in training
  np.testing.assert_array_equal(run(False, False, keys[0]), run(False, False, keys[1]))
  np.testing.assert_array_equal(run(False, False, keys[0]), run(False, False, None))


class _Up(nn.Module):
  """One of the networks' transposed convolutions, as `layers` makes it."""

  kernel: int
  pads: tuple
  conv: str = 'xla'
  dtype: str = 'float32'

  @nn.compact
  def __call__(self, x):
    return layers.conv_transpose(self, 2, self.kernel, pads=self.pads, bias=False, name='up')(x)


def _torch_conv_transpose(x, w, p, q):
  """PyTorch's ConvTranspose2d(stride=2, padding=p, output_padding=q) by its definition: each
  input pixel adds x[h, v] * w[:, :, a, b] at (2h - p + a, 2v - p + b); w is (I, O, k, k)."""
  (n, h, v, _), k = x.shape, w.shape[-1]
  full = np.zeros((n, 2 * h + k + q, 2 * v + k + q, w.shape[1]))
  for i, j, a, b in np.ndindex(h, v, k, k):
    full[:, 2 * i + a, 2 * j + b] += x[:, i, j] @ w[:, :, a, b]
  size = lambda m: (m - 1) * 2 - 2 * p + k + q
  return full[:, p : p + size(h), p : p + size(v)]


@pytest.mark.parametrize('kernel,p,q,pads', [(4, 1, 0, (2, 2)), (3, 1, 1, (1, 2))])
def test_transposed_convolutions_are_pytorchs(kernel, p, q, pads):
  """The U-Net's ConvTranspose2d(4, 2, padding 1) and the ResNet's (3, 2, padding 1,
  output_padding 1): the same outputs with the kernel flipped, so the same shapes and
  alignment as the reference."""
  rs = np.random.RandomState(0)
  x, w = rs.randn(2, 3, 4, 3).astype(np.float32), rs.randn(3, 2, kernel, kernel)
  kernel_hwio = jnp.asarray(w[:, :, ::-1, ::-1].transpose(2, 3, 0, 1), jnp.float32)
  y = _Up(kernel, pads).apply({'params': {'up': {'kernel': kernel_hwio}}}, x)
  np.testing.assert_allclose(y, _torch_conv_transpose(x, w, p, q), atol=1e-5)
