"""Vectorized groups of translation runs (gan_jax/programs/translation_group.py): each run's loss
weights are traced per run in the grouped step, a group of two CycleGAN runs with different
lambda_cycle and one of two pix2pix runs with different lambda_L1 equal the runs alone, and
launch.sweep --vectorize groups translation runs by what shapes their program."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import common
from configs import cyclegan as cyclegan_config
from configs import pix2pix as pix2pix_config
from gan_jax import checkpoint, config as config_lib, workdir
from gan_jax.group_train import row, train_group
from gan_jax.optimizers import OPTIMIZERS
from gan_jax.programs.cyclegan_step import CycleGanStep, build_cyclegan
from gan_jax.programs import Program
from gan_jax.programs.group import group_hparams
from gan_jax.programs.pix2pix_step import Pix2PixStep, build_pix2pix
from gan_jax.programs.translation_group import TranslationGroupProgram
from gan_jax.train import train_and_evaluate
from tests.conftest import states_on_devices
from tests.test_launch import parse  # pylint: disable=unused-import (a fixture)


def cycle_config(lam, seed=0):
  """CycleGAN's smoke run with lambda_cycle `lam` in both directions."""
  c = cyclegan_config.get_config('smoke')
  c.cyclegan.lambda_forward = c.cyclegan.lambda_backward = lam
  c.seed = seed
  return c


def networks(abstract):
  """(g_params, g_state, d_params, d_state) of the shapes of an abstract state: parameters drawn
  by numpy (JAX's initialisers compile slowly on XLA:CPU), statistics 1."""
  rng = np.random.default_rng(0)
  draw = lambda tree: jax.tree.map(lambda x: rng.normal(0, 0.3, x.shape).astype(x.dtype), tree)
  ones = lambda tree: jax.tree.map(lambda x: np.ones(x.shape, x.dtype), tree)
  return draw(abstract.g_params), ones(abstract.g_state), draw(abstract.d_params), ones(
      abstract.d_state
  )


def per_run_and_alone(step_class, build, configs, loss_of):
  """(G's losses of `configs`' runs under one vmap of their hparams, each run's own), loss_of
  (step) the loss of a step object."""
  parts = build(configs[0])
  grouped = jax.jit(jax.vmap(lambda hp: loss_of(step_class(parts, hp))))
  alone = [jax.jit(lambda c=c: loss_of(step_class(build(c))))() for c in configs]
  return np.asarray(grouped(group_hparams(configs))), np.asarray(alone)


def test_a_groups_traced_loss_weights_give_each_run_its_own_loss():
  """The grouped step's weights are arrays of the run axis (not one run's constants baked into
  the trace): G's loss of two CycleGAN runs (lambda_cycle 10 and 2) and two pix2pix runs
  (lambda_L1 100 and 10) under one vmap equals each run's own step's loss, and they differ."""
  configs = [cycle_config(10.0), cycle_config(2.0)]
  c = build_cyclegan(configs[0])
  batch = c.source.batch(0, 0, 2)
  args = (*networks(c.abstract_state), batch['a'], batch['b'], jax.random.key(1))
  grouped, alone = per_run_and_alone(
      CycleGanStep, build_cyclegan, configs, lambda step: step.g_loss(*args)[0]
  )
  np.testing.assert_allclose(grouped, alone, rtol=1e-5)
  assert grouped[0] > grouped[1] + 1  # the cycle terms weigh 5 times as much
  configs = [pix2pix_config.get_config(f'smoke,pix2pix.lambda_l1={w}') for w in (100.0, 10.0)]
  p = build_pix2pix(configs[0])
  batch = p.source.batch(0, 0, 4)
  _, _, d_params, d_state = networks(p.abstract_state)
  args = (jnp.zeros_like(batch['b']), d_params, d_state, batch['a'], batch['b'])
  grouped, alone = per_run_and_alone(
      Pix2PixStep, build_pix2pix, configs, lambda step: step.g_loss(*args)[0]
  )
  np.testing.assert_allclose(grouped, alone, rtol=1e-5)
  assert grouped[0] > grouped[1] + 1


