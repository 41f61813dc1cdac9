"""A run's folder: its layout, the one atomic writer, and readers for its config, results, scalars.

  <run>/config.json            the full config the run used (`write_config`, `read_config`)
  <run>/data.json              the data's shape: enough to rebuild the models without the data;
                               for a folder of images, what was read (`write_data_info`)
  <run>/checkpoints/<step>/    Orbax checkpoints (gan_jax.checkpoint)
  <run>/samples/step_<step>.png  sample grids (scatter plots for 2D data)
  <run>/eval/<step>.json       metrics of a step with their reference protocol (`read_results`)
  <run>/events.out.tfevents.*  TensorBoard scalars and images (`read_scalars`)
  <run>/log.txt                what the launcher's child printed (launch/pool.py)
  <run>/group.json             {'group': folder, 'index': i}: trained in a vectorized group

A study (launch/sweep.py) holds one such folder per run, its `sweep.json`, and for vectorized
groups `_groups/<id>/`: the group's `runs.json` (its runs), `log.txt` and the checkpoints of the
stacked state (gan_jax/programs/group.py).

Every hand-made file (all but Orbax's and TensorBoard's) is written by `write_atomically`: a
temporary file in the same folder, then `os.replace`, so a reader or a crash sees the old file or
the new one, never a part. A file that several processes update (eval/<step>.json: training's
periodic evaluation and experiments.evaluate may add to it at the same moment) is read, changed
and written under an exclusive lock (`exclusive`), so that no update is lost. Light to import
(stdlib, numpy, ml_collections): launch/ reads run folders without starting JAX.
"""

import contextlib
import fcntl
import glob
import json
import os
import shutil
import struct
import sys
import tempfile

import ml_collections

CONFIG_FILE = 'config.json'
DATA_FILE = 'data.json'
CHECKPOINT_DIR = 'checkpoints'
SAMPLES_DIR = 'samples'
EVAL_DIR = 'eval'
EVENTS_GLOB = 'events.out.tfevents.*'
UNFINISHED_MARK = '.orbax-checkpoint-tmp'  # in the name of a checkpoint save not completed
ORBAX_DONE_FILE = '_CHECKPOINT_METADATA'  # in each completed Orbax step folder
LOG_FILE = 'log.txt'
GROUP_FILE = 'group.json'  # in a run trained in a group: which group
GROUPS_DIR = '_groups'  # in a study: one folder per vectorized group
GROUP_RUNS_FILE = 'runs.json'  # in a group's folder: its config file and runs


def _umask():
  mask = os.umask(0)
  os.umask(mask)
  return mask


def write_atomically(path, content) -> str:
  """Writes `path` whole or not at all; returns it.

  `content` is a str, bytes, or a function `write(temporary_path)` that writes the file itself
  (np.save, a PNG writer): the temporary path ends with the same extension as `path`. Its folder
  is created if missing. On any error the temporary file is removed and the error propagates.
  """
  path = os.fspath(path)
  folder = os.path.dirname(os.path.abspath(path))
  os.makedirs(folder, exist_ok=True)
  root, ext = os.path.splitext(os.path.basename(path))
  fd, tmp = tempfile.mkstemp(dir=folder, prefix=f'.{root}.', suffix=f'.partial{ext}')
  try:
    if callable(content):
      os.close(fd)
      content(tmp)
      fd = os.open(tmp, os.O_RDONLY)
    else:
      data = content.encode() if isinstance(content, str) else bytes(content)
      view = memoryview(data)
      while view:
        view = view[os.write(fd, view) :]
    os.fsync(fd)
    os.close(fd)
    fd = None
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide shared files from others
    os.replace(tmp, path)
  except BaseException:
    if fd is not None:
      try:
        os.close(fd)
      except OSError:
        pass
    if os.path.exists(tmp):
      os.remove(tmp)
    raise
  return path


