"""The folder dataset (gan_jax/data/folder.py): a folder of the user's PNG/JPEG files read into
examples, labels and channels in a fixed order, the decoded-array cache, unreadable files, the
one-line errors of bad input, and a run of configs/nsgan.py:folder that resumes bit-identical
and says when its folder changed."""

import json
import os
import shutil

import jax
import numpy as np
import pytest
from PIL import Image

from configs import cgan, dcgan, nsgan
from gan_jax import checkpoint
from gan_jax.data import get_dataset, image_files
from gan_jax.data.order import example_indices
from gan_jax.data.source import to_unit_range
from gan_jax.errors import RunFailed, UserError
from gan_jax.experiment import build_experiment
from gan_jax.metrics.eval_data import EvalData
from gan_jax.data import folder_cache
from tests.conftest import run_module

# relative path -> (height, width, mode, format): grey and colour, PNG and JPEG, nested folders.
FILES = {
    'cats/a.png': (12, 16, 'RGB', 'PNG'),
    'cats/b.jpg': (16, 10, 'L', 'JPEG'),
    'cats/deep/c.png': (9, 9, 'L', 'PNG'),
    'dogs/d.jpeg': (20, 14, 'RGB', 'JPEG'),
    'dogs/e.png': (8, 8, 'RGB', 'PNG'),
}


