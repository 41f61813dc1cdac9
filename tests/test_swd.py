"""Sliced Wasserstein distance (metrics/swd.py) against a direct NumPy implementation."""

import numpy as np
import pytest
import scipy.ndimage

from gan_jax.data import get_dataset
from gan_jax.metrics import METRICS, lower_is_better
from gan_jax.metrics import swd as swd_lib
from gan_jax.metrics.eval_data import EvalData
from gan_jax.metrics.evaluation import applicable, evaluate

GAUSS = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0


def _direct_pyramid(images, levels):
  """Per image and channel, scipy's 'mirror' convolution (cv2.pyrDown / pyrUp), in float64."""

  def conv(x, gain):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
      for c in range(x.shape[3]):
        out[i, :, :, c] = scipy.ndimage.convolve(x[i, :, :, c], GAUSS * gain, mode='mirror')
    return out

  def up(x):
    z = np.zeros((x.shape[0], 2 * x.shape[1], 2 * x.shape[2], x.shape[3]))
    z[:, ::2, ::2] = x
    return conv(z, 4.0)

  pyramid = [np.asarray(images, np.float64)]
  for _ in range(1, levels):
    pyramid.append(conv(pyramid[-1], 1.0)[:, ::2, ::2])
    pyramid[-2] = pyramid[-2] - up(pyramid[-1])
  return pyramid


def _direct_descriptors(level, ys, xs):
  rows = []
  for i in range(ys.shape[0]):
    for j in range(ys.shape[1]):
      y, x = ys[i, j], xs[i, j]
      rows.append(level[i, y - 3 : y + 4, x - 3 : x + 4, :])
  desc = np.stack(rows)
  for c in range(desc.shape[-1]):
    desc[..., c] = (desc[..., c] - desc[..., c].mean()) / desc[..., c].std()
  return desc.reshape(len(desc), -1)


def _direct_swd(real, fake, seed, k, repeats, per_repeat):
  rng = np.random.default_rng(seed)
  levels = swd_lib.num_levels(real.shape[1])
  pyramids = [_direct_pyramid(real, levels), _direct_pyramid(fake, levels)]
  desc = [[], []]
  for lod in range(levels):
    for which in (0, 1):
      level = pyramids[which][lod]
      ys = rng.integers(3, level.shape[1] - 3, size=(level.shape[0], k))
      xs = rng.integers(3, level.shape[2] - 3, size=(level.shape[0], k))
      desc[which].append(_direct_descriptors(level, ys, xs))
  out = {}
  for lod in range(levels):
    a, b = desc[0][lod], desc[1][lod]
    per_repeat_means = []
    for _ in range(repeats):
      dirs = rng.standard_normal((a.shape[1], per_repeat))
      dirs /= np.linalg.norm(dirs, axis=0)
      dists = [
          np.mean(np.abs(np.sort(a @ dirs[:, d]) - np.sort(b @ dirs[:, d])))
          for d in range(per_repeat)
      ]
      per_repeat_means.append(np.mean(dists))
    out[f'swd_{pyramids[0][lod].shape[1]}'] = 1e3 * np.mean(per_repeat_means)
  out['swd'] = np.mean(list(out.values()))
  return out


def test_pyramid_matches_scipy_mirror_convolution():
  x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype(np.float32)
  for ours, direct in zip(swd_lib.laplacian_pyramid(x, 2), _direct_pyramid(x, 2)):
    np.testing.assert_allclose(ours, direct, atol=2e-5)


@pytest.mark.parametrize('shape, per_repeat', [((4, 32, 32, 1), 40), ((3, 20, 20, 3), 32)])
def test_swd_matches_the_direct_implementation(shape, per_repeat):
  rng = np.random.default_rng(1)
  real = rng.uniform(-1, 1, size=shape).astype(np.float32)
  fake = np.tanh(2 * rng.normal(size=shape)).astype(np.float32)
  ours = swd_lib.swd(
      real, fake, seed=3, nhoods_per_image=16, dir_repeats=2, dirs_per_repeat=per_repeat
  )
  direct = _direct_swd(real, fake, 3, 16, 2, per_repeat)
  levels = {'swd_32', 'swd_16'} if shape[1] == 32 else {'swd_20'}
  assert set(ours) == set(direct) == levels | {'swd'}
  for key in direct:
    np.testing.assert_allclose(ours[key], direct[key], rtol=1e-4)


def test_swd_is_small_for_one_distribution_and_grows_with_the_difference():
  rng = np.random.default_rng(2)
  blur = lambda x: swd_lib.pyr_up(swd_lib.pyr_down(x))
  x, other, white = rng.normal(size=(3, 32, 16, 16, 1)).astype(np.float32)
  kw = dict(nhoods_per_image=32, dir_repeats=1, dirs_per_repeat=32)
  same = swd_lib.swd(blur(x), blur(other), **kw)['swd']
  half = swd_lib.swd(blur(x), blur(other) + 0.5 * white, **kw)['swd']
  far = swd_lib.swd(blur(x), white, **kw)['swd']
  assert 0 < same < half < far


def test_swd_refuses_sets_of_two_shapes_and_tiny_images():
  with pytest.raises(ValueError, match='one shape'):
    swd_lib.swd(np.zeros((2, 16, 16, 1)), np.zeros((3, 16, 16, 1)))
  with pytest.raises(ValueError, match='H >= 7'):
    swd_lib.swd(np.zeros((2, 4, 4, 1)), np.zeros((2, 4, 4, 1)))


def test_swd_in_the_registry_compares_with_reference_images(tmp_path):
  digits = get_dataset('mnist5k')
  data = EvalData(digits, 'mnist5k', {}, stats_dir=str(tmp_path))
  assert METRICS['swd'].unavailable(data) is None
  assert 'swd' not in applicable(data)  # computed only when named
  assert lower_is_better('swd.swd') and lower_is_better('swd.swd_28')
  real = lambda n: digits.get(np.arange(4000, 4000 + n))
  noise = lambda n: np.random.default_rng(0).uniform(-1, 1, size=(n, 28, 28, 1))
  good = evaluate(['swd'], real, data, num_samples=32)['swd']
  bad = evaluate(['swd'], noise, data, num_samples=32)['swd']
  assert set(good) >= {'swd', 'swd_28', 'num_samples', 'protocol'}  # 28 x 28: one level
  assert good['protocol']['num_reference'] == 32 and good['protocol']['levels'] == 1
  assert good['swd'] * 3 < bad['swd']
