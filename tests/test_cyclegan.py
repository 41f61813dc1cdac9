"""CycleGAN (gan_jax/programs/cyclegan*.py, data/unpaired.py, configs/cyclegan.py): the cycle
loss of identity generators, the image pool's rule, one step updating all four networks, a
bit-identical resume with the pool, the unpaired tasks' splits, and the config's smoke run with
its samples and metrics; experiments.translate (--direction) and experiments.evaluate on that run
(gan_jax/translating.py)."""

import dataclasses
import json
import os
import types

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import cyclegan as cyclegan_config
from configs import pix2pix as pix2pix_config
from gan_jax import translating
from gan_jax.checkpoint import save_config
from gan_jax.data import get_dataset
from gan_jax.data.edges2mnist import split_indices
from gan_jax.data.unpaired import negative_domains
from gan_jax.errors import UserError
from gan_jax.evaluator import EVAL_SEED, result_entries
from gan_jax.programs.cyclegan_step import CycleGanStep, build_cyclegan, pool_query
from gan_jax.train import train_and_evaluate
from tests.conftest import run_module, tiny_config
from tests.test_translation_group import assert_one_and_four_devices_agree


def leaves(tree):
  return [np.asarray(x) for x in jax.tree_util.tree_leaves(tree)]


@pytest.fixture(scope='module')
def built():
  """The smoke config's CycleGAN, its jitted step and the fresh state of a run (compiled once;
  the runs below find both programs in the compilation cache)."""
  c = build_cyclegan(cyclegan_config.get_config('smoke'))
  k_init, _ = jax.random.split(jax.random.key(c.config.seed))  # as the program splits it
  return c, CycleGanStep(c).jitted(), c.init_state(k_init)


def run_steps(built, n):
  """The state after `n` iterations of the smoke run, stepped here (the run's batches and key)."""
  c, step, state = built
  state = jax.tree_util.tree_map(jnp.array, state)  # the step donates its input
  k_train = jax.random.split(jax.random.key(c.config.seed))[1]
  for k in range(n):
    batch = jax.tree_util.tree_map(lambda x: x[None], c.source.batch(c.config.seed, k, 2))
    state, metrics = step(state, batch, k_train)
  return state, metrics


class IdentityG(nn.Module):
  """G(x) = x (a parameter that multiplies nothing: the generators have parameters)."""

  @nn.compact
  def __call__(self, x, *, train):
    del train
    return x + 0.0 * self.param('w', nn.initializers.zeros, ())


def test_cycle_and_identity_losses_are_0_for_identity_generators(built):
  c, _, state = built
  step = CycleGanStep(dataclasses.replace(c, generator=IdentityG()))
  params = IdentityG().init(jax.random.key(0), jnp.zeros((1, 4, 4, 1)), train=False)['params']
  a = jnp.asarray(c.source.batch(0, 0, 2)['a'])
  g_params, g_state = {'ab': params, 'ba': params}, {'ab': {}, 'ba': {}}
  args = (g_params, g_state, state.d_params, state.d_state, a, a, jax.random.key(1))
  total, (fakes, _, metrics) = step.g_loss(*args)
  for name in ('g_cycle_forward', 'g_cycle_backward', 'g_identity'):
    assert float(metrics[name]) == 0.0, name
  np.testing.assert_array_equal(fakes['a'], a)
  assert float(total) == pytest.approx(2.0 * float(metrics['g_gan']))  # smoke's gan_weight 2
  assert float(metrics['g_gan']) > 0  # the GAN term is there: a check that could fail


def test_the_pool_returns_only_images_it_was_given_and_at_size_0_the_batch():
  query = jax.jit(pool_query)
  pool, count = jnp.zeros((3, 1, 1, 1)), jnp.zeros((), jnp.int32)
  given, older = set(), 0
  for i in range(12):
    batch = jnp.arange(2 * i + 1, 2 * i + 3, dtype=jnp.float32).reshape(2, 1, 1, 1)
    given |= {float(x) for x in batch.ravel()}
    out, pool, count = query(pool, count, batch, jax.random.key(i))
    assert {float(x) for x in out.ravel()} <= given
    assert {float(x) for x in pool.ravel()[: int(count)]} <= given
    older += int(np.sum(np.asarray(out).ravel() < 2 * i + 1))  # an earlier batch's image
  assert int(count) == 3 and older > 0  # full, and it has swapped
  batch = jnp.ones((2, 1, 1, 1))
  out, empty, n = pool_query(jnp.zeros((0, 1, 1, 1)), jnp.zeros((), jnp.int32), batch, None)
  assert out is batch and empty.shape[0] == 0 and int(n) == 0


def test_one_step_changes_all_four_networks_and_fills_the_pool(built):
  before = jax.tree_util.tree_map(np.asarray, built[2])
  after, metrics = run_steps(built, 1)
  for field, names in (('g_params', ('ab', 'ba')), ('d_params', ('a', 'b'))):
    for name in names:
      old, new = getattr(before, field)[name], getattr(after, field)[name]
      assert any(not np.array_equal(x, y) for x, y in zip(leaves(old), leaves(new))), name
  assert int(after.pool['count_a']) == int(after.pool['count_b']) == 2
  assert int(metrics['skipped_d']) == int(metrics['skipped_g']) == 0
  assert np.isfinite(float(metrics['g_loss'])) and np.isfinite(float(metrics['d_loss']))