def make_folder(root, files=FILES, truncated='dogs/cut.png', seed=0):
  rng = np.random.default_rng(seed)
  for rel, (h, w, mode, fmt) in files.items():
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pixels = rng.integers(0, 256, (h, w, 3) if mode == 'RGB' else (h, w), dtype=np.uint8)
    Image.fromarray(pixels).save(path, format=fmt)
  if truncated:
    whole = open(os.path.join(root, 'cats/a.png'), 'rb').read()
    with open(os.path.join(root, truncated), 'wb') as f:
      f.write(whole[: len(whole) // 2])
  return str(root)


def expected(root, rels, size, channels):
  read = lambda rel: image_files.read_image(os.path.join(root, rel), channels)
  return np.stack([image_files.center_crop_resize(read(rel), size) for rel in rels])


def test_a_folder_reads_in_listing_order_with_labels_channels_and_a_warning_per_bad_file(
    tmp_path, capsys
):
  root = make_folder(tmp_path / 'data')
  os.makedirs(f'{root}/.thumbnails')
  shutil.copy(f'{root}/cats/a.png', f'{root}/.thumbnails/x.png')  # a hidden folder: left out
  source = get_dataset('folder', data_dir=root, image_size=8, labels='subfolders')
  err = capsys.readouterr().err
  assert err.count('warning: skipped an unreadable image') == 1 and 'dogs/cut.png' in err
  rels = sorted(FILES)  # the listing order: by path components
  assert rels == ['cats/a.png', 'cats/b.jpg', 'cats/deep/c.png', 'dogs/d.jpeg', 'dogs/e.png']
  assert source.shape == (8, 8, 3) and source.num_examples == 5  # one colour file: RGB
  np.testing.assert_array_equal(source.images, expected(root, rels, 8, 3))
  assert source.labels.tolist() == [0, 0, 0, 1, 1] and source.classes == ['cats', 'dogs']
  assert source.num_classes == 2
  batch = source.batch(3, 2, 4)
  idx = example_indices(3, 2, 4, 5)
  np.testing.assert_array_equal(batch['x'], to_unit_range(source.images[idx]))
  np.testing.assert_array_equal(batch['y'], source.labels[idx])
  record = source.contents()
  assert {k: record[k] for k in ('count', 'image_size', 'channels', 'classes', 'skipped')} == {
      'count': 5,
      'image_size': 8,
      'channels': 3,
      'classes': ['cats', 'dogs'],
      'skipped': ['dogs/cut.png'],
  }
  assert record['content_hash'] == folder_cache.array_content_hash(source.images, source.labels)
  grey = get_dataset('folder', data_dir=f'{root}/cats/deep', image_size=6, strict=True)
  assert grey.shape == (6, 6, 1) and grey.labels is None and grey.num_classes == 0
  only_grey = get_dataset('folder', data_dir=root, image_size=6, channels=1)
  assert only_grey.shape == (6, 6, 1)
  np.testing.assert_array_equal(only_grey.images, expected(root, rels, 6, 1))
  with pytest.raises(ValueError, match=r"^strict=True: unreadable image .*dogs/cut\.png") as e:
    get_dataset('folder', data_dir=root, image_size=8, strict=True)
  assert '\n' not in str(e.value)


def test_the_decoded_array_is_cached_and_decoded_again_when_the_folder_changes(
    tmp_path, monkeypatch
):
  root = make_folder(tmp_path / 'data', truncated=None)
  first = get_dataset('folder', data_dir=root, image_size=8)
  (cached,) = os.listdir(f'{root}/{folder_cache.CACHE_FOLDER}')
  assert cached.endswith('.npz')
  decode = folder_cache.decode
  monkeypatch.setattr(folder_cache, 'decode', lambda *a, **k: pytest.fail('decoded again'))
  again = get_dataset('folder', data_dir=root, image_size=8)
  np.testing.assert_array_equal(first.images, again.images)
  assert again.contents() == first.contents()
  monkeypatch.setattr(folder_cache, 'decode', decode)
  Image.fromarray(np.zeros((8, 8), np.uint8)).save(f'{root}/dogs/f.png')
  changed = get_dataset('folder', data_dir=root, image_size=8)
  assert changed.num_examples == 6
  assert changed.contents()['content_hash'] != first.contents()['content_hash']
  fields = {'data_dir': root, 'image_size': 8}  # FID's reference features: computed again
  keys = {EvalData(s, 'folder', fields).reference_key() for s in (first, again, changed)}
  assert len(keys) == 2
  # Where the data's folder cannot take the cache (here a file stands in its way), the user's.
  shutil.rmtree(f'{root}/{folder_cache.CACHE_FOLDER}')
  open(f'{root}/{folder_cache.CACHE_FOLDER}', 'w').close()
  monkeypatch.setattr(folder_cache, 'USER_CACHE', str(tmp_path / 'user_cache'))
  get_dataset('folder', data_dir=root, image_size=8)
  assert len(os.listdir(tmp_path / 'user_cache')) == 1


def test_a_folder_beyond_the_memory_limit_streams_the_same_examples_from_its_files(tmp_path):
  root = make_folder(tmp_path / 'data')
  held = get_dataset('folder', data_dir=root, image_size=8, labels='subfolders')
  streamed = get_dataset(
      'folder', data_dir=root, image_size=8, labels='subfolders', max_memory_gb=1e-6
  )
  assert not hasattr(streamed, 'images') and streamed.record['streamed']
  assert (streamed.shape, streamed.num_examples, streamed.num_classes) == ((8, 8, 3), 5, 2)
  for step in range(3):
    a, b = held.batch(1, step, 4), streamed.batch(1, step, 4)
    np.testing.assert_array_equal(a['x'], b['x'])
    np.testing.assert_array_equal(a['y'], b['y'])
  same = lambda record: {k: v for k, v in record.items() if k != 'streamed'}
  assert same(streamed.contents()) == same(held.contents())
  assert sorted(os.listdir(f'{root}/{folder_cache.CACHE_FOLDER}')) == [
      'folder-8px-autoch-subfolders-streamed-v1.npz',
      'folder-8px-autoch-subfolders-v1.npz',
  ]
  os.remove(f'{root}/cats/a.png')  # gone after the run started: the batch that needs it fails
  with pytest.raises(RunFailed, match=r'^data: .*cats/a\.png.*\(it was readable when the run'):
    streamed.get(np.arange(5))


def _config(module, arg, data_dir, **data):
  config = module.get_config(arg)
  config.data.data_dir = data_dir
  config.data.update(data)
  config.train.batch_size = 4
  return config


def test_bad_input_is_one_line_before_anything_is_built(tmp_path):
  root = make_folder(tmp_path / 'data', truncated=None)
  os.makedirs(tmp_path / 'empty')
  os.makedirs(tmp_path / 'one_class/only')
  shutil.copy(f'{root}/cats/a.png', tmp_path / 'one_class/only/a.png')
  cases = [
      (nsgan, None, {}, r"^config.data \(folder\): dataset 'folder' needs data.data_dir"),
      (nsgan, str(tmp_path / 'nowhere'), {}, r"^config.data.data_dir='.*nowhere': no such folder"),
      (nsgan, str(tmp_path / 'empty'), {}, r'^config.data.data_dir=.*: no image files in it'),
      (nsgan, f'{root}/dogs', {}, r'^config.data \(folder\): 2 examples, fewer than one batch'),
      (dcgan, root, {'image_size': 30}, r'^config.model \(dcgan\): dcgan needs an image size'),
      (cgan, str(tmp_path / 'one_class'), {}, r"^config.data.labels='subfolders': .* has 1 class"),
      (nsgan, root, {'labels': 'folders'}, r"^config.data.labels='folders': allowed: none, subf"),
  ]
  for module, data_dir, data, message in cases:
    with pytest.raises(UserError, match=message) as e:
      build_experiment(_config(module, 'folder', data_dir, **data))
    assert '\n' not in str(e.value)
  assert build_experiment(_config(cgan, 'folder', root, image_size=8)).num_classes == 2
  shutil.copy(f'{root}/cats/a.png', f'{root}/loose.png')
  with pytest.raises(UserError, match=r"^config.data.labels='subfolders': 1 images directly in"):
    build_experiment(_config(cgan, 'folder', root))


def _cli(workdir, data_dir):
  arg = (
      'folder,data.image_size=8,model.z_dim=8,model.g_hidden=(16,),model.d_hidden=(16,),'
      'train.batch_size=4,train.num_steps=4,train.log_every=2,train.sample_every=0,'
      'checkpoint.every_steps=2'
  )
  return [
      f'--config=configs/nsgan.py:{arg}',
      f'--config.data.data_dir={data_dir}',
      f'--workdir={workdir}',
  ]


def _leaves(workdir, step, config):
  exp = build_experiment(config)
  state = checkpoint.Checkpoints(workdir, read_only=True).restore(exp.abstract_state, step)
  return [np.asarray(x) for x in jax.tree_util.tree_leaves(state)]


@pytest.mark.slow
def test_nsgan_on_a_folder_resumes_bit_identical_and_says_when_the_folder_changed(tmp_path):
  root = make_folder(tmp_path / 'data', truncated=None)
  for i in range(4):
    shutil.copy(f'{root}/cats/a.png', f'{root}/cats/copy{i}.png')
  run = str(tmp_path / 'run')
  args = _cli(run, root)
  first = run_module('experiments.main', *args)
  assert first.returncode == 0, first.stderr[-2000:]
  info = json.load(open(f'{run}/data.json'))
  assert (info['count'], info['shape'], info['classes']) == (9, [8, 8, 3], [])
  config = nsgan.get_config(args[0].split(':', 1)[1])
  config.data.data_dir = root
  whole = _leaves(run, 4, config)
  shutil.rmtree(f'{run}/checkpoints/4')  # as if killed after the checkpoint of step 2
  again = run_module('experiments.main', *args)  # the same command
  assert again.returncode == 0, again.stderr[-2000:]
  assert f'Resumed from {run} at step 2' in again.stdout + again.stderr
  assert 'the data changed' not in again.stderr
  for x, y in zip(whole, _leaves(run, 4, config), strict=True):
    np.testing.assert_array_equal(x, y)
  shutil.rmtree(f'{run}/checkpoints/4')
  os.remove(f'{root}/cats/copy0.png')
  changed = run_module('experiments.main', *args)
  assert changed.returncode == 0, changed.stderr[-2000:]
  lines = [l for l in changed.stderr.splitlines() if 'the data changed' in l]
  assert len(lines) == 1 and lines[0].startswith(f'warning: --workdir={run}: ')
  assert 'recorded 9 images' in lines[0] and 'now 8 images' in lines[0]
  assert json.load(open(f'{run}/data.json'))['count'] == 8
