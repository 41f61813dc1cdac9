"""The sampling tools: latent walks (lerp, slerp), the truncation trick, samples as files (a folder
of PNGs, .npz) and interpolations (a grid, a GIF) through experiments.sample, and its bad input."""

import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from PIL import Image

from gan_jax import images, latents, sampling
from gan_jax.models import build_models
from tests import test_sample_labels
from tests.conftest import run_module


def _pairs(p=3, d=64, seed=0):
  rng = np.random.default_rng(seed)
  z0, z1 = rng.normal(size=(2, p, d)).astype(np.float32)
  return z0, z1 * (np.linalg.norm(z0, axis=1) / np.linalg.norm(z1, axis=1))[:, None]  # same norms


def test_lerp_and_slerp_walks_start_and_end_on_the_pair():
  z0, z1 = _pairs()
  for mode in latents.MODES:
    path = latents.walk(z0, z1, 5, mode)
    assert path.shape == (3, 5, 64) and path.dtype == np.float32
    np.testing.assert_array_equal(path[:, 0], z0)
    np.testing.assert_array_equal(path[:, -1], z1)
  np.testing.assert_allclose(latents.walk(z0, z1, 3, 'lerp')[:, 1], (z0 + z1) / 2, rtol=1e-6)
  slerp, lerp = latents.walk(z0, z1, 5, 'slerp'), latents.walk(z0, z1, 5, 'lerp')
  norms = np.linalg.norm(z0, axis=1)[:, None]
  np.testing.assert_allclose(np.linalg.norm(slerp, axis=2), np.repeat(norms, 5, 1), rtol=1e-5)
  assert np.all(np.linalg.norm(lerp[:, 2], axis=1) < 0.9 * norms[:, 0])  # a chord cuts inside
  # slerp's midpoint lies at half the angle from each end
  cos = lambda a, b: np.sum(a * b, 1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
  half = np.arccos(cos(z0, z1)) / 2
  np.testing.assert_allclose(np.arccos(cos(z0, slerp[:, 2])), half, rtol=1e-4)
  np.testing.assert_allclose(np.arccos(cos(slerp[:, 2], z1)), half, rtol=1e-4)


def test_slerp_falls_back_to_lerp_for_colinear_ends():
  z0 = np.random.default_rng(1).normal(size=(2, 8)).astype(np.float32)
  for z1 in (2 * z0, -z0, z0):  # parallel, opposite, equal: the angle's sine is 0
    t = np.array([[0.0], [0.25], [1.0]])[None]
    out = latents.slerp(z0[:, None], z1[:, None], t)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, latents.lerp(z0[:, None], z1[:, None], t), rtol=1e-6)
  with pytest.raises(ValueError, match="'cubic': allowed: lerp, slerp"):
    latents.walk(z0, z0, 4, 'cubic')
  with pytest.raises(ValueError, match='steps=1: must be >= 2'):
    latents.walk(z0, z0, 1, 'lerp')


def test_truncation_bounds_every_coordinate_and_is_a_function_of_the_seed():
  plain = np.asarray(sampling.sample_noise(3, 500, 16))
  for psi in (2.0, 0.5, 0.01):
    z = sampling.sample_noise(3, 500, 16, truncation=psi)
    assert z.shape == (500, 16) and z.dtype == np.float32 and np.abs(z).max() <= psi
    np.testing.assert_array_equal(z, sampling.sample_noise(3, 500, 16, truncation=psi))
    inside = np.abs(plain) <= psi
    np.testing.assert_array_equal(z[inside], plain[inside])  # only those outside are redrawn
    assert np.abs(z).mean() > 0.3 * psi  # spread over the interval, not piled at 0
  assert not np.array_equal(
      sampling.sample_noise(3, 500, 16, truncation=0.5),
      sampling.sample_noise(4, 500, 16, truncation=0.5),
  )
  np.testing.assert_array_equal(latents.truncate(plain, np.inf, 0), plain)
  for bad in (0, -1.0, float('nan')):
    with pytest.raises(ValueError, match='must be > 0'):
      latents.truncate(plain, bad, 0)


def _state(G, z_dim, num_classes=0):
  y = jnp.zeros((2,), jnp.int32) if num_classes else None
  v = G.init(jax.random.key(0), jnp.zeros((2, z_dim)), y, train=False)
  params, rest = v['params'], {k: x for k, x in v.items() if k != 'params'}
  return types.SimpleNamespace(ema_params=params, g_params=params, g_state=rest, ema_state=rest)


def test_truncation_toward_zero_shrinks_the_spread_of_the_samples():
  G, _ = build_models('mlp', (4, 4, 1), z_dim=8, g_hidden=(32,))
  state = _state(G, 8)
  spread = [
      sampling.draw(G, state, 256, seed=0, truncation=psi).std(axis=0).mean()
      for psi in (None, 1.0, 0.3, 0.03)
  ]
  assert all(a > b for a, b in zip(spread, spread[1:])), spread
  assert spread[-1] < 0.05 * spread[0], spread


