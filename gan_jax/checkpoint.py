"""Orbax checkpoints of the TrainState, verified on restore, and the config saved beside them.

Layout of a workdir: gan_jax/workdir.py (config.json, data.json, checkpoints/<step>/, ...).

A save is synchronous and atomic: Orbax writes checkpoints/<step>.orbax-checkpoint-tmp/ and
renames it to checkpoints/<step>/ once complete, so a process killed mid-save leaves only the
temporary folder, which is never listed as a step and which the next writer removes. Each
checkpoint's metadata holds a SHA-256 digest of the state's arrays: Orbax's OCDBT files carry no
checksum over array data (a flipped byte there restores silently), so `restore` recomputes it. A
checkpoint that cannot be read or fails its digest is `Corrupt`; a writer moves it aside to
checkpoints/<step>.corrupt (never deleted, never listed as a step).

Each checkpoint's metadata states its format ('format': gan_jax.checkpoint_format.FORMAT); one of
an older format is migrated on restore (a `note:` line says what was filled in), one this version
cannot read raises `Unreadable` naming the gan_jax that reads it.
"""

import contextlib
import hashlib
import json
import logging
import os
import shutil
import sys
import warnings

import jax
import ml_collections
import numpy as np
import orbax.checkpoint as ocp

from gan_jax import checkpoint_format as formats
from gan_jax import multihost
from gan_jax import workdir as run_folder
from gan_jax.workdir import CHECKPOINT_DIR, CONFIG_FILE, DATA_FILE, UNFINISHED_MARK
from gan_jax.workdir import write_atomically  # pylint: disable=unused-import (older imports)

CORRUPT_SUFFIX = '.corrupt'
STEP_METADATA_FILE = run_folder.ORBAX_DONE_FILE  # Orbax's, in each step: holds our metadata


class Corrupt(Exception):
  """A checkpoint that cannot be read back as it was saved."""

  def __init__(self, step, why):
    super().__init__(f'checkpoint step {step} is corrupt: {why}')
    self.step, self.why = step, why


class Mismatch(Exception):
  """A checkpoint that holds other arrays than the state asked for (another config or code)."""


class Unreadable(Mismatch):
  """A checkpoint of a format this version does not read (gan_jax/checkpoint_format.py)."""


class NonFinite(ValueError):
  """A state with a NaN or an infinity: never saved."""


class SaveFailed(Exception):
  """Writing a checkpoint failed (e.g. the disk is full); its partial files are removed."""


def _first_line(error):
  """'Type: first line' of an error, without TensorStore's spec dump."""
  lines = str(error).strip().splitlines() or ['']
  return f"{type(error).__name__}: {lines[0].split(' See full TensorStore details')[0]}"


class _NoTracebacks(logging.Filter):
  """Drops the tracebacks Orbax logs from its threads when a save fails: the caller raises the
  error in one line."""

  def filter(self, record):
    return not record.exc_info


class _NoReadOnlyNotice(logging.Filter):
  """Drops Orbax's 'Given directory is read only=<dir>' warning: read-only is what we asked for
  (sampling and evaluation never write a checkpoint)."""

  def filter(self, record):
    return record.msg != 'Given directory is read only=%s'


@contextlib.contextmanager
def _absl_filtered(log_filter):
  """The absl log records `log_filter` refuses are dropped while the block runs."""
  logger = logging.getLogger('absl')
  logger.addFilter(log_filter)
  try:
    yield
  finally:
    logger.removeFilter(log_filter)


# When one array of a restore fails to read, Orbax raises at once and abandons the other reads,
# which then report their end through several channels, while or after `restore` raises Corrupt.
_ABANDONED_READ = (
    'Event loop is closed',
    'Encountered error while reading array',
    'in OCDBT database',
)


def _is_abandoned_read(error):
  return any(text in str(error) for text in _ABANDONED_READ)


class _NoAbandonedReads(logging.Filter):

  def filter(self, record):
    return not (record.exc_info and _is_abandoned_read(record.exc_info[1]))