def test_unpaired_tasks_splits_are_disjoint_and_deterministic():
  n = 5000
  train, test = split_indices('train', n), split_indices('test', n)
  assert not set(train) & set(test) and len(train) + len(test) == n
  a, b, ya, yb = negative_domains('train', 0)
  assert len(a) == len(b) == 2250 and np.array_equal(np.bincount(ya), np.bincount(yb))
  assert not any(np.array_equal(255 - x, y) for x, y in zip(a[:50], b[:50]))  # other digits
  held = get_dataset('mnist2negative', split='test')
  assert held.aligned and held.sizes == {'a': 500, 'b': 500}
  np.testing.assert_allclose(held.domain('b')[0], -held.domain('a')[0], atol=1e-6)  # 255 - x
  train_set = {x.tobytes() for x in a} | {(255 - x).tobytes() for x in b}
  assert not train_set & {x.tobytes() for x in negative_domains('test', 0)[0]}
  digits = get_dataset('mnist2digits')
  held = get_dataset('mnist2digits', split='test')
  assert (digits.sizes, held.sizes) == ({'a': 4500, 'b': 1618}, {'a': 500, 'b': 179})
  assert digits.shape == (28, 28, 1) and not held.aligned
  assert not {x.tobytes() for x in digits.b} & {x.tobytes() for x in held.b}
  first, again = digits.batch(3, 7, 4), get_dataset('mnist2digits').batch(3, 7, 4)
  for key in ('a', 'b', 'ya', 'yb'):
    np.testing.assert_array_equal(first[key], again[key])
  other = digits.batch(4, 7, 4)
  assert not np.array_equal(first['a'], other['a'])


@pytest.fixture(scope='module')
def smoke_run(tmp_path_factory):
  """The smoke config's run in a workdir: stopped after 3 iterations, then resumed to its end
  (4): (the workdir, (the state at the stop, stopped), the final state)."""
  config, workdir = cyclegan_config.get_config('smoke'), tmp_path_factory.mktemp('cyclegan')
  calls = []
  half, stopped = train_and_evaluate(
      config, str(workdir), should_stop=lambda: calls.append(1) or len(calls) >= 3
  )
  resumed, _ = train_and_evaluate(config, str(workdir))
  return workdir, (half, stopped), resumed


def test_smoke_trains_resumes_bit_identically_with_its_pool_and_evaluates(
    built, smoke_run, tmp_path
):
  workdir, (half, stopped), resumed = smoke_run
  assert stopped and int(half.step) == 3 and int(half.pool['count_a']) == 3  # full: swaps next
  straight, _ = run_steps(built, 4)  # the same iterations without a stop
  assert int(resumed.step) == int(straight.step) == 4
  for x, y in zip(leaves(straight), leaves(resumed), strict=True):
    np.testing.assert_array_equal(x, y)
  samples = sorted(os.listdir(workdir / 'samples'))
  assert samples == ['step_00000002.png', 'step_00000004.png']
  with open(workdir / 'eval' / '4.json') as f:
    names = {entry['metric'] for entry in json.load(f)['results']}
  assert {'pixel_agreement_a2b', 'pixel_agreement_b2a', 'adaptation_accuracy_b2a'} <= names
  digits = cyclegan_config.get_config('smoke,data.name=mnist2digits')
  train_and_evaluate(digits, str(tmp_path / 'd'))
  with open(tmp_path / 'd' / 'eval' / '4.json') as f:
    results = {entry['metric']: entry['values'] for entry in json.load(f)['results']}
  assert set(results) == {'adaptation_accuracy_a2b', 'adaptation_accuracy_b2a'}  # not aligned
  assert 0 <= results['adaptation_accuracy_b2a']['source_accuracy'] <= 1
  paired = cyclegan_config.get_config('smoke,data.name=edges2mnist')
  with pytest.raises(UserError, match='CycleGAN needs two unpaired domains'):
    build_cyclegan(paired)


@pytest.mark.slow  # two processes that compile a CycleGAN step each (1-vs-4 devices)
def test_one_and_four_devices_agree(tmp_path):
  """atol 5e-4: 4 steps of this tiny CycleGAN turn the rounding of a split batch into
  differences of up to 2.9e-4 in a few weights (measured, 2026-12-07), over the G/D GAN's 1e-5
  (its trajectory amplifies rounding: tests/test_translation_group.py `comparable`)."""
  assert_one_and_four_devices_agree('cyclegan', tmp_path, rtol=1e-3, atol=5e-4)


@pytest.fixture(scope='module')
def restored(smoke_run):
  return translating.restore_translator(str(smoke_run[0]))


def _eval_file(workdir):
  with open(workdir / 'eval' / '4.json') as f:
    return json.load(f)['results']


