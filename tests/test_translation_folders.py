"""The users' own translation data (gan_jax/data/translation_folders.py): the A|B split, one crop
and flip per pair, crops a pure function of (seed, step, row), the test split whole and unflipped,
the one-line errors, and the `folder` presets training pix2pix and CycleGAN."""

import os

import jax
import numpy as np
import pytest
from PIL import Image

from configs import common
from configs import cyclegan as cyclegan_config
from configs import pix2pix as pix2pix_config
from gan_jax.data import DATASETS, get_dataset
from gan_jax.data.order import example_indices
from gan_jax.data.source import to_unit_range
from gan_jax.data.translation_folders import crop_draws, crop_flip, derived_load_size
from gan_jax.errors import FieldError, UserError
from gan_jax.programs import cyclegan, pix2pix
from gan_jax.programs.cyclegan_step import CycleGanStep, build_cyclegan
from gan_jax.programs.pix2pix_step import Pix2PixStep, build_pix2pix

SIZE = 8  # the crop; the train files' halves are 9x9 = derived_load_size(8): nothing resized
N_TRAIN = 16  # aligned training files: one batch of the pix2pix preset
KEY = jax.random.key(0)


def _save(path, pixels):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(path)


def _aligned_files(root, rng):
  """train/ (16 files of 9x18) and test/ (3 of 8x16): A random RGB, B = A's channels reversed."""
  halves = {}
  for split, n, side in (('train', N_TRAIN, 9), ('test', 3, SIZE)):
    a = rng.integers(0, 256, (n, side, side, 3), dtype=np.uint8)
    for i in range(n):
      _save(str(root / split / f'{i:02d}.png'), np.concatenate([a[i], a[i, ..., ::-1]], axis=1))
    halves[split] = a
  return halves


def _unaligned_files(root, rng):
  """trainA/ 8 grey 9x9, trainB/ 9 RGB 9x9, testA/ 2 grey 8x8, testB/ 3 RGB 8x8 (PNG, JPEG)."""
  for folder, n, side, c in (('trainA', 8, 9, 1), ('trainB', 9, 9, 3), ('testA', 2, 8, 1)):
    for i, x in enumerate(rng.integers(0, 256, (n, side, side, c), dtype=np.uint8)):
      _save(str(root / folder / f'{i}.png'), x)
  for i, x in enumerate(rng.integers(0, 256, (3, SIZE, SIZE, 3), dtype=np.uint8)):
    _save(str(root / 'testB' / f'{i}.jpg'), x)


@pytest.fixture(scope='module')
def folders(tmp_path_factory):
  root = tmp_path_factory.mktemp('translation_folders')
  rng = np.random.default_rng(0)
  halves = _aligned_files(root / 'aligned', rng)
  _unaligned_files(root / 'unaligned', rng)
  return root, halves


def test_the_files_split_into_a_and_b_and_the_test_split_is_whole(folders):
  root, halves = folders
  test = get_dataset('aligned_folder', data_dir=str(root / 'aligned'), split='test', image_size=8)
  batch = test.get_batch(np.arange(3))
  assert set(batch) == {'a', 'b'} and test.shape == test.input_shape == (SIZE, SIZE, 3)
  np.testing.assert_array_equal(batch['a'], to_unit_range(halves['test']))
  np.testing.assert_array_equal(batch['b'], to_unit_range(halves['test'][..., ::-1]))
  whole = test.get_batch(example_indices(0, 1, 3, 3))['a']
  np.testing.assert_array_equal(test.batch(0, 1, 3)['a'], whole)  # test split: no crop, no flip
  swapped = get_dataset(
      'aligned_folder', data_dir=str(root / 'aligned'), split='test', image_size=8, direction='b2a'
  )
  np.testing.assert_array_equal(swapped.get_batch(np.arange(3))['a'], batch['b'])
  assert test.contents()['count_a'] == 3 and test.contents()['content_hash_a'].startswith('sha256:')


def test_a_pair_shares_its_crop_and_flip_and_the_crops_are_the_formula(folders):
  root, halves = folders
  images = halves['train']
  assert (derived_load_size(8), derived_load_size(256), derived_load_size(8, 12)) == (9, 286, 12)
  train = get_dataset('aligned_folder', data_dir=str(root / 'aligned'), image_size=8)
  flipped = set()
  for step in range(4):
    batch = train.batch(3, step, 4)
    np.testing.assert_array_equal(batch['b'], batch['a'][..., ::-1])  # the pair stays aligned
    tops, lefts, flips = crop_draws(3, step, 4, 1, True)
    want = crop_flip(images[example_indices(3, step, 4, N_TRAIN)], tops, lefts, flips, SIZE)
    np.testing.assert_array_equal(batch['a'], to_unit_range(want))
    flipped.update(flips.tolist())
  assert flipped == {True, False}  # both drawn over 16 rows
  again = train.batch(3, 2, 4)
  np.testing.assert_array_equal(again['a'], train.batch(3, 2, 4)['a'])
  half = train.batch(3, 2, 4, process_index=1, process_count=2)  # this process's rows
  np.testing.assert_array_equal(half['a'], again['a'][2:])
  no_flip = get_dataset('aligned_folder', data_dir=str(root / 'aligned'), image_size=8, flip=False)
  tops, lefts, _ = crop_draws(3, 2, 4, 1, True)
  assert not crop_draws(3, 2, 4, 1, False)[2].any()
  want = crop_flip(images[example_indices(3, 2, 4, N_TRAIN)], tops, lefts, [False] * 4, SIZE)
  np.testing.assert_array_equal(no_flip.batch(3, 2, 4)['a'], to_unit_range(want))


