"""pix2pix: its step (G and D change, the L1 term, D's halved loss), a bit-identical resume,
edges2mnist's edge map and the translation metrics (PSNR, SSIM)."""

import contextlib
import io

import jax
import numpy as np
import pytest
from scipy import ndimage

from configs import pix2pix as pix2pix_config
from gan_jax import loop, schema
from gan_jax.data import DATASETS, get_dataset
from gan_jax.data.edges2mnist import EDGE_THRESHOLD, sobel_edges
from gan_jax.errors import UserError
from gan_jax.images import to_pixels
from gan_jax.losses import build_loss
from gan_jax.metrics import METRICS, translation
from gan_jax.optimizers import learning_rate
from gan_jax.programs import pix2pix as pix2pix_program
from gan_jax.programs.pix2pix import schedule_warnings
from gan_jax.programs.pix2pix_step import Pix2PixStep, build_pix2pix, d_pair
from gan_jax.train import train_and_evaluate
from gan_jax.workdir import read_result_entries
from tests.conftest import run_module
from tests.test_translation_group import assert_one_and_four_devices_agree


class PairsLike:  # what the translation metrics read of a run's test pairs
  def __init__(self, targets):
    self.targets, self.labels = targets, None


def _smoke(arg=''):
  return pix2pix_config.get_config('smoke' + (f',{arg}' if arg else ''))


@pytest.fixture(scope='module')
def parts():
  p = build_pix2pix(_smoke())
  batch = p.source.batch(0, 0, p.config.train.batch_size)
  return p, Pix2PixStep(p), p.init_state(jax.random.key(0)), batch


def _changed(a, b):
  pairs = zip(jax.tree.leaves(a), jax.tree.leaves(b))
  return any(np.any(np.asarray(x) != np.asarray(y)) for x, y in pairs)


def test_one_step_changes_g_and_d(parts):
  p, step, state, batch = parts
  before = jax.device_get(state)
  batches = loop.placer(p.mesh, 1)(jax.tree_util.tree_map(lambda x: x[None], batch))
  fresh = p.init_state(jax.random.key(0))  # as the runs below place it: one compile for all
  after, metrics = step.jitted()(fresh, batches, jax.random.key(1))
  assert int(after.step) == 1 and int(metrics['skipped_d']) == int(metrics['skipped_g']) == 0
  assert _changed(before.g_params, after.g_params) and _changed(before.d_params, after.d_params)
  assert _changed(before.ema_params, after.ema_params) and _changed(before.g_state, after.g_state)
  assert np.isfinite(float(metrics['g_loss'])) and float(metrics['g_l1']) > 0


def _stub_step(conditional=True, lambda_l1=100.0, gan_weight=1.0):
  """Pix2PixStep's losses around a stand-in D: logits = w * the last channel of its input."""
  step = object.__new__(Pix2PixStep)
  step.loss, step.conditional = build_loss({'name': 'non_saturating'}), conditional
  step.lambda_l1, step.gan_weight = lambda_l1, gan_weight
  step.d_apply = lambda w, state, x: (w * x[..., -1:], {'calls': state['calls'] + 1})
  return step