def _drop_abandoned_read_reports():
  """Once per process: drops those reports (the restore raises Corrupt), passes on the
  rest: sys.unraisablehook, sys.excepthook (TensorStore's callback threads print through
  PyErr_Print), asyncio's '... exception was never retrieved' and 'coroutine ... was never
  awaited'."""
  previous = sys.unraisablehook
  if getattr(previous, 'drops_abandoned_reads', False):
    return

  def hook(unraisable):
    if not _is_abandoned_read(unraisable.exc_value):
      previous(unraisable)

  def excepthook(kind, value, tb, previous=sys.excepthook):  # TensorStore's PyErr_Print
    if not _is_abandoned_read(value):
      previous(kind, value, tb)

  hook.drops_abandoned_reads = True
  sys.unraisablehook = hook
  sys.excepthook = excepthook
  logging.getLogger('asyncio').addFilter(_NoAbandonedReads())
  warnings.filterwarnings(
      'ignore', "coroutine '_read_array_index_and_device_put' was never awaited", RuntimeWarning
  )


def leaf_name(path):
  """'d_opt.0.mu.Dense_0.kernel': a key path as Orbax names the array in its metadata."""
  return '.'.join(str(getattr(k, 'key', getattr(k, 'name', getattr(k, 'idx', k)))) for k in path)


def host_arrays(state):
  """{leaf name: numpy array} of a replicated state (this process's copy)."""
  leaves = jax.tree_util.tree_flatten_with_path(state)[0]
  return {leaf_name(p): np.asarray(x.addressable_data(0)) for p, x in leaves}


def digest(arrays) -> str:
  """SHA-256 over every array's name, dtype, shape and bytes, in name order."""
  h = hashlib.sha256()
  for name in sorted(arrays):
    x = np.ascontiguousarray(arrays[name])
    h.update(f'{name}:{x.dtype.str}:{x.shape};'.encode())
    h.update(x.tobytes())
  return h.hexdigest()


def nonfinite(arrays):
  """Names of the float arrays that hold a NaN or an infinity."""
  return [
      n
      for n, x in sorted(arrays.items())
      if np.issubdtype(x.dtype, np.inexact) and not np.all(np.isfinite(x))
  ]


def _layout(abstract_state):
  """{leaf name: (shape, dtype)} of a state's arrays."""
  leaves = jax.tree_util.tree_flatten_with_path(abstract_state)[0]
  return {leaf_name(p): (tuple(x.shape), np.dtype(x.dtype)) for p, x in leaves}


def _saved_layout(item_metadata):
  """{leaf name: (shape, dtype)} of the arrays a checkpoint's metadata lists."""
  leaves = jax.tree_util.tree_leaves(item_metadata)
  return {m.name: (tuple(m.shape), np.dtype(m.dtype)) for m in leaves}


def _saved_fields(item_metadata, saved_layout):
  """Names of the top-level fields a checkpoint holds (empty ones too, where Orbax lists them)."""
  if hasattr(item_metadata, 'keys'):
    return {str(k) for k in item_metadata.keys()}
  return {name.split('.')[0] for name in saved_layout}


def _warn(line):
  print(line, file=sys.stderr, flush=True)


