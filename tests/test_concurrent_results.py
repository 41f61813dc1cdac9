"""Concurrent writers of one results file lose nothing: training's periodic evaluation and
experiments.evaluate may add to the same eval/<step>.json at the same moment
(gan_jax.workdir.add_results, which evaluator.write_results calls).

Each write is atomic (a temporary file and a rename), but an update is a read, a change and a
write: without the lock, two writers that read the same file each write back their own entry
and the entry of whichever renames first is lost. The second test shows that this happens when
the lock is taken away, so that the first one's passing means something. The workers are
spawned processes that import only gan_jax.workdir (no JAX).
"""

import contextlib
import fcntl
import json
import multiprocessing
import os
import time

import pytest

from gan_jax import workdir

STEP = 7


def _entry(writer, i):
  return {
      'metric': 'modes',
      'seed': 1000 * writer + i,
      'weights': 'ema',
      'by': f'writer{writer}',
      'num_samples': 10,
      'values': {'modes': i},
      'protocol': {},
  }


def _add_many(run, writer, count, start, locked):
  """Adds `count` entries of its own, one update each, once every writer is ready."""
  if not locked:  # the lock taken away, the read-to-write window widened so that it shows
    workdir.exclusive = lambda path: contextlib.nullcontext()
    read = workdir.read_eval_file
    workdir.read_eval_file = lambda path: (read(path), time.sleep(0.01))[0]
  start.wait()
  for i in range(count):
    workdir.add_results(run, STEP, [_entry(writer, i)])


def _race(run, count, locked=True):
  """Runs two writers in parallel; returns the (writer, i) of the entries in the file."""
  context = multiprocessing.get_context('spawn')
  start = context.Barrier(2)
  writers = [
      context.Process(target=_add_many, args=(run, w, count, start, locked)) for w in (1, 2)
  ]
  for p in writers:
    p.start()
  for p in writers:
    p.join(timeout=300)
    assert p.exitcode == 0
  with open(workdir.eval_path(run, STEP)) as f:
    record = json.load(f)
  assert record['step'] == STEP
  return sorted(divmod(e['seed'], 1000) for e in record['results'])


def test_two_processes_adding_to_one_results_file_lose_nothing(tmp_path):
  run = str(tmp_path)
  workdir.add_results(run, STEP, [_entry(0, 0)])  # an entry of before: kept too
  found = _race(run, count=150)
  assert found == [(0, 0)] + [(w, i) for w in (1, 2) for i in range(150)]
  assert os.listdir(tmp_path / 'eval') == [f'{STEP}.json']  # no lock or temporary file left


def test_without_the_lock_updates_are_lost(tmp_path):
  found = _race(str(tmp_path), count=40, locked=False)
  assert len(found) < 80  # a lost update: what the lock prevents


def test_a_lock_file_left_behind_is_taken_and_removed(tmp_path):
  path = workdir.eval_path(tmp_path, STEP)
  os.makedirs(os.path.dirname(path))
  open(f'{path}.lock', 'w').close()  # as a holder killed inside the block leaves it
  path_written, replaced = workdir.add_results(tmp_path, STEP, [_entry(1, 0)])
  assert (path_written, replaced) == (path, [])
  assert os.listdir(tmp_path / 'eval') == [f'{STEP}.json']
  _, replaced = workdir.add_results(tmp_path, STEP, [{**_entry(1, 0), 'values': {'modes': 9}}])
  assert replaced == [(_entry(1, 0), {**_entry(1, 0), 'values': {'modes': 9}})]


def test_the_lock_is_exclusive_and_released_when_its_block_raises(tmp_path):
  path = str(tmp_path / 'f.json')
  with pytest.raises(RuntimeError):
    with workdir.exclusive(path):
      fd = os.open(f'{path}.lock', os.O_RDWR)  # another holder's try
      with pytest.raises(BlockingIOError):
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
      os.close(fd)
      raise RuntimeError('inside')
  assert not os.path.exists(f'{path}.lock')
  with workdir.exclusive(path):  # taken again at once: nothing held
    pass
