"""Shared fixtures: small configs that train in seconds on a CPU."""

import os
import subprocess
import sys

import pytest

from configs import mixture_2d

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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
