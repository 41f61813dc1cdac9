"""Whether a vectorized group fits in memory: `check_fits(exp, size)`, from `group_bytes`.

Of a group's memory, per run: the state, its donated successor, gradients and optimizer
temporaries (~STATE_COPIES states), and the prefetched data of `depth` + 1 calls
(~DATA_COPIES calls' data: gan_jax/loop.py prefetch).
"""

import os

import jax
import numpy as np

from gan_jax.errors import UserError

STATE_COPIES, DATA_COPIES = 4, 3


def state_bytes(exp) -> int:
  return sum(x.size * x.dtype.itemsize for x in jax.tree_util.tree_leaves(exp.abstract_state))


def call_bytes(config, shape) -> int:
  """Bytes of one run's real data for one call of the step (float32)."""
  t = config.train
  return 4 * t.steps_per_call * t.d_steps * t.batch_size * int(np.prod(shape))


def group_bytes(exp, size) -> int:
  """What a group of `size` runs of `exp` holds in memory, estimated (STATE_COPIES, DATA_COPIES)."""
  per_run = STATE_COPIES * state_bytes(exp) + DATA_COPIES * call_bytes(exp.config, exp.source.shape)
  return size * per_run


def available_bytes() -> int:
  """The first device's memory limit (GPU/TPU), else the host's available memory."""
  stats = jax.devices()[0].memory_stats() or {}
  if stats.get('bytes_limit'):
    return int(stats['bytes_limit'])
  try:
    with open('/proc/meminfo') as f:
      for line in f:
        if line.startswith('MemAvailable:'):
          return int(line.split()[1]) * 1024
  except OSError:
    pass
  return os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_AVPHYS_PAGES')


def check_fits(exp, size, names=None, limit=None):
  """UserError if a group of `size` runs of `exp` would not fit in memory (group_bytes)."""
  need, have = group_bytes(exp, size), available_bytes() if limit is None else limit
  if need > have:
    what = f'the group of {names[0]} and {size - 1} more' if names else f'a group of {size} runs'
    raise UserError(
        f'--max_group: {what} needs ~{need / 2**30:.2f} GiB, more than the {have / 2**30:.2f} GiB '
        f'available here; use a smaller --max_group'
    )
