"""Orbax checkpoints of the TrainState, and the config saved beside them.

Layout of a workdir:  config.json, data.json, checkpoints/<step>/..., (logs, samples).
"""

import json
import os

import jax
import ml_collections
import orbax.checkpoint as ocp

CONFIG_FILE = 'config.json'
DATA_FILE = 'data.json'  # the data's shape: enough to rebuild the models without the data
CHECKPOINT_DIR = 'checkpoints'


class Checkpoints:
  """Save / restore the state of one run; keeps the newest `keep` steps."""

  def __init__(self, workdir: str, keep: int = 3, read_only: bool = False):
    if read_only:  # the options a read-only manager would override anyway
      options = ocp.CheckpointManagerOptions(read_only=True, create=False, save_interval_steps=0)
    else:
      options = ocp.CheckpointManagerOptions(max_to_keep=keep, create=True)
    self._manager = ocp.CheckpointManager(
        os.path.abspath(os.path.join(workdir, CHECKPOINT_DIR)), options=options
    )

  def latest_step(self):
    return self._manager.latest_step()

  def all_steps(self):
    return list(self._manager.all_steps())

  def save(self, state, step: int) -> None:
    """Starts an asynchronous save of `state` as `step` (no-op if it exists)."""
    if step not in self._manager.all_steps():
      self._manager.save(step, args=ocp.args.StandardSave(state), force=True)

  def restore(self, abstract_state, step: int | None = None):
    """The state saved at `step` (the latest when None), laid out as `abstract_state`."""
    step = self.latest_step() if step is None else step
    return self._manager.restore(step, args=ocp.args.StandardRestore(abstract_state))

  def close(self) -> None:
    """Waits for pending saves to finish."""
    self._manager.wait_until_finished()
    self._manager.close()


def abstract_like(tree, sharding):
  """ShapeDtypeStructs of `tree` (arrays or structs) placed with `sharding`."""
  return jax.tree_util.tree_map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding), tree
  )


def save_config(workdir: str, config) -> None:
  with open(os.path.join(workdir, CONFIG_FILE), 'w') as f:
    f.write(config.to_json(indent=2, sort_keys=True))


def save_data_info(workdir: str, source) -> None:
  with open(os.path.join(workdir, DATA_FILE), 'w') as f:
    json.dump({'shape': list(source.shape), 'is_image': bool(source.is_image)}, f)


def load_data_info(workdir: str):
  """{'shape': [...], 'is_image': bool} saved by training, or None."""
  path = os.path.join(workdir, DATA_FILE)
  if not os.path.isfile(path):
    return None
  with open(path) as f:
    return json.load(f)


def load_config(workdir: str) -> ml_collections.ConfigDict:
  """The config a workdir was trained with; lists come back as tuples."""
  with open(os.path.join(workdir, CONFIG_FILE)) as f:
    raw = json.load(f)

  def tuples(x):
    if isinstance(x, dict):
      return {k: tuples(v) for k, v in x.items()}
    return tuple(tuples(v) for v in x) if isinstance(x, list) else x

  return ml_collections.ConfigDict(tuples(raw))