def test_the_l1_term_and_the_halved_d_loss_are_their_formulas():
  rng = np.random.default_rng(0)
  a, b, fake = (rng.uniform(-1, 1, (2, 4, 4, 1)).astype(np.float32) for _ in range(3))
  bce = lambda l, t: np.mean(np.maximum(l, 0) - l * t + np.log1p(np.exp(-np.abs(l))))
  total, m = _stub_step().g_loss(fake, 2.0, {'calls': 0}, a, b)
  np.testing.assert_allclose(m['g_l1'], np.mean(np.abs(fake - b)), rtol=1e-6)
  np.testing.assert_allclose(m['g_gan'], bce(2.0 * fake, 1.0), rtol=1e-6)  # BCE(D(a, G(a)), 1)
  np.testing.assert_allclose(total, m['g_gan'] + 100.0 * m['g_l1'], rtol=1e-6)
  l1_alone, _ = _stub_step(gan_weight=0.0).g_loss(fake, 2.0, {'calls': 0}, a, b)
  gan_alone, _ = _stub_step(lambda_l1=0.0).g_loss(fake, 2.0, {'calls': 0}, a, b)
  assert (l1_alone, gan_alone) == (pytest.approx(100 * m['g_l1']), pytest.approx(m['g_gan']))
  loss, (state, dm) = _stub_step().d_loss(2.0, {'calls': 0}, a, b, fake)
  want = 0.5 * (bce(2.0 * b, 1.0) + bce(2.0 * fake, 0.0))  # the reference's halved D loss
  np.testing.assert_allclose(loss, want, rtol=1e-6)
  assert state['calls'] == 2 and dm['d_loss'] == loss  # D on the fake pair, then the real one
  x = d_pair(True, a, b)
  assert x.shape == (2, 4, 4, 2) and np.array_equal(d_pair(False, a, b), b)


def _train(config, workdir, stop_after=None):
  calls = []

  def should_stop():
    calls.append(1)
    return stop_after is not None and len(calls) >= stop_after

  out = io.StringIO()
  with contextlib.redirect_stdout(out):
    state, stopped = train_and_evaluate(config, str(workdir), should_stop)
  return jax.device_get(state), stopped, out.getvalue()


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
  root = tmp_path_factory.mktemp('p2p')
  full = _train(_smoke(), root / 'full')
  part = _train(_smoke(), root / 'part', stop_after=1)  # stopped (and saved) after step 1
  resumed = _train(_smoke(), root / 'part')
  return root, full, part, resumed


def test_resumed_mid_run_the_run_ends_bit_identical(runs):
  _, (a, _, _), (_, stopped, printed), (b, _, resumed) = runs
  assert stopped and 'Stopped at step 1;' in printed and 'Resumed from' in resumed
  assert int(a.step) == int(b.step) == 4
  jax.tree_util.tree_map(np.testing.assert_array_equal, a, b)


def test_the_config_trains_and_writes_samples_and_metrics(runs):
  root, (_, _, printed), _, _ = runs
  assert 'G UNetGenerator:' in printed and 'step 4/4 ' in printed and 'g_l1=' in printed
  assert (root / 'full' / 'samples' / 'step_00000004.png').is_file()
  got = {e['metric']: e['values'] for e in read_result_entries(str(root / 'full'))}
  assert set(got) == {'l1', 'psnr', 'ssim', 'accuracy', 'classifier_fid'}
  assert got['accuracy']['target_accuracy'] > 0.9  # the classifier reads the targets


@pytest.mark.slow  # two processes that compile a pix2pix step each (1-vs-4 devices)
def test_one_and_four_devices_agree(tmp_path):
  assert_one_and_four_devices_agree('pix2pix', tmp_path)


def test_the_edge_map_is_the_stated_sobel_operator_and_deterministic():
  digits = get_dataset('mnist5k').images[:50]
  edges = sobel_edges(digits)
  for digit, edge in zip(digits[..., 0].astype(np.float64) / 255, edges[..., 0]):
    mag = np.hypot(*(ndimage.sobel(digit, axis=k, mode='constant') for k in (0, 1)))
    np.testing.assert_array_equal(edge, np.where(mag >= EDGE_THRESHOLD, 255, 0))
  train, test = get_dataset('edges2mnist'), get_dataset('edges2mnist', split='test')
  assert (train.num_examples, test.num_examples, train.shape) == (4500, 500, (32, 32, 1))
  assert np.bincount(test.labels).tolist() == [50] * 10
  again = get_dataset('edges2mnist', split='test').get_batch(np.arange(5))
  first = test.get_batch(np.arange(5))
  for k in 'aby':
    np.testing.assert_array_equal(first[k], again[k])
  mnist = get_dataset('mnist5k').images
  # the test split: indices 9, 19, ...
  np.testing.assert_array_equal(to_pixels(first['b'][:, 2:30, 2:30]), mnist[9:50:10])
  assert np.all(first['b'][:, :2] == -1) and np.all(first['a'][:, :, -2:] == -1)  # the border