class Checkpoints:
  """Save / restore the state of one run; keeps the newest `keep` steps, and those that
  `keep_also(steps) -> steps` names (None: Orbax alone keeps the newest `keep`).

  A writer first removes the folders of saves that never completed (`self.removed`). With
  several processes, every one makes the same calls (Orbax saves collectively); process 0
  alone removes or renames folders while the others wait for it.
  """

  def __init__(self, workdir: str, keep: int = 3, read_only: bool = False, keep_also=None):
    self.directory = os.path.abspath(os.path.join(workdir, CHECKPOINT_DIR))
    self.removed, self.keep, self.keep_also = [], keep, keep_also
    if read_only:  # the options a read-only manager would override anyway
      options = ocp.CheckpointManagerOptions(read_only=True, create=False, save_interval_steps=0)
    else:
      self.removed = self._remove_unfinished() if multihost.is_main_process() else []
      multihost.wait_for_all('gan_jax_checkpoints_cleaned')
      options = ocp.CheckpointManagerOptions(
          max_to_keep=None if keep_also else keep, create=True, enable_async_checkpointing=False
      )
    with _absl_filtered(_NoReadOnlyNotice()):
      self._manager = ocp.CheckpointManager(
          self.directory, options=options, item_handlers=ocp.StandardCheckpointHandler()
      )

  def _remove_unfinished(self, step=None):
    """Deletes checkpoints/<step>.orbax-checkpoint-tmp* (any step if None); returns their paths."""
    if not os.path.isdir(self.directory):
      return []
    prefix = '' if step is None else f'{step}{UNFINISHED_MARK}'
    paths = [
        os.path.join(self.directory, n)
        for n in sorted(os.listdir(self.directory))
        if UNFINISHED_MARK in n and n.startswith(prefix)
    ]
    for path in paths:
      shutil.rmtree(path, ignore_errors=True)
    return paths

  def latest_step(self):
    return self._manager.latest_step()

  def all_steps(self):
    return sorted(self._manager.all_steps())

  def save(self, state, step: int, metadata=None, allow_nonfinite=False) -> None:
    """Writes `state` as `step` (no-op if it exists) and returns once it is complete on disk.

    `metadata` (JSON) is stored with it. A state with a non-finite float is refused (NonFinite,
    nothing written) unless `allow_nonfinite` (a vectorized group's stacked state, whose stopped
    runs are kept as they were); a failed write raises SaveFailed after removing its partial files.
    """
    if step in self._manager.all_steps():
      return
    arrays = host_arrays(state)
    bad = [] if allow_nonfinite else nonfinite(arrays)
    if bad:
      raise NonFinite(f'not finite: {", ".join(bad[:3])}{" ..." if len(bad) > 3 else ""}')
    custom = {'digest': digest(arrays), **(metadata or {}), 'format': formats.FORMAT}
    try:
      with _absl_filtered(_NoTracebacks()):
        self._manager.save(
            step, args=ocp.args.StandardSave(state), custom_metadata=custom, force=True
        )
    except Exception as e:  # whatever the storage raised: the save did not happen
      if multihost.is_main_process():
        self._remove_unfinished(step)
      self._manager.reload()
      raise SaveFailed(
          f'cannot save checkpoint step {step} in {self.directory}: {_first_line(e)}'
      ) from e
    if self.keep_also:  # what Orbax's max_to_keep does otherwise, sparing those kept also
      steps = self.all_steps()
      for old in sorted(set(steps[: -self.keep]) - set(self.keep_also(steps))):
        self._manager.delete(old)

  def metadata(self, step: int) -> dict:
    """The JSON saved with `step`: 'digest', 'format' and what `save` was given. Corrupt if
    unreadable."""
    path = os.path.join(self.directory, str(step), STEP_METADATA_FILE)
    try:
      with open(path) as f:
        return dict(json.load(f).get('custom_metadata') or {})
    except (OSError, ValueError, AttributeError) as e:
      raise Corrupt(step, f'unreadable {STEP_METADATA_FILE} ({_first_line(e)})') from None

  def restore(self, abstract_state, step: int | None = None):
    """The state saved at `step` (the latest if None), laid out as `abstract_state`.

    Its arrays are checked against the digest saved with them (checkpoints written before
    digests existed have none and are not checked); one of an older format is migrated (a note
    line says so). Raises Unreadable if this version does not read its format, Mismatch if it
    holds other arrays than `abstract_state`, Corrupt if it cannot be read or its arrays are not
    those saved.
    """
    step = self.latest_step() if step is None else step
    metadata = self.metadata(step)
    expected, fmt = metadata.get('digest'), formats.format_of(metadata)
    why = formats.unreadable(fmt)
    if why:
      raise Unreadable(f'checkpoint step {step} {why}')
    try:
      item = self._manager.item_metadata(step)
      saved = _saved_layout(item)
    except Exception as e:  # a missing, truncated or garbled metadata file
      raise Corrupt(step, f'unreadable metadata ({_first_line(e)})') from None
    if not saved:
      raise Corrupt(step, 'no array metadata')
    target, rebuild = formats.as_saved(abstract_state, fmt, _saved_fields(item, saved))
    wanted = _layout(target)
    if saved != wanted:
      diff = sorted(set(saved.items()) ^ set(wanted.items()))
      raise Mismatch(
          f'checkpoint step {step} holds other arrays than this config builds '
          f'(first difference: {diff[0][0]})'
      )
    _drop_abandoned_read_reports()  # before: TensorStore's threads may report while it raises
    try:
      state = self._manager.restore(step, args=ocp.args.StandardRestore(target))
    except Exception as e:  # missing or damaged array files
      raise Corrupt(step, f'unreadable arrays ({_first_line(e)})') from None
    if expected is not None and digest(host_arrays(state)) != expected:
      raise Corrupt(step, 'its arrays do not match the digest saved with them (flipped bytes?)')
    state, notes = rebuild(state)
    for note in notes if multihost.is_main_process() else []:
      _warn(f'note: checkpoint step {step} (format {fmt}, {self.directory}) was {note}')
    return state

  def set_aside(self, step: int) -> str:
    """Renames checkpoints/<step> to <step>.corrupt (.corrupt.1, ... if taken); returns the path."""
    source = os.path.join(self.directory, str(step))
    target, n = source + CORRUPT_SUFFIX, 0
    while os.path.exists(target):
      n += 1
      target = f'{source}{CORRUPT_SUFFIX}.{n}'
    multihost.wait_for_all(f'gan_jax_set_aside_{step}_found')  # every process has checked it
    if multihost.is_main_process():
      os.rename(source, target)
    multihost.wait_for_all(f'gan_jax_set_aside_{step}_done')
    self._manager.reload()
    return target

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()


