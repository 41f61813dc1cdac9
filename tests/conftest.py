"""Shared fixtures: small configs that train in seconds on a CPU.

The whole session, and every process its tests start, shares one persistent compilation cache
(set before JAX is imported; removed at exit): the many small runs of the suite compile the same
programs again and again, in this process and in subprocesses. A test that sets a cache of its
own (tests/test_reliability.py) puts this one back after it.
"""

import atexit
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest

if 'JAX_COMPILATION_CACHE_DIR' not in os.environ:
  _CACHE = tempfile.mkdtemp(prefix='gan_jax_tests_jax_cache_')
  atexit.register(shutil.rmtree, _CACHE, True)
  os.environ['JAX_COMPILATION_CACHE_DIR'] = _CACHE
  os.environ.setdefault('JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS', '0')

from configs import mixture_2d  # pylint: disable=g-import-not-at-top,wrong-import-position

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# `python -c` this, then the arguments of experiments.main: SIGKILLs itself inside the save of the
# step $KILL_IN_SAVE_OF_STEP, once every array is written and before the rename that commits it.
KILL_INSIDE_SAVE = """
import os, runpy, signal, sys
from orbax.checkpoint._src.path import atomicity

finalize = atomicity.AtomicRenameTemporaryPath.finalize

async def killed_before_rename(self):
  if self.get_final().name == os.environ['KILL_IN_SAVE_OF_STEP']:
    os.kill(os.getpid(), signal.SIGKILL)
  return await finalize(self)

atomicity.AtomicRenameTemporaryPath.finalize = killed_before_rename
runpy.run_module('experiments.main', run_name='__main__', alter_sys=True)
"""


def tiny_config(**train):
  """grid25 with a small MLP pair that exercises every kind of state:
  BatchNorm in G, spectral norm and dropout in D, an EMA and two optimizers."""
  c = mixture_2d.get_config('grid25')
  c.model.g_hidden = (32, 32)
  c.model.d_hidden = (32, 32)
  c.model.g_batchnorm = True
  c.model.d_sn = True
  c.model.d_dropout = 0.1
  c.train.update(
      dict(
          num_steps=10,
          batch_size=16,
          d_steps=2,
          log_every=5,
          sample_every=0,
          steps_per_call=1,
          num_samples=16,
      )
  )
  c.train.update(train)
  c.checkpoint.every_steps = 5
  c.eval.every_steps = 0
  return c


@pytest.fixture
def make_config():
  return tiny_config


def run_module(module, *args, env=None, timeout=600):
  """`python -m module args...` from the repo root; returns CompletedProcess."""
  full_env = {**os.environ, 'PYTHONPATH': ROOT, **(env or {})}
  return subprocess.run(
      [sys.executable, '-m', module, *args],
      cwd=ROOT,
      env=full_env,
      capture_output=True,
      text=True,
      timeout=timeout,
  )


def states_on_devices(script, folder, counts=(1, 4)):
  """For each N of `counts`: `python -c script OUT N` with N fake CPU devices
  (--xla_force_host_platform_device_count, set before JAX starts); the script saves its arrays to
  OUT.npz. Returns the loaded npz of each N, in order."""
  loaded = []
  for n in counts:
    out = os.path.join(str(folder), f'dev{n}')
    env = {'XLA_FLAGS': f'--xla_force_host_platform_device_count={n}'}
    proc = subprocess.run(
        [sys.executable, '-c', script, out, str(n)],
        cwd=ROOT,
        env={**os.environ, 'PYTHONPATH': ROOT, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded.append(np.load(out + '.npz'))
  return loaded
