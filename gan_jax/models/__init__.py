"""Model registry: name -> builder(data_shape, **fields) -> (generator, discriminator).

Every builder takes the data shape positionally and only keyword-only fields with
defaults; the config validator reads `inspect.signature(builder)` to learn them.
"""

from typing import Callable

import flax.linen as nn

from gan_jax.models.mlp import mlp
from gan_jax.models.sngan_cnn import sngan_cnn

MODELS: dict[str, Callable] = {"mlp": mlp, "sngan_cnn": sngan_cnn}


def build_models(name: str, data_shape: tuple[int, ...], **fields) -> tuple[nn.Module, nn.Module]:
  """Return (generator, discriminator) of the registered model `name`."""
  return MODELS[name](tuple(data_shape), **fields)


__all__ = ["MODELS", "build_models", "mlp", "sngan_cnn"]
