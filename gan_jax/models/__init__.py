"""Model registry: name -> builder(data_shape, **fields) -> (generator, discriminator).

Every builder takes the data shape positionally and only keyword-only fields with
defaults; the config validator reads `inspect.signature(builder)` to learn them, the schema
reads them from its source (MODELS is declared in gan_jax/registries.py: configs import no JAX).
Every builder takes `num_classes=0, conditioning='none'` (models/conditioning.py); its modules
are called G(z, y=None, *, train) and D(x, y=None, *, train) (D returns (logits, class_logits)
with conditioning='acgan').
Image-to-image networks (G takes an image, not z) have a registry of this shape of their own:
gan_jax/models/translation (TRANSLATION_MODELS).
"""

import flax.linen as nn

from gan_jax.models.dcgan import dcgan
from gan_jax.models.mlp import mlp
from gan_jax.models.progan import progan
from gan_jax.models.resnet import resnet
from gan_jax.models.sngan_cnn import sngan_cnn
from gan_jax.registries import MODELS  # declared there (nothing imported): configs read it


def build_models(name: str, data_shape: tuple[int, ...], **fields) -> tuple[nn.Module, nn.Module]:
  """Return (generator, discriminator) of the registered model `name`."""
  return MODELS[name](tuple(data_shape), **fields)


__all__ = ["MODELS", "build_models", "dcgan", "mlp", "progan", "resnet", "sngan_cnn"]
