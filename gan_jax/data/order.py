"""Deterministic example order: a pure function of (seed, step).

Global example counter ``i = step * batch_size + j`` (j < batch_size); epoch
``e = i // n``, position ``p = i % n``; the example index is
``permutation_e[p]`` with ``permutation_e = np.random.default_rng([seed, e]).permutation(n)``.
So a run resumed at step ``s`` sees exactly the batches an uninterrupted run
would, and a batch may straddle an epoch boundary.
"""

from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=8)
def epoch_permutation(seed: int, epoch: int, n: int) -> np.ndarray:
  """The (read-only, cached) permutation of ``range(n)`` used in ``epoch``."""
  perm = np.random.default_rng([seed, epoch]).permutation(n)
  perm.flags.writeable = False
  return perm


def example_indices(seed: int, step: int, batch_size: int, n: int) -> np.ndarray:
  """Indices (int64, shape (batch_size,)) of the examples of global batch ``step``."""
  if n <= 0 or batch_size <= 0 or step < 0 or seed < 0:
    raise ValueError(
        f"need n > 0, batch_size > 0, step >= 0, seed >= 0; got "
        f"n={n}, batch_size={batch_size}, step={step}, seed={seed}"
    )
  i = np.int64(step) * np.int64(batch_size) + np.arange(batch_size, dtype=np.int64)
  epochs, pos = np.divmod(i, n)
  out = np.empty(batch_size, dtype=np.int64)
  for e in np.unique(epochs):
    mask = epochs == e
    out[mask] = epoch_permutation(int(seed), int(e), int(n))[pos[mask]]
  return out


def local_slice(batch_size: int, process_index: int = 0, process_count: int = 1) -> slice:
  """Rows of the global batch that belong to ``process_index``."""
  if process_count <= 0 or not 0 <= process_index < process_count:
    raise ValueError(f"bad process_index={process_index} / process_count={process_count}")
  if batch_size % process_count:
    raise ValueError(f"batch_size={batch_size} is not divisible by process_count={process_count}")
  local = batch_size // process_count
  return slice(process_index * local, (process_index + 1) * local)