def comparable(c):
  """`c` (a smoke config) such that two computations of it that round differently (a vmapped or
  a device-split step against a run alone) stay within the GAN tests' tolerance:

  * SGD at the config's schedule in place of Adam: instance and batch norm cancel the biases of
    the convolutions before them, whose gradients are then 0 up to rounding, and Adam turns that
    rounding into steps of +-lr; SGD keeps those biases still;
  * for CycleGAN, G at ngf 8 with one residual block: the smoke run's 2-channel G_BA is
    ill-conditioned after one step (a 1e-6 relative change of the state moves its next update by
    1e-3, alone, on one device); at ngf 8 the change stays at 1e-6 (with lambda_cycle 10 or 20;
    at 2 this tiny net is ill-conditioned again: 1e-7 grows to 1e-4 in 4 steps, measured).
  """
  for net in ('g', 'd'):
    o = c.optim[net]
    rates = dict(schedule='linear', hold_steps=o.hold_steps, decay_steps=o.decay_steps)
    c.optim[net] = common.entry(OPTIMIZERS, 'sgd', lr=0.05, **rates)
  if c.model.name == 'resnet_generator':
    c.model.update(ngf=8, n_blocks=1)
  return c


# `python -c` this OUT N (tests/conftest.py states_on_devices): the smoke run of configs/{module}
# made `comparable`, 4 images a batch, trained on N devices; its final state's arrays to OUT.npz.
ON_DEVICES = """
import sys, jax, numpy as np
from configs import {module}
from gan_jax.train import train_and_evaluate
from tests.test_translation_group import comparable
assert jax.device_count() == int(sys.argv[2]), jax.devices()
c = comparable({module}.get_config('smoke'))
c.train.batch_size, c.eval.every_steps, c.train.sample_every = 4, 0, 0
state, _ = train_and_evaluate(c, sys.argv[1])
np.savez(sys.argv[1] + '.npz', *[np.asarray(x) for x in jax.tree_util.tree_leaves(state)])
"""


def assert_one_and_four_devices_agree(module, folder, rtol=1e-4, atol=1e-5):
  """The smoke run of configs/<module> ends in the same state on 1 and on 4 devices (each batch
  split over them), by default to the tolerance of the G/D GAN's test (tests/test_train.py)."""
  one, four = states_on_devices(ON_DEVICES.format(module=module), folder)
  assert len(one.files) == len(four.files) > 30
  for key in one.files:
    np.testing.assert_allclose(one[key], four[key], rtol=rtol, atol=atol, err_msg=key)


def eval_metrics(run):
  with open(os.path.join(run, 'eval', '4.json')) as f:
    return sorted(entry['metric'] for entry in json.load(f)['results'])


@pytest.mark.slow  # 2.6 min of CPU: the grouped step, two runs alone, a resume (vectorized groups)
def test_a_group_of_two_cycle_weights_equals_the_runs_alone(tmp_path):
  """Two CycleGAN runs (lambda_cycle 20 and 10, seeds 0 and 1) trained as one group: each run's
  state equals the run trained alone, each run's folder reads like a run's, and a stopped group
  resumes bit for bit."""
  runs = [(20.0, 0), (10.0, 1)]  # well-conditioned (`comparable`)
  dirs = [str(tmp_path / f'run{i}') for i in range(2)]
  configs = [comparable(cycle_config(*r)) for r in runs]
  states, stopped = train_group(configs, dirs, str(tmp_path / 'g'))
  assert not stopped
  for i, r in enumerate(runs):
    alone, _ = train_and_evaluate(comparable(cycle_config(*r)), str(tmp_path / f'alone{i}'))
    a, b = checkpoint.host_arrays(alone), checkpoint.host_arrays(row(states, i))
    assert a.keys() == b.keys() and len(a) > 50
    for name in a:
      np.testing.assert_allclose(b[name], a[name], rtol=1e-3, atol=1e-4, err_msg=name)
    assert workdir.read_config(dirs[i]).cyclegan.lambda_forward == r[0]
    assert workdir.checkpoint_steps(dirs[i]) == workdir.checkpoint_steps(str(tmp_path / 'alone0'))
    assert sorted(os.listdir(os.path.join(dirs[i], 'samples'))) == [
        'step_00000002.png',
        'step_00000004.png',
    ]
    metrics = [eval_metrics(d) for d in (dirs[i], tmp_path / f'alone{i}')]
    assert metrics[0] == metrics[1] and len(metrics[0]) == 10
  kernel = 'g_params.ab.conv_in.kernel'
  first, second = (checkpoint.host_arrays(row(states, i))[kernel] for i in (0, 1))
  assert not np.allclose(first, second)  # the two runs did train apart
  assert workdir.checkpoint_steps(str(tmp_path / 'g')) == [2, 4]
  # Stopped after step 3 (its checkpoint saved) and rerun, the group ends bit for bit where the
  # uninterrupted one ended, its pools included.
  calls, dirs = [], [str(tmp_path / f'stopped{i}') for i in range(2)]
  stop = lambda: calls.append(1) or len(calls) >= 3
  _, stopped = train_group(configs, dirs, str(tmp_path / 's'), should_stop=stop)
  assert stopped and workdir.checkpoint_steps(str(tmp_path / 's'))[-1] == 3
  resumed, _ = train_group(configs, dirs, str(tmp_path / 's'))
  a, b = checkpoint.host_arrays(states), checkpoint.host_arrays(resumed)
  assert a.keys() == b.keys() and 'pool.a' in a
  for name in a:
    np.testing.assert_array_equal(b[name], a[name], err_msg=name)