def _ssim_by_windows(x, y):
  """SSIM by its definition: each 11x11 window inside the image, Gaussian weights."""
  g = translation.gaussian_window()
  w = np.outer(g, g)
  c1, c2 = 0.01**2, 0.03**2
  vals = []
  for i in range(x.shape[0] - 10):
    for j in range(x.shape[1] - 10):
      a, b = x[i : i + 11, j : j + 11], y[i : i + 11, j : j + 11]
      ma, mb = np.sum(w * a), np.sum(w * b)
      va, vb = np.sum(w * (a - ma) ** 2), np.sum(w * (b - mb) ** 2)
      cov = np.sum(w * (a - ma) * (b - mb))
      vals.append((2 * ma * mb + c1) * (2 * cov + c2) / ((ma**2 + mb**2 + c1) * (va + vb + c2)))
  return np.mean(vals)


def test_psnr_and_ssim_on_known_inputs():
  rng = np.random.default_rng(0)
  t = rng.uniform(-0.5, 0.5, (3, 16, 16, 1))
  assert translation.psnr(t + 0.2, t) == pytest.approx(20.0)  # [0, 1] error 0.1: MSE 0.01
  assert translation.psnr(t, t) == pytest.approx(100.0)
  assert translation.l1(t + 0.2, t) == pytest.approx(0.1)
  assert translation.ssim(t, t) == pytest.approx(1.0)
  x, y = rng.uniform(-1, 1, (2, 16, 16, 1)), rng.uniform(-1, 1, (2, 16, 16, 1))
  unit = lambda v: (v[..., 0] + 1) / 2
  want = np.mean([_ssim_by_windows(unit(x[i]), unit(y[i])) for i in range(2)])
  assert translation.ssim(x, y) == pytest.approx(want, rel=1e-10)


def test_classifier_fid_is_zero_on_the_targets_and_orders_other_digits_before_edge_maps():
  test = get_dataset('edges2mnist', split='test').get_batch(np.arange(500))
  train = get_dataset('edges2mnist').get_batch(np.random.default_rng(0).permutation(4500)[:500])
  same = translation.classifier_distances(test['b'], test['b'])
  assert abs(same['classifier_fid']) < 1e-6  # (the unbiased KID of a set with itself is not 0)
  other_digits = translation.classifier_distances(train['b'], test['b'])
  edge_maps = translation.classifier_distances(test['a'], test['b'])
  assert 0 < other_digits['classifier_fid'] < edge_maps['classifier_fid'] / 10
  assert abs(other_digits['classifier_kid']) < edge_maps['classifier_kid'] / 10


def test_translation_baseline_scores_the_inputs_as_the_outputs():
  result = run_module('experiments.translation_baseline', '--config=configs/pix2pix.py:smoke')
  assert result.returncode == 0, result.stderr[-2000:]
  p = build_pix2pix(_smoke())
  pairs = pix2pix_program.test_pairs(p, p.config.eval.num_samples)
  want = translation.l1(pairs.inputs, pairs.targets)
  assert f'baseline (the inputs) of edges2mnist l1: l1={want:.4g} (20 samples)' in result.stdout


def test_ssim_does_not_apply_below_its_window():
  small = PairsLike(np.zeros((2, 8, 8, 1)))
  why = METRICS['ssim'].unavailable(small)
  assert 'window needs images of that size or more, not (8, 8)' in why
  assert METRICS['ssim'].unavailable(PairsLike(np.zeros((2, 11, 11, 1)))) is None
  assert METRICS['psnr'].unavailable(small) is None


def test_a_dataset_without_pairs_is_one_line_error():
  config = _smoke()
  config.data = schema.entry(DATASETS, 'mnist5k')
  with pytest.raises(UserError, match=r"^config.data.name='mnist5k': pix2pix needs aligned pairs"):
    build_pix2pix(config)