def restore_newest_valid(ckpts, abstract_state, set_aside=False, report=_warn):
  """(step, state) of the newest checkpoint that restores and verifies; None if there is none.

  Each corrupt one passed over is reported (`report(line)`) and, if `set_aside`, moved aside.
  Mismatch propagates: a checkpoint of another config is not damage.
  """
  steps = reversed(ckpts.all_steps())
  return restore_first_valid(ckpts, abstract_state, steps, set_aside, report, 'previous')


def restore_first_valid(ckpts, abstract_state, steps, set_aside=False, report=_warn, then='next'):
  """restore_newest_valid over `steps` in their order ('trying the <then> checkpoint')."""
  for step in steps:
    try:
      return step, ckpts.restore(abstract_state, step)
    except Corrupt as e:
      where = f'moved it to {ckpts.set_aside(step)}' if set_aside else 'left it in place'
      report(f'warning: {e} ({ckpts.directory}); {where}; trying the {then} checkpoint')
  return None


def abstract_like(tree, sharding):
  """ShapeDtypeStructs of `tree` (arrays or structs) placed with `sharding`."""
  return jax.tree_util.tree_map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding), tree
  )


def save_config(workdir: str, config) -> None:
  run_folder.write_config(workdir, config)


def save_data_info(workdir: str, source) -> None:
  """data.json: the data's shape and `source.contents()` (gan_jax.workdir.write_data_info)."""
  shape = {'shape': list(source.shape), 'is_image': bool(source.is_image)}
  run_folder.write_data_info(workdir, {**shape, 'num_classes': int(source.num_classes)}, source)


def load_data_info(workdir: str):
  """{'shape': [...], 'is_image': bool, 'num_classes': int} saved by training, or None (missing or unreadable)."""
  return run_folder.read_data_info(workdir)


def load_config(workdir: str) -> ml_collections.ConfigDict:
  """The config a workdir was trained with (gan_jax.workdir.read_config); ValueError if unreadable."""
  return run_folder.read_config(workdir)