def write_folder_atomically(folder, fill) -> str:
  """Makes `folder` whole or not at all; returns it. `fill(temporary_folder)` writes the files
  into a hidden folder beside it, which is then renamed onto `folder` (missing or empty; a
  non-empty one raises OSError). On any error the temporary folder is removed and the error
  propagates."""
  folder = os.path.abspath(os.fspath(folder))
  parent, name = os.path.split(folder)
  os.makedirs(parent, exist_ok=True)
  tmp = tempfile.mkdtemp(dir=parent, prefix=f'.{name}.', suffix='.partial')
  try:
    fill(tmp)
    os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp's 0700 would hide the folder from others
    os.replace(tmp, folder)
  except BaseException:
    shutil.rmtree(tmp, ignore_errors=True)
    raise
  return folder


@contextlib.contextmanager
def exclusive(path):
  """Holds `<path>.lock` exclusively for the block: one holder at a time, across processes.

  fcntl.flock on the lock file, which the holder removes before letting go; a waiter that then
  holds a removed file's lock opens the new one and waits again. The kernel releases the lock
  when its holder closes it or dies; a lock file left by a killed holder is harmless (the next
  holder takes it, then removes it). Where flock does not lock across machines (some network
  filesystems), neither does this.
  """
  lock = f'{os.fspath(path)}.lock'
  os.makedirs(os.path.dirname(os.path.abspath(lock)), exist_ok=True)
  while True:
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    try:
      fcntl.flock(fd, fcntl.LOCK_EX)
      if os.path.samestat(os.fstat(fd), os.stat(lock)):
        break
    except FileNotFoundError:  # removed by the holder we waited for: lock the next one
      pass
    except BaseException:
      os.close(fd)
      raise
    os.close(fd)
  try:
    yield
  finally:
    try:
      os.remove(lock)  # still holding it: whoever waits on this file will see it gone
    finally:
      os.close(fd)


def write_json(path, record) -> str:
  return write_atomically(path, json.dumps(record, indent=2, sort_keys=True))


def write_config(run, config) -> str:
  return write_atomically(os.path.join(run, CONFIG_FILE), config.to_json(indent=2, sort_keys=True))


def _tuples(x):
  if isinstance(x, dict):
    return {k: _tuples(v) for k, v in x.items()}
  return tuple(_tuples(v) for v in x) if isinstance(x, list) else x


def read_config(run) -> ml_collections.ConfigDict:
  """The config a run was trained with, in today's layout (gan_jax.schema.upgrade: fields that
  moved, defaults of fields added since); lists come back as tuples.

  Raises ValueError naming the file if it cannot be read or parsed.
  """
  from gan_jax.schema import upgrade  # pylint: disable=g-import-not-at-top (the registries: here)

  path = os.path.join(run, CONFIG_FILE)
  try:
    with open(path) as f:
      raw = json.load(f)
  except (OSError, ValueError) as e:
    lines = str(e).strip().splitlines() or ['']
    raise ValueError(f'{path}: cannot be read ({type(e).__name__}: {lines[0]})') from None
  return upgrade(ml_collections.ConfigDict(_tuples(raw)))


DATA_SHAPE_KEYS = ('shape', 'is_image', 'num_classes')


def write_data_info(run, shape, source) -> str:
  """Writes data.json: `shape` ({'shape', 'is_image', 'num_classes'}: enough to rebuild the
  models without the data) and what was read where the source says (`source.contents()`: the
  folder dataset's count, classes, content hash). A resumed run whose data.json recorded other
  contents gets one warning line."""
  info = {**shape, **source.contents()}
  change = data_change(_read_json(os.path.join(run, DATA_FILE)), info)
  if change:
    print(f'warning: --workdir={run}: {change}', file=sys.stderr)
  return write_atomically(os.path.join(run, DATA_FILE), json.dumps(info))