def test_the_rate_is_held_for_hold_steps_then_decays_linearly_to_zero():
  rate = learning_rate(2e-4, 'linear', 10, 0.0, hold_steps=10)
  got = [float(rate(t)) for t in (0, 9, 10, 15, 20, 30)]
  assert got == pytest.approx([2e-4, 2e-4, 2e-4, 1e-4, 0.0, 0.0])
  assert learning_rate(2e-4, hold_steps=10) == 2e-4  # no schedule: the constant optax took
  config = _smoke()
  assert (config.optim.g.hold_steps, config.optim.d.decay_steps) == (2, 2)
  assert schedule_warnings(config) == []
  assert len(schedule_warnings(_smoke('train.num_steps=8'))) == 2


@pytest.mark.slow  # the CLI in a subprocess on its own run (~22 s); evaluate, split_pairs in CI
def test_translate_gives_the_programs_outputs_at_the_inputs_size(runs, tmp_path):
  """experiments.translate on the run: 28x28 digits' edge maps as the dataset stores them come
  back as 28x28 uint8 outputs, G's on the padded inputs (the training preprocessing), cropped;
  a size the run does not take is one error line."""
  from gan_jax import translating  # pylint: disable=g-import-not-at-top

  root = runs[0]
  p, state = translating.restore_translator(str(root / 'full'))
  assert int(state.step) == 4
  padded = p.test_source.get_batch(np.arange(3))['a']  # (3, 32, 32, 1) in [-1, 1]
  stored = np.rint((padded[:, 2:-2, 2:-2] + 1) * 127.5).astype(np.uint8)  # as edges2mnist stores
  want = translating.to_stored(translating.translate(p, state, padded), p, 28)
  np.save(tmp_path / 'edges.npy', stored[..., 0])
  out = tmp_path / 'out.npz'
  args = [f'--workdir={root / "full"}', f'--input={tmp_path / "edges.npy"}', f'--out={out}']
  result = run_module('experiments.translate', *args)
  assert result.returncode == 0, result.stderr[-2000:]
  with np.load(out) as f:
    np.testing.assert_array_equal(f['input'], stored)
    np.testing.assert_array_equal(f['output'], want)
    assert f['output'].shape == (3, 28, 28, 1) and f['output'].dtype == np.uint8
  np.save(tmp_path / 'bad.npy', np.full((2, 20, 20), 200, np.uint8))
  args[1] = f'--input={tmp_path / "bad.npy"}'
  bad = run_module('experiments.translate', *args[:2], f'--out={tmp_path / "bad_out.npy"}')
  lines = bad.stderr.strip().splitlines()
  assert bad.returncode == 2 and len(lines) == 1 and '28x28 or 32x32' in lines[0], lines
  assert not (tmp_path / 'bad_out.npy').exists()


def test_evaluate_gives_the_runs_own_metrics_and_split_pairs_span_the_classes(runs):
  """translating.evaluate_run (experiments.evaluate on a pix2pix run) computes the numbers the
  run wrote at step 4 from the restored checkpoint; `split_pairs` (translate's --split) picks
  pairs spread over the split, every class, as the run's samples."""
  from gan_jax import translating  # pylint: disable=g-import-not-at-top
  from gan_jax.evaluator import result_entries  # pylint: disable=g-import-not-at-top

  run = str(runs[0] / 'full')
  p, state = translating.restore_translator(run, direction='a2b')
  stored = {e['metric']: e['values'] for e in read_result_entries(run) if e['step'] == 4}
  got = {e['metric']: e['values'] for e in result_entries(translating.evaluate_run(p, state), 0)}
  assert len(got) == 5 and got == stored
  pairs = translating.split_pairs(p, 'test', 10)
  assert pairs.inputs.shape == (10, 32, 32, 1) and sorted(pairs.labels) == list(range(10))