def test_walks_hold_the_label_of_their_row():
  G, _ = build_models('mlp', (4,), z_dim=3, g_hidden=(8,), num_classes=3, conditioning='concat')
  state = _state(G, 3, 3)
  samples, labels = sampling.draw_walks(G, state, 2, 4, seed=0, mode='slerp')
  assert samples.shape == (3 * 2 * 4, 4)  # a row of 4 per walk and class
  assert list(labels) == [k for k in range(3) for _ in range(2 * 4)]
  rows = samples.reshape(3, 2, 4, 4)
  assert not np.allclose(rows[0], rows[1])  # the same walks under another label
  noise = np.asarray(sampling.sample_noise(0, 4, 3))
  z = np.concatenate([noise] * 6)  # 24 rows: the size of the walks, one compilation
  ends = sampling.generate_all(G, state, z, np.zeros(24, np.int32))
  np.testing.assert_allclose(rows[0, :, 0], ends[:2], rtol=1e-6)  # from z0 = noise[:2] ...
  np.testing.assert_allclose(rows[0, :, -1], ends[2:4], rtol=1e-6)  # ... to z1 = noise[2:]
  twos, labels = sampling.draw_walks(G, state, 6, 4, seed=0, mode='lerp', label=2)
  assert twos.shape == (24, 4) and list(labels) == [2] * 24
  frames = images.walk_frames(np.zeros((5, 4, 6, 6, 1)))
  assert frames.shape == (6, 2 * 8 + 2, 3 * 8 + 2, 1)  # forward and back: t = 0 1 2 3 2 1


def test_an_image_folder_is_written_whole_and_never_over_other_files(tmp_path):
  x = np.linspace(-1, 1, 3 * 5 * 4 * 3).reshape(3, 5, 4, 3)
  images.save_image_folder(x, tmp_path / 'out', labels=np.array([7, 0, 12]))
  assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == [
      '00000_y7.png',
      '00001_y0.png',
      '00002_y12.png',
  ]
  np.testing.assert_array_equal(
      np.asarray(Image.open(tmp_path / 'out' / '00002_y12.png')), images.to_pixels(x[2])
  )
  with pytest.raises(OSError):
    images.save_image_folder(x, tmp_path / 'out')  # not empty: refused
  assert sorted(p.name for p in tmp_path.iterdir()) == ['out']  # no temporary folder left


TINY = test_sample_labels.TINY  # the same tiny cgan run: its programs are in the shared cache


def _sample(workdir, *args):
  return run_module('experiments.sample', f'--workdir={workdir}', *args)


def test_sample_writes_files_truncates_and_interpolates(tmp_path):
  workdir = tmp_path / 'cgan'
  result = run_module('experiments.main', '--config=configs/cgan.py', f'--workdir={workdir}', *TINY)
  assert result.returncode == 0, result.stderr[-3000:]

  folder = tmp_path / 'pngs'
  result = _sample(workdir, '--num=2', '--truncation=0.5', f'--out={folder}/')
  assert result.returncode == 0 and '(truncation 0.5)' in result.stdout, result.stderr[-3000:]
  names = sorted(p.name for p in folder.iterdir())
  assert names == [f'{i:05d}_y{i // 2}.png' for i in range(20)]  # 2 per class
  assert Image.open(folder / names[0]).size == (28, 28)

  npz = tmp_path / 'x.npz'
  result = _sample(workdir, '--num=2', '--label=3', f'--out={npz}')
  assert result.returncode == 0, result.stderr[-3000:]
  with np.load(npz) as arrays:
    assert arrays['x'].shape == (2, 28, 28, 1) and list(arrays['y']) == [3, 3]

  gif = tmp_path / 'walk.gif'
  result = _sample(workdir, '--num=1', '--interpolate=slerp', '--steps=3', f'--out={gif}')
  assert result.returncode == 0 and '10 slerp walks of 3 samples' in result.stdout, result.stderr
  with Image.open(gif) as animation:  # a walk per class, t = 0 1 2 1
    assert animation.n_frames == 4 and animation.size == (1 * 30 + 2, 10 * 30 + 2)

  png, npy = tmp_path / 'bad.png', tmp_path / 'bad.npy'
  bad = [
      (['--truncation=0', f'--out={png}'], '--truncation=0: must be numbers > 0'),
      (
          ['--interpolate=cubic', f'--out={png}'],
          'flag --interpolate=cubic: value should be one of <lerp|slerp>',
      ),
      (['--interpolate=lerp', '--steps=1', f'--out={png}'], '--steps=1: must be >= 2'),
      (['--interpolate=lerp', f'--out={npy}'], '--interpolate: writes a .png grid or a .gif, not'),
      ([f'--out={folder}'], f'--out={folder}: the folder is not empty (remove it or name a new'),
      ([f'--out={npz}/'], f'--out={npz}/: is a file, not a folder'),
      (['--steps=4', f'--out={png}'], '--steps=4: goes with --interpolate'),
  ]
  for args, error in bad:
    result = _sample(workdir, *args)
    assert result.returncode == 2, result.stderr[-3000:]
    assert result.stderr.strip().splitlines()[-1].startswith(f'error: {error}'), result.stderr
  assert sorted(p.name for p in tmp_path.iterdir()) == ['cgan', 'pngs', 'walk.gif', 'x.npz']