def data_change(before, now) -> str | None:
  """One line saying how the data read now differ from the data.json of an earlier start
  (both with a 'content_hash'), or None."""
  if not before or 'content_hash' not in before or before['content_hash'] == now['content_hash']:
    return None
  said = lambda d: f"{d['count']} images ({d['content_hash'][7:19]}) in {d['folder']}"
  return (
      f'the data changed since this run last started: data.json recorded {said(before)}, '
      f'now {said(now)}; the resumed run trains on what is there now, not the batches an '
      'uninterrupted run would have seen'
  )


def _read_json(path):
  try:
    with open(path) as f:
      return json.load(f)
  except (OSError, ValueError):
    return None


def read_data_info(run):
  """data.json's {'shape', 'is_image', 'num_classes'}, or None (missing or unreadable)."""
  info = _read_json(os.path.join(run, DATA_FILE))
  if not isinstance(info, dict) or not all(k in info for k in DATA_SHAPE_KEYS):
    return None
  return {k: info[k] for k in DATA_SHAPE_KEYS}


def eval_path(run, step) -> str:
  return os.path.join(run, EVAL_DIR, f'{int(step)}.json')


def sample_path(run, step) -> str:
  return os.path.join(run, SAMPLES_DIR, f'step_{int(step):08d}.png')


def read_eval_file(path) -> list:
  """The entries of one eval/<step>.json: {'metric', 'seed', 'weights' ('ema' / 'live'), 'by'
  ('training' / 'evaluate'), 'num_samples', 'values', 'protocol'} each (gan_jax/evaluator.py
  writes them). A file of the older format (one evaluation, the metrics at the top level) is
  read as entries too."""
  with open(path) as f:
    record = json.load(f)
  if 'results' in record:
    return record['results']
  old = {k: v for k, v in record.items() if k not in ('step', 'seed', 'reference')}
  return [
      {
          'metric': name,
          'seed': record.get('seed'),
          'weights': 'ema',
          'by': None,
          'num_samples': values.get('num_samples'),
          'values': {k: v for k, v in values.items() if k != 'num_samples'},
          # that format stated the Inception reference for every metric: true of these only
          'protocol': record.get('reference', {}) if name in ('fid', 'kid', 'pr') else {},
      }
      for name, values in old.items()
  ]


# What makes two results-file entries the same evaluation (a new one replaces the old).
RESULT_KEY = ('metric', 'seed', 'weights', 'num_samples', 'protocol')
_UNREADABLE = (OSError, ValueError, TypeError, KeyError, AttributeError)


def add_results(run, step, entries) -> tuple[str, list]:
  """Adds results-file `entries` (see `read_eval_file`) to <run>/eval/<step>.json; returns
  (path, [(old, new), ...] for the stored entries replaced by different values).

  A new entry replaces the stored ones of the same evaluation (RESULT_KEY) and is added beside
  the others. The file is read, changed and rewritten (atomically) under its lock (`exclusive`):
  concurrent writers lose nothing. An unreadable file is moved to <path>.unreadable, with a
  warning.
  """
  path = eval_path(run, step)
  with exclusive(path):
    stored = []
    if os.path.isfile(path):
      try:
        stored = read_eval_file(path)
      except _UNREADABLE as e:
        os.replace(path, f'{path}.unreadable')
        print(f'warning: {path} is unreadable ({e}); moved to {path}.unreadable', file=sys.stderr)
    replaced = []
    for new in entries:
      key = tuple(new[k] for k in RESULT_KEY)
      same = [e for e in stored if tuple(e.get(k) for k in RESULT_KEY) == key]
      replaced += [(old, new) for old in same if old['values'] != new['values']]
      stored = [e for e in stored if e not in same] + [new]
    write_atomically(path, json.dumps({'step': step, 'results': stored}, indent=2))
  return path, replaced


