"""Translation model registry: name -> builder(data_shape, **fields) -> (generator, discriminator).

The image-to-image networks of pix2pix and CycleGAN. MODELS (gan_jax/models/__init__.py) makes
G(z, y=None, *, train) from noise; these make G(x, *, train) from an image, so they have a
registry of their own with MODELS' shape, for the translation programs: a builder takes the data
shape positionally and only keyword fields with defaults (`schema.entry` reads them from its
source, gan_jax/registry.py; the builder checks their values, FieldError('<field>=<value>:
<rule>') for the first that is off) and returns flax modules:

  data_shape   (H, W, C) of G's output (the target domain); G takes any number of input
               channels, D too (pix2pix's D sees input and output concatenated): flax sizes the
               first kernels at init
  G(x, *, train) -> (N, H, W, C) float32 in [-1, 1]      (dropout on: rngs={'dropout': key})
  D(x, *, train) -> (N, h, w, 1) float32 logits, one per patch (patchgan.patch_grid)

  unet              unet.UNetGenerator (pix2pix) + patchgan.PatchGAN, batch norm on both;
                    defaults num_downs 5 (32x32 images), ngf 32, ndf 32, n_layers 2
  resnet_generator  resnet_generator.ResNetGenerator (CycleGAN) + PatchGAN, instance norm on
                    both; defaults 6 blocks, ngf 16, ndf 32, n_layers 2 (H, W multiples of
                    4: 28x28 too)

LAYOUTS: the reference's --netG sizes as (name, fields): unet_256 is 54,413,955 parameters,
resnet_9blocks 11,378,179 (3 -> 3 channels); their PatchGAN at ndf 64, n_layers 3 is 2,768,705
on 6 channels (batch norm) and 2,764,737 on 3 (instance norm). `describe` is the line a program
prints when it builds them: the parameter counts and D's receptive field.
"""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import rng
from gan_jax.models.translation.patchgan import PatchGAN, patch_grid, receptive_field
from gan_jax.models.translation.resnet_generator import ResNetGenerator, resnet_generator
from gan_jax.models.translation.unet import UNetGenerator, unet
from gan_jax.registries import TRANSLATION_MODELS  # declared there (nothing imported): configs

# The reference's sizes (pix2pix's and CycleGAN's --netG, ngf = ndf = 64, the 70x70 PatchGAN;
# dropout as their defaults: pix2pix on, CycleGAN off): name -> (TRANSLATION_MODELS entry,
# fields).
LAYOUTS = {
    'unet_256': ('unet', dict(num_downs=8, ngf=64, ndf=64, n_layers=3, dropout_blocks=3)),
    'unet_128': ('unet', dict(num_downs=7, ngf=64, ndf=64, n_layers=3, dropout_blocks=2)),
    'resnet_9blocks': ('resnet_generator', dict(n_blocks=9, ngf=64, ndf=64, n_layers=3)),
    'resnet_6blocks': ('resnet_generator', dict(n_blocks=6, ngf=64, ndf=64, n_layers=3)),
}


def build_translation_models(
    name: str, data_shape: tuple[int, ...], **fields
) -> tuple[nn.Module, nn.Module]:
  """Return (generator, discriminator) of the registered translation model `name`."""
  return TRANSLATION_MODELS[name](tuple(data_shape), **fields)


def param_count(module: nn.Module, input_shape: tuple[int, ...]) -> int:
  """The number of parameters of `module` initialised on float32 inputs of `input_shape`
  (jax.eval_shape: nothing is computed or allocated)."""
  key = rng.key(0)
  init = functools.partial(module.init, train=False)
  x = jax.ShapeDtypeStruct(tuple(input_shape), jnp.float32)
  variables = jax.eval_shape(init, {'params': key, 'dropout': key}, x)
  return int(sum(np.prod(p.shape) for p in jax.tree.leaves(variables['params'])))


def describe(generator, discriminator, g_input_shape, d_input_shape) -> str:
  """One line: G's and D's parameter counts on these (N, H, W, C) inputs, D's receptive field
  and logit grid."""
  h, w = d_input_shape[1:3]
  d = discriminator
  return (
      f'G {type(generator).__name__}: {param_count(generator, g_input_shape):,} parameters; '
      f'D PatchGAN n_layers={d.n_layers}: {param_count(d, d_input_shape):,} parameters, '
      f'{d.receptive_field}x{d.receptive_field} receptive field, '
      f'{patch_grid(h, d.n_layers)}x{patch_grid(w, d.n_layers)} logits per image'
  )


__all__ = [
    'LAYOUTS',
    'PatchGAN',
    'ResNetGenerator',
    'TRANSLATION_MODELS',
    'UNetGenerator',
    'build_translation_models',
    'describe',
    'param_count',
    'patch_grid',
    'receptive_field',
    'resnet_generator',
    'unet',
]
