"""Data parallelism over every device of every process with one 1-D mesh.

State is replicated; a batch pytree of leaves (calls, d_steps, B, ...) is split along B.
"""

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

AXIS = 'data'


def make_mesh() -> Mesh:
  return Mesh(np.asarray(jax.devices()), (AXIS,))


def replicated(mesh: Mesh) -> NamedSharding:
  return NamedSharding(mesh, P())


def batch_sharding(mesh: Mesh, batch_axis: int = 0) -> NamedSharding:
  """Splits axis `batch_axis` over the devices."""
  return NamedSharding(mesh, P(*([None] * batch_axis), AXIS))


def global_batch(local, sharding: NamedSharding, batch_axis: int):
  """This process's rows of a batch pytree -> global jax.Arrays, split over devices."""

  def one(leaf: np.ndarray):
    shape = list(leaf.shape)
    shape[batch_axis] *= jax.process_count()
    return jax.make_array_from_process_local_data(sharding, leaf, tuple(shape))

  return jax.tree_util.tree_map(one, local)
