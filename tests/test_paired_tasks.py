"""The paired translation tasks (gan_jax/data/paired_tasks.py): what their inputs are, exactly;
splits disjoint and deterministic; the bicubic baseline is the input itself."""

import os

import numpy as np
import pytest
from PIL import Image

from gan_jax.data import get_dataset
from gan_jax.data.mnist5k import load_arrays
from gan_jax.data.paired_tasks import FASHION_DIR, area_downsample, bicubic_upsample, mask_centre


def test_area_downsampling_is_the_block_mean_and_bicubic_is_pils():
  x = np.arange(2 * 8 * 8, dtype=np.uint8).reshape(2, 8, 8, 1)
  low = area_downsample(x, 4)
  assert low.shape == (2, 2, 2, 1)
  assert low[1, 0, 1, 0] == x[1, :4, 4:, 0].astype(np.float32).mean()
  up = bicubic_upsample(low, 8)
  want = Image.fromarray(low[0, ..., 0], mode='F').resize((8, 8), Image.BICUBIC)
  np.testing.assert_array_equal(up[0, ..., 0], np.clip(np.rint(np.asarray(want)), 0, 255))
  flat = bicubic_upsample(np.full((1, 7, 7, 1), 200.0, np.float32), 28)
  assert (flat == 200).all()  # a constant image stays constant


def test_sr_mnist_targets_are_the_digits_and_inputs_their_upsampled_7x7():
  images, labels = load_arrays()
  test = get_dataset('sr_mnist', split='test', pad=0)
  idx = np.arange(len(images))[9::10]
  np.testing.assert_array_equal(test.b, images[idx])
  np.testing.assert_array_equal(test.labels, labels[idx])
  np.testing.assert_array_equal(test.a, bicubic_upsample(area_downsample(images[idx], 4), 28))
  assert test.a.shape == test.b.shape == (500, 28, 28, 1)


def test_inpaint_mnist_greys_only_the_centre():
  test = get_dataset('inpaint_mnist', split='test', hole=14)  # pad 2: 32x32
  assert test.a.shape == (500, 32, 32, 1)
  hole = np.zeros((32, 32), bool)
  hole[9:23, 9:23] = True  # the centre 14x14 of the 28x28 digit, 2 pixels in
  assert (test.a[:, hole] == 128).all()
  np.testing.assert_array_equal(test.a[:, ~hole], test.b[:, ~hole])
  np.testing.assert_array_equal(mask_centre(test.b, 14), test.a)


@pytest.mark.parametrize('name', ['sr_mnist', 'inpaint_mnist'])
def test_splits_are_disjoint_and_batches_are_dicts_in_unit_range(name):
  train, test = get_dataset(name, split='train'), get_dataset(name, split='test')
  assert (train.num_examples, test.num_examples) == (4500, 500)
  flat = lambda s: {r.tobytes() for r in s.b.reshape(s.num_examples, -1)}
  assert not flat(train) & flat(test)
  batch = train.get_batch(np.arange(3))
  assert sorted(batch) == ['a', 'b', 'y'] and batch['a'].dtype == np.float32
  assert batch['a'].min() >= -1 and batch['a'].max() <= 1
  again = get_dataset(name, split='train').get_batch(np.arange(3))
  for k in batch:
    np.testing.assert_array_equal(batch[k], again[k])


@pytest.mark.skipif(not os.path.isdir(FASHION_DIR), reason='needs Debian dataset-fashion-mnist')
def test_edges2fashion_is_edges2mnists_operator_on_garments_without_labels():
  from gan_jax.data.edges2mnist import sobel_edges  # pylint: disable=g-import-not-at-top

  test = get_dataset('edges2fashion', split='test', num=100)
  assert test.num_examples == 10 and test.labels is None
  np.testing.assert_array_equal(test.a, sobel_edges(test.b))
  assert sorted(test.get_batch(np.arange(2))) == ['a', 'b']


def test_bad_fields_are_one_line_errors():
  with pytest.raises(ValueError, match="sr_mnist has splits 'train' and 'test'"):
    get_dataset('sr_mnist', split='valid')
  with pytest.raises(ValueError, match='hole=0: must be an integer in 1..28'):
    get_dataset('inpaint_mnist', hole=0)
  with pytest.raises(FileNotFoundError, match='no train-images-idx3-ubyte'):
    get_dataset('edges2fashion', data_dir='/nonexistent')