def test_unaligned_domains_have_orders_and_crops_of_their_own(folders):
  root, _ = folders
  train = get_dataset('unaligned_folder', data_dir=str(root / 'unaligned'), image_size=8)
  assert train.shape == (SIZE, SIZE, 3) and train.sizes == {'a': 8, 'b': 9}  # A grey -> RGB
  batch = train.batch(1, 3, 4)
  assert batch['a'].shape == batch['b'].shape == (4, SIZE, SIZE, 3) and set(batch) == {'a', 'b'}
  draws_b = crop_draws(3, 3, 4, 1, True)  # B: seed 2 * 1 + 1, its own order and crops
  want = crop_flip(train.b[example_indices(3, 3, 4, 9)], *draws_b, SIZE)
  np.testing.assert_array_equal(batch['b'], to_unit_range(want))
  test = get_dataset(
      'unaligned_folder', data_dir=str(root / 'unaligned'), split='test', image_size=8
  )
  images, labels = test.domain('b', 2)
  assert images.shape == (2, SIZE, SIZE, 3) and labels is None and not test.aligned
  assert train.domain('a', 2)[0].shape == (2, SIZE, SIZE, 3)  # the centred crop


def test_missing_folders_no_images_and_an_odd_width_are_one_line_errors(folders, tmp_path):
  root, _ = folders
  aligned = lambda d, **f: get_dataset('aligned_folder', data_dir=str(d), image_size=8, **f)
  with pytest.raises(FieldError, match='data_dir=None: the folder of your images is needed'):
    get_dataset('aligned_folder')
  with pytest.raises(FieldError, match='no such folder'):
    aligned(tmp_path / 'nowhere')
  with pytest.raises(FieldError, match=r'no subfolder test/ \(an aligned dataset has train/'):
    aligned(root / 'unaligned', split='test')
  (tmp_path / 'empty' / 'train').mkdir(parents=True)
  with pytest.raises(FieldError, match='no image files in train/'):
    aligned(tmp_path / 'empty')
  _save(str(tmp_path / 'odd' / 'train' / 'x.png'), np.zeros((8, 17, 3), np.uint8))
  with pytest.raises(FieldError, match='17 pixels wide, an odd width'):
    aligned(tmp_path / 'odd', channels=3)
  with pytest.raises(FieldError, match=r'no subfolder trainA/ \(an unaligned dataset has trainA/'):
    get_dataset('unaligned_folder', data_dir=str(root / 'aligned'))
  with pytest.raises(FieldError, match='load_size=7: less than image_size=8'):
    aligned(root / 'aligned', load_size=7)
  config = pix2pix_config.get_config('folder')  # no data_dir given
  with pytest.raises(UserError, match=r'^config\.data\.data_dir=None: the folder') as e:
    build_pix2pix(config)
  assert '\n' not in str(e.value)
  config = cyclegan_config.get_config(f'folder,data.data_dir={tmp_path / "empty"}')
  with pytest.raises(UserError, match=r'^config\.data\.data_dir=.*no subfolder trainA/'):
    build_cyclegan(config)


def _smoke_on(config_module, name, data_dir):
  """The config's smoke sizes on the folder at `data_dir` (8x8 crops of 9x9)."""
  config = config_module.get_config('smoke')
  config.data = common.entry(DATASETS, name, data_dir=str(data_dir), image_size=SIZE)
  return config


def _same_shapes(a, b):
  return jax.tree.map(lambda x: x.shape, a) == jax.tree.map(lambda x: x.shape, b)


def test_the_folder_presets_build_and_the_steps_take_the_batches(folders):
  """configs/pix2pix.py:folder and configs/cyclegan.py:folder build (models sized by the data);
  at the smoke sizes one step of each program traced on a folder's batch (jax.eval_shape:
  nothing compiled); the metrics that apply (pix2pix: those against the targets that fit; CycleGAN
  on unlabelled, unaligned domains: none)."""
  root, _ = folders
  p = build_pix2pix(pix2pix_config.get_config(f'folder,data.data_dir={root / "aligned"}'))
  assert p.source.shape == p.input_shape == (64, 64, 3) and p.source.contents()['load_size'] == 72
  c = build_cyclegan(cyclegan_config.get_config(f'folder,data.data_dir={root / "unaligned"}'))
  assert c.source.shape == (64, 64, 3) and c.config.train.batch_size == 8
  p = build_pix2pix(_smoke_on(pix2pix_config, 'aligned_folder', root / 'aligned'))
  batch = p.source.batch(0, 0, p.config.train.batch_size)
  state, metrics = jax.eval_shape(Pix2PixStep(p).iteration, p.abstract_state, batch, KEY)
  assert _same_shapes(state, p.abstract_state) and 'g_l1' in metrics
  # (SSIM's 11x11 window does not fit the smoke size's images)
  assert pix2pix.eval_names(p.config, pix2pix.test_pairs(p, 3)) == ['l1', 'psnr']
  c = build_cyclegan(_smoke_on(cyclegan_config, 'unaligned_folder', root / 'unaligned'))
  batch = c.source.batch(0, 0, c.config.train.batch_size)
  state, _ = jax.eval_shape(CycleGanStep(c).iteration, c.abstract_state, batch, KEY)
  assert _same_shapes(state, c.abstract_state)
  assert cyclegan.eval_names(c.config, c.test_source) == []
  assert cyclegan.direction_pairs(c.test_source, 'b2a', 2).inputs.shape == (2, SIZE, SIZE, 3)
