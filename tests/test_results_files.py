"""Results files: each metric's own protocol, several evaluations of one step kept side by side,
replacements said, and the metrics one may ask for."""

import json

import numpy as np
import pytest

from gan_jax.data import get_dataset
from gan_jax.evaluator import format_results, read_results, write_results
from gan_jax.metrics import REFUSED, allowed_names
from gan_jax.metrics.eval_data import FEATURE_NET, EvalData
from gan_jax.metrics.evaluation import check, evaluate, scalars
from gan_jax.metrics.kid import kid, subset_plan


def _pixels(x):
  return np.asarray(x, np.float32).reshape(len(x), -1)[:, ::8]


@pytest.fixture(scope='module')
def digits():
  return get_dataset('mnist5k')


def test_each_metric_records_its_own_protocol(digits, tmp_path):
  points = EvalData(get_dataset('grid25'), 'grid25', {}, stats_dir=str(tmp_path))
  gauss = lambda n: np.random.default_rng(0).normal(size=(n, 2))
  modes = evaluate(['modes'], gauss, points, num_samples=100)['modes']['protocol']
  assert modes == {
      'dataset': 'grid25',
      'num_modes': 25,
      'std': 0.05,
      'high_quality': 'within 3 std of the nearest mode',
      'min_count': 20,
  }  # no feature network, no reference count: modes uses neither

  images = EvalData(
      digits,
      'mnist5k',
      {},
      stats_dir=str(tmp_path),
      features=_pixels,
      feature_name='pixels',
      num_reference=300,
  )
  draw = lambda n: digits.get(np.arange(n))
  results = evaluate(['fid', 'kid', 'pr'], draw, images, num_samples=200)
  reference = {
      'dataset': 'mnist5k',
      'reference_split': 'train',
      'num_reference': 300,
      'features': 'pixels',
  }
  assert results['fid']['protocol'] == reference
  assert results['kid']['protocol'] == {**reference, 'subsets': 100, 'subset_size': 200}
  assert results['pr']['protocol'] == {**reference, 'k': 3}
  assert 'protocol/features' not in ' '.join(scalars(results))


def test_the_inception_protocol_states_the_resizing(digits, tmp_path):
  data = EvalData(digits, 'mnist5k', {}, stats_dir=str(tmp_path), features=_pixels)
  data._reference = {'inception': {'features': np.zeros((3, 4))}}  # as if computed
  protocol = data.reference_protocol()
  assert protocol['features'] == FEATURE_NET and protocol['num_reference'] == 3
  assert '299x299 bilinear without antialias' in protocol['preprocessing']


def test_kid_has_a_std_only_with_two_or_more_different_subsets():
  rng = np.random.default_rng(0)
  x, y = rng.normal(size=(50, 4)), rng.normal(size=(50, 4))
  assert subset_plan(50, 50, subset_size=1000) == (1, 50)
  assert subset_plan(50, 80, subset_size=1000) == (100, 50)
  one = kid(x, y)
  assert set(one) == {'kid'}
  line = format_results(3, {'kid': {'num_samples': 50, **one, 'protocol': {}}})
  assert line.startswith('step 3 kid: kid=') and 'kid_std' not in line
  assert 'kid_std' in kid(x, y[:40])


def _results(value):
  return {'modes': {'num_samples': 10, 'modes': value, 'counts': np.arange(3), 'protocol': {}}}


def test_evaluations_of_one_step_are_kept_side_by_side_and_replacements_are_said(tmp_path):
  path, replaced = write_results(tmp_path, 20, 2024, _results(7), by='training')
  assert replaced == []
  write_results(tmp_path, 20, 0, _results(5), by='experiments.evaluate')  # another seed
  write_results(tmp_path, 20, 0, _results(6), 'live', by='experiments.evaluate')
  _, replaced = write_results(tmp_path, 20, 0, _results(5), by='experiments.evaluate')
  assert replaced == []  # the same evaluation, the same numbers
  _, replaced = write_results(tmp_path, 20, 0, _results(4), by='experiments.evaluate')
  assert replaced == [
      'modes of seed 0 (ema weights, 10 samples, by experiments.evaluate): modes=5 -> modes=4'
  ]
  write_results(tmp_path, 30, 2024, _results(8), by='training')
  found = [
      (e['step'], e['seed'], e['weights'], e['values']['modes']) for e in read_results(tmp_path)
  ]
  assert found == [
      (20, 2024, 'ema', 7),
      (20, 0, 'live', 6),
      (20, 0, 'ema', 4),
      (30, 2024, 'ema', 8),
  ]
  assert json.loads(open(path).read())['step'] == 20


def test_results_files_of_the_older_format_are_read(tmp_path):
  (tmp_path / 'eval').mkdir()
  old = {
      'step': 5,
      'seed': 0,
      'reference': {'dataset': 'ring8'},
      'modes': {'num_samples': 100, 'modes': 8, 'counts': [1, 2]},
  }
  (tmp_path / 'eval' / '5.json').write_text(json.dumps(old))
  (entry,) = read_results(tmp_path)
  assert (entry['step'], entry['metric'], entry['seed'], entry['num_samples']) == (
      5,
      'modes',
      0,
      100,
  )
  assert entry['values'] == {'modes': 8, 'counts': [1, 2]}
  write_results(tmp_path, 5, 1, _results(3))
  assert [e['seed'] for e in read_results(tmp_path)] == [0, 1]  # kept, now in the new format


def test_is_is_listed_apart_with_its_reason(digits, tmp_path):
  assert list(REFUSED) == ['is']
  allowed = allowed_names()
  assert allowed.startswith('modes, fid, kid, pr, parzen, ') and ', is,' not in allowed
  assert 'stacked_modes (is: always refused,' in allowed
  assert 'no logits layer' in allowed
  with pytest.raises(
      ValueError, match=r"unknown metric 'nope'; allowed: modes, .*stacked_modes \(is"
  ):
    check(['nope'], EvalData(digits, 'mnist5k', {}, stats_dir=str(tmp_path)))


def test_an_unreadable_results_file_is_set_aside_not_fatal(tmp_path, capsys):
  (tmp_path / 'eval').mkdir()
  (tmp_path / 'eval' / '5.json').write_text('{"step": 5, "resu')
  assert read_results(tmp_path) == [] and 'unreadable' in capsys.readouterr().err
  write_results(tmp_path, 5, 0, _results(3))
  assert [e['values']['modes'] for e in read_results(tmp_path)] == [3]
  assert (tmp_path / 'eval' / '5.json.unreadable').exists()