def read_result_entries(run) -> list[dict]:
  """Every entry of <run>/eval/*.json, each with its 'step', in step order; a warning for each
  unreadable file, left out."""
  found = []
  for path in glob.glob(os.path.join(run, EVAL_DIR, '*.json')):
    name = os.path.basename(path)[: -len('.json')]
    if name.isdigit():
      try:
        found += [{'step': int(name), **e} for e in read_eval_file(path)]
      except _UNREADABLE as e:
        print(f'warning: {path} is unreadable ({e}); left out', file=sys.stderr)
  return sorted(found, key=lambda e: e['step'])


def read_results(run) -> dict:
  """{step: {metric: {'num_samples': n, **values}}} of every readable eval/<step>.json, in step
  order (unreadable ones skipped): per metric the EMA generator's result, the training run's own
  evaluation first, else the newest entry."""
  found = {}
  for path in glob.glob(os.path.join(run, EVAL_DIR, '*.json')):
    name = os.path.basename(path)[: -len('.json')]
    if not name.isdigit():
      continue
    try:
      entries = read_eval_file(path)
    except _UNREADABLE:
      continue
    record = {}
    for e in sorted(entries, key=lambda e: e.get('by') == 'training'):  # training's last: wins
      if e.get('weights', 'ema') == 'ema':
        record[e['metric']] = {'num_samples': e.get('num_samples'), **e.get('values', {})}
    found[int(name)] = record
  return dict(sorted(found.items()))


def checkpoint_steps(run) -> list:
  """Steps of the completed checkpoints (not unfinished saves, not set-aside corrupt ones)."""
  folder = os.path.join(run, CHECKPOINT_DIR)
  if not os.path.isdir(folder):
    return []
  return sorted(
      int(n)
      for n in os.listdir(folder)
      if n.isdigit() and os.path.isfile(os.path.join(folder, n, ORBAX_DONE_FILE))
  )


def is_finished(run, num_steps=None) -> bool:
  """Whether the run has a checkpoint at (or past) `num_steps` (default: its config's)."""
  steps = checkpoint_steps(run)
  if not steps:
    return False
  if num_steps is None:
    try:
      num_steps = read_config(run).train.num_steps
    except (ValueError, AttributeError):
      return False
  return steps[-1] >= num_steps


def read_group_link(run):
  """The absolute folder of the vectorized group `run` trained in (its group.json), or None."""
  try:
    with open(os.path.join(run, GROUP_FILE)) as f:
      return json.load(f)['group']
  except (OSError, ValueError, KeyError, TypeError):
    return None


def latest_sample(run):
  """Path of the newest samples/step_*.png, or None."""
  paths = sorted(glob.glob(os.path.join(run, SAMPLES_DIR, 'step_*.png')))
  return paths[-1] if paths else None


def _records(path):
  """The records of a TFRecord file (length, CRC, data, CRC); stops at a truncated tail."""
  with open(path, 'rb') as f:
    while True:
      header = f.read(12)
      if len(header) < 12:
        return
      (length,) = struct.unpack('<Q', header[:8])
      data = f.read(length)
      if len(f.read(4)) < 4 or len(data) < length:
        return
      yield data


def read_scalars(run) -> dict:
  """{tag: [(step, value), ...]} of the TensorBoard scalars in the run's event files, by step.

  A step logged twice (a resumed run repeats the steps since its checkpoint) keeps the value
  written last.
  """
  from tensorboardX.proto import event_pb2  # pylint: disable=g-import-not-at-top (only here)

  scalars = {}
  for path in sorted(glob.glob(os.path.join(run, EVENTS_GLOB))):  # file names sort by time
    for data in _records(path):
      event = event_pb2.Event()
      try:
        event.ParseFromString(data)
      except Exception:  # a damaged record: skip it  # pylint: disable=broad-except
        continue
      for value in event.summary.value:
        if value.WhichOneof('value') == 'simple_value':
          scalars.setdefault(value.tag, {})[event.step] = value.simple_value
  return {tag: sorted(steps.items()) for tag, steps in sorted(scalars.items())}