@pytest.mark.slow  # ~1 min of CPU: the grouped pix2pix step and two runs alone
def test_a_group_of_two_l1_weights_equals_the_pix2pix_runs_alone(tmp_path):
  """Two pix2pix runs (lambda_L1 100 and 10, seeds 0 and 1: batch norm, dropout drawn from each
  run's key) trained as one group: each run's state equals the run trained alone."""
  runs = [(100.0, 0), (10.0, 1)]
  make = lambda lam, seed: comparable(
      pix2pix_config.get_config(f'smoke,pix2pix.lambda_l1={lam},seed={seed}')
  )
  dirs = [str(tmp_path / f'run{i}') for i in range(2)]
  states, stopped = train_group([make(*r) for r in runs], dirs, str(tmp_path / 'g'))
  assert not stopped
  for i, r in enumerate(runs):
    alone, _ = train_and_evaluate(make(*r), str(tmp_path / f'alone{i}'))
    a, b = checkpoint.host_arrays(alone), checkpoint.host_arrays(row(states, i))
    assert a.keys() == b.keys() and len(a) > 30
    for name in a:
      np.testing.assert_allclose(b[name], a[name], rtol=1e-3, atol=1e-4, err_msg=name)
    assert workdir.read_config(dirs[i]).pix2pix.lambda_l1 == r[0]
  kernel = next(k for k in checkpoint.host_arrays(alone) if k.startswith('g_params.'))
  first, second = (checkpoint.host_arrays(row(states, i))[kernel] for i in (0, 1))
  assert not np.allclose(first, second)  # the two runs did train apart


def test_the_translation_group_has_every_method_of_the_program_interface():
  methods = {n for n, v in vars(Program).items() if callable(v) and not n.startswith('_')}
  assert {'step', 'host_batches', 'sample', 'evaluate', 'save'} <= methods
  assert not methods - set(dir(TranslationGroupProgram))
  assert TranslationGroupProgram.batch_axis == 2  # (S, iterations, B, ...)


CYCLE_SWEEP = """from configs import cyclegan


def get_config(arg=None):
  return cyclegan.get_config(arg)


def sweep(add, arg=None):
  for seed in (0, 1):
    for arm in ('', ',cycle', ',gan_forward', ',no_identity'):
      add(config_arg='smoke' + arm, seed=seed)
"""


def test_the_dry_run_groups_translation_runs_by_what_shapes_their_program(
    tmp_path, parse, capsys
):
  """CycleGAN's ablation arms differ in loss weights (vectorizable) except no_identity, whose
  identity term is off (its forwards are skipped): 6 runs in one group, 2 in another."""
  path = tmp_path / 'cycle_sweep.py'
  path.write_text(CYCLE_SWEEP)
  root = str(tmp_path / 'runs')
  args = [f'--config={path}', f'--workdir={root}', '--vectorize', '--dry_run']
  code, out, err = parse(args, capsys)
  assert code == 0, err
  lines = out.strip().splitlines()
  assert lines[0] == (
      '# 8 runs: 2 vectorized group(s), 0 run(s) alone; groups split by cyclegan.identity_weight'
  )
  groups = [l.split(': ')[2].split(', ') for l in lines if l.startswith('# group')]
  assert [len(g) for g in groups] == [6, 2]
  assert all('no_identity' in name for name in groups[1])
  assert sum('experiments.train_group' in l for l in lines) == 2
  assert not os.path.exists(root)
  keys = [config_lib.program_key(cyclegan_config.get_config(a)) for a in ('smoke', 'smoke,gan')]
  assert keys[0] == keys[1]