@pytest.mark.slow  # a CLI subprocess (~25 s of CPU); its in-process path stays in CI
def test_translate_b2a_gives_g_ba_of_the_test_negatives_with_their_digits(
    smoke_run, restored, tmp_path
):
  """experiments.translate --direction=b2a --split=test: the evenly spaced test negatives (every
  other class of 5), G_BA's outputs (not G_AB's) as translating computes them, the digits they
  are the negatives of as targets, and their labels."""
  out = tmp_path / 'b2a.npz'
  args = ['--direction=b2a', '--split=test', '--num=5', f'--out={out}']
  result = run_module('experiments.translate', f'--workdir={smoke_run[0]}', *args)
  assert result.returncode == 0, result.stderr[-2000:]
  p, state = restored
  negatives, labels = p.test_source.domain('b', 5)
  want = translating.to_stored(translating.translate(p, state, negatives, 'b2a'), p, 28)
  g_ab = translating.to_stored(translating.translate(p, state, negatives, 'a2b'), p, 28)
  with np.load(out) as f:
    assert sorted(f) == ['input', 'label', 'output', 'target']
    np.testing.assert_array_equal(f['input'], translating.to_stored(negatives, p, 28))
    # the CLI's XLA flags (gan_jax/cli.py) pick other convolutions than this process's: a pixel
    # may round the other way
    np.testing.assert_allclose(f['output'].astype(int), want, rtol=0, atol=1)
    assert np.abs(f['output'].astype(int) - g_ab).max() > 1
    np.testing.assert_array_equal(f['target'], 255 - f['input'])  # the true counterparts
    np.testing.assert_array_equal(f['label'], labels)
  np.testing.assert_array_equal(labels, [0, 2, 4, 6, 8])


def test_translate_errors_name_what_the_run_takes(restored, tmp_path):
  p, _ = restored
  with pytest.raises(UserError, match=r'translates 28x28 images with 1 channel'):
    translating.to_model_input(np.zeros((2, 20, 20, 1)), p, 'b2a')
  pix = pix2pix_config.get_config('smoke')
  with pytest.raises(UserError, match='--direction=b2a: .* pix2pix run; .* a2b, only'):
    translating.check_direction(pix, 'b2a')
  assert translating.check_direction(pix, None) == translating.check_direction(pix, 'a2b') == 'a2b'
  assert translating.check_direction(p.config, 'b2a') == 'b2a'
  with pytest.raises(UserError, match='--direction=ab: must be one of a2b, b2a'):
    translating.check_direction(p.config, 'ab')
  save_config(str(tmp_path), tiny_config())
  with pytest.raises(UserError, match="model 'mlp', not a translation run"):
    translating.restore_translator(str(tmp_path))
  padded = types.SimpleNamespace(  # data.pad=2: the border is each domain's background
      config=cyclegan_config.get_config('smoke,data.pad=2'),
      input_shape=(32, 32, 1),
      test_source=p.test_source,
  )
  for direction, value in (('a2b', -1.0), ('b2a', 1.0)):  # digits' 0, the negatives' 255
    x, size = translating.to_model_input(np.zeros((1, 28, 28, 1)), padded, direction)
    assert size == 28 and x.shape == (1, 32, 32, 1) and x[0, 0, 0, 0] == x[0, -1, -1, 0] == value


def test_evaluate_gives_the_runs_own_metrics_of_the_checkpoint(smoke_run, restored):
  """translating.evaluate_run (experiments.evaluate's path) computes the numbers the run wrote at
  step 4 from the restored checkpoint; --metrics and --num_samples pick; a metric the run does
  not compute is named."""
  p, state = restored
  stored = {e['metric']: e['values'] for e in _eval_file(smoke_run[0])}
  got = {e['metric']: e['values'] for e in result_entries(translating.evaluate_run(p, state), 0)}
  assert len(got) == 10 and got == stored
  some = translating.evaluate_run(p, state, ['pixel_agreement'], 4)
  assert sorted(some) == ['pixel_agreement_a2b', 'pixel_agreement_b2a']
  assert {r['num_samples'] for r in some.values()} == {4}
  with pytest.raises(UserError, match='--metrics=accuracy: accuracy: not a CycleGAN metric'):
    translating.evaluate_run(p, state, ['accuracy'])


@pytest.mark.slow  # a CLI subprocess (~25 s of CPU); its in-process path stays in CI
def test_experiments_evaluate_on_the_run_replaces_its_results_by_the_same(smoke_run):
  workdir = smoke_run[0]
  before = _eval_file(workdir)
  result = run_module('experiments.evaluate', f'--workdir={workdir}', '--metrics=pixel_agreement')
  assert result.returncode == 0, result.stderr[-2000:]
  assert 'step 4 pixel_agreement_b2a: pixel_agreement=' in result.stdout
  assert 'note: replaced' not in result.stdout  # the same numbers as the run's
  after = _eval_file(workdir)
  assert len(after) == len(before) == 10 and {e['seed'] for e in after} == {EVAL_SEED}
  by = {e['metric']: e['by'] for e in after}
  assert by['pixel_agreement_a2b'] == by['pixel_agreement_b2a'] == 'experiments.evaluate'
  assert by['l1_a2b'] == 'training'
