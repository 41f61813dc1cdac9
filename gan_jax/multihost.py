"""What a multi-process run needs from the core: who writes, and a barrier.

With one process both are trivial. Under `jax.distributed` (gan_jax/distributed.py) process 0
writes the run's hand-made files (config, logs, samples, results) and repairs the checkpoint
folder (unfinished saves, corrupt checkpoints) while the others wait at a barrier.
"""

import jax


def is_main_process() -> bool:
  return jax.process_index() == 0


def wait_for_all(name: str) -> None:
  """Blocks until every process reached the barrier `name` (no-op with one process)."""
  if jax.process_count() > 1:
    from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top

    multihost_utils.sync_global_devices(name)
