"""FID and KID with other tools' files: pytorch-fid / TTUR statistics (--ref_stats,
--save_ref_stats), samples made elsewhere (--samples: .npy, .npz, a folder of PNGs) and
Inception's resize (--resize). The metrics run on a stand-in feature network (the quantised
pixels, as the real Inception quantises its input first) so that they are cheap; the real
network's resize is tested on its own."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from gan_jax.data import get_dataset
from gan_jax.errors import UserError
from gan_jax.evaluator import (
    StatsFileSource,
    checked_metrics,
    format_results,
    score_samples,
    write_ref_stats,
)
from gan_jax.metrics.eval_data import EvalData
from gan_jax.metrics.evaluation import evaluate
from gan_jax.metrics.inception import antialias_resize, network_input, to_uint8
from gan_jax.metrics.ref_stats import load_ref_stats
from gan_jax.metrics.sample_files import read_samples
from tests.conftest import ROOT

# Runs experiments.evaluate once per case in forks of one process (JAX imported once).
FORKED_CASES = """
import json, os, sys, tempfile
from absl import app
from gan_jax.cli import parse_flags
import experiments.evaluate as module
results = []
for args in json.loads(sys.argv[1]):
  with tempfile.TemporaryFile('w+') as err:
    pid = os.fork()
    if pid == 0:
      os.dup2(err.fileno(), 2)
      sys.argv = ['experiments.evaluate', *args]
      try:
        app.run(module.main, flags_parser=parse_flags)
      finally:
        sys.stderr.flush()
    _, status = os.waitpid(pid, 0)
    err.seek(0)
    results.append({'code': os.waitstatus_to_exitcode(status), 'stderr': err.read()})
print(json.dumps(results))
"""


def pixels(x):
  """Stand-in features: every 8th quantised pixel (the real network quantises first too)."""
  return to_uint8(x).reshape(len(x), -1)[:, ::8].astype(np.float64)


@pytest.fixture(scope='module')
def digits():
  return get_dataset('mnist5k')


@pytest.fixture(scope='module')
def drawn(digits):
  """200 float 'samples' off the uint8 grid: real digits plus noise, in [-1, 1]."""
  noise = np.random.default_rng(1).normal(0, 0.1, (200, 28, 28, 1))
  return np.clip(digits.get(np.arange(4000, 4200)) + noise, -1, 1).astype(np.float32)


def run_data(digits, stats_dir, **kw):
  return EvalData(
      digits,
      'mnist5k',
      {},
      stats_dir=str(stats_dir),
      features=pixels,
      feature_name='pixels',
      num_reference=300,
      **kw,
  )


def stats_data(ref, shape=(28, 28, 1)):
  return EvalData(StatsFileSource(shape), 'ref_stats', {}, features=pixels, ref_stats=ref)


def test_fid_from_ref_stats_equals_fid_from_the_reference_images(digits, drawn, tmp_path):
  data = run_data(digits, tmp_path / 'cache')
  direct = evaluate(['fid', 'kid'], lambda n: drawn[:n], data, {'fid': 200, 'kid': 40})
  path = write_ref_stats(data, str(tmp_path / 'ref.npz'))
  with np.load(path) as f:  # pytorch-fid's format: mu, sigma in float64 (and our resize)
    assert sorted(f.files) == ['mu', 'resize', 'sigma'] and str(f['resize']) == 'bilinear'
    assert f['mu'].dtype == f['sigma'].dtype == np.float64
    np.testing.assert_array_equal(f['sigma'], data.reference_stats()[1])
  ref = load_ref_stats(path)
  from_file = evaluate(['fid'], lambda n: drawn[:n], stats_data(ref), 200)
  np.testing.assert_allclose(from_file['fid']['fid'], direct['fid']['fid'], rtol=1e-12)
  assert from_file['fid']['protocol']['reference_stats'] == str(tmp_path / 'ref.npz')

  mu, sigma = data.reference_stats()  # as pytorch-fid writes them: mu float32, sigma float64
  np.savez_compressed(tmp_path / 'torch.npz', mu=mu.astype(np.float32), sigma=sigma)
  other = load_ref_stats(tmp_path / 'torch.npz')
  assert other.mu.dtype == np.float64 and other.resize is None
  theirs = evaluate(['fid'], lambda n: drawn[:n], stats_data(other), 200)['fid']['fid']
  np.testing.assert_allclose(theirs, direct['fid']['fid'], rtol=1e-5)

  with pytest.raises(UserError, match='--metrics=kid: .* holds mu and sigma only: only fid'):
    checked_metrics(['kid'], stats_data(other), '--metrics')
  assert checked_metrics([], stats_data(other), '--metrics') == ['fid']
  feats = data.reference_features()  # a file with the features too gives KID (our cache's)
  np.savez(tmp_path / 'feats.npz', mu=mu, sigma=sigma, features=feats)
  with_features = stats_data(load_ref_stats(tmp_path / 'feats.npz'))
  assert checked_metrics([], with_features, '--metrics') == ['fid', 'kid', 'pr']
  kid = evaluate(['kid'], lambda n: drawn[:n], with_features, 40)['kid']['kid']
  np.testing.assert_allclose(kid, direct['kid']['kid'], rtol=1e-9)


def write_pngs(folder, pixels_u8):
  folder.mkdir()
  for i, p in enumerate(pixels_u8):
    Image.fromarray(p[..., 0]).save(folder / f'{i:04d}.png')


def test_samples_as_arrays_and_as_pngs_score_the_same(digits, drawn, tmp_path):
  data = run_data(digits, tmp_path / 'cache')
  u8 = to_uint8(drawn)
  np.save(tmp_path / 'x.npy', drawn)
  np.savez(tmp_path / 'x.npz', x=u8, labels=np.zeros(200))
  np.savez(tmp_path / 'nchw.npz', u8.transpose(0, 3, 1, 2))  # torch's layout, as 'arr_0'
  write_pngs(tmp_path / 'pngs', u8)
  fids = {}
  for name in ('x.npy', 'x.npz', 'nchw.npz', 'pngs'):
    samples = read_samples(str(tmp_path / name), size=28, channels=1)
    assert samples.images.shape == (200, 28, 28, 1) and samples.resized == 0
    result = score_samples(['fid'], samples, data)['fid']
    assert result['num_samples'] == 200 and result['protocol']['samples'] == str(tmp_path / name)
    fids[name] = result['fid']
  drawn_fid = evaluate(['fid'], lambda n: drawn[:n], data, 200)['fid']['fid']
  np.testing.assert_allclose(list(fids.values()), drawn_fid, rtol=1e-12)
  with pytest.raises(UserError, match='--num_samples=300: --samples has 200'):
    score_samples(['fid'], samples, data, 300)

  big = tmp_path / 'big'  # other sizes are fitted to the run's (centred square, antialiased)
  big.mkdir()
  for i in range(3):
    Image.fromarray(np.full((40, 56, 3), 60 * i, np.uint8)).save(big / f'{i}.png')
  fitted = read_samples(str(big), size=28, channels=1)
  assert fitted.images.shape == (3, 28, 28, 1) and fitted.resized == 3
  assert read_samples(str(big)).images.shape == (3, 40, 56, 3)  # no run: as they are


def test_the_resize_is_recorded_beside_the_number_and_keys_the_cache(digits, tmp_path):
  seen = []

  def inception_stand_in(x, resize='bilinear'):
    seen.append(resize)
    return pixels(x)

  inception_stand_in.resizes = True
  kw = dict(stats_dir=str(tmp_path), features=inception_stand_in, num_reference=50)
  bilinear = EvalData(digits, 'mnist5k', {}, **kw)
  antialias = EvalData(digits, 'mnist5k', {}, resize='antialias', **kw)
  assert not bilinear.reference_key().endswith('bilinear')  # the caches of before stay valid
  assert antialias.reference_key() == bilinear.reference_key() + '-antialias'
  results = evaluate(['fid'], lambda n: digits.get(np.arange(n)), antialias, 20)
  assert set(seen) == {'antialias'}
  protocol = results['fid']['protocol']
  assert protocol['resize'] == 'antialias' and 'clean-fid' in protocol['preprocessing']
  assert format_results(7, results).endswith('(20 samples, resize antialias)')
  assert sorted(p.name for p in tmp_path.glob('*.npz')) == [antialias.reference_key() + '.npz']
  with pytest.raises(ValueError, match="resize 'nearest': must be one of bilinear, antialias"):
    EvalData(digits, 'mnist5k', {}, resize='nearest')
  ref = load_ref_stats(write_ref_stats(antialias, str(tmp_path / 'aa.npz')))
  with pytest.raises(ValueError, match='computed with resize antialias, not bilinear'):
    EvalData(digits, 'mnist5k', {}, ref_stats=ref)


def test_antialias_is_clean_fids_resize_and_unlike_bilinear_when_shrinking():
  board = (np.indices((897, 897)).sum(0) % 2 * 255).astype(np.uint8)[None, ..., None]
  aliased = np.asarray(network_input(board, 'bilinear')) * 128 + 128  # 3x: centres only
  smooth = antialias_resize(board)
  assert smooth.shape == aliased.shape == (1, 299, 299, 3)
  assert aliased.std() > 100 and smooth.std() < 30  # bicubic's support widened 3x averages
  channel = Image.fromarray(board[0, ..., 0].astype(np.float32), mode='F')
  expected = np.asarray(channel.resize((299, 299), Image.BICUBIC)).clip(0, 255)
  np.testing.assert_array_equal(smooth[0, ..., 1], expected)
  same = np.random.default_rng(0).integers(0, 256, (1, 299, 299, 3), dtype=np.uint8)
  np.testing.assert_array_equal(antialias_resize(same), same.astype(np.float32))


def test_bad_files_are_one_line_errors(tmp_path):
  cases = {
      'keys.npz': dict(m=np.zeros(4), s=np.eye(4)),
      'shapes.npz': dict(mu=np.zeros(4), sigma=np.zeros((4, 3))),
      'ints.npz': dict(mu=np.zeros(4, np.int64), sigma=np.eye(4)),
      'nan.npz': dict(mu=np.full(4, np.nan), sigma=np.eye(4)),
  }
  for name, arrays in cases.items():
    np.savez(tmp_path / name, **arrays)
  np.save(tmp_path / 'bare.npy', np.zeros(4))
  for name, message in [
      ('keys.npz', "no 'mu' and no 'sigma'; keys: m, s"),
      ('shapes.npz', "'sigma' has shape (4, 3), expected (4, 4)"),
      ('ints.npz', "'mu' has dtype int64, expected floats"),
      ('nan.npz', "'mu' holds NaN"),
      ('bare.npy', 'an array, not an .npz file'),
      ('missing.npz', 'cannot be read as .npz'),
  ]:
    with pytest.raises(ValueError, match=re.escape(message)):
      load_ref_stats(tmp_path / name)
  np.savez(tmp_path / 'small.npz', mu=np.zeros(4), sigma=np.eye(4))
  with pytest.raises(ValueError, match=re.escape('mu has shape (4,), expected (2048,)')):
    load_ref_stats(tmp_path / 'small.npz', dims=2048)

  images = np.zeros((3, 8, 8, 3), np.uint8) + 9
  bad = {
      'floats255.npy': images.astype(np.float32),
      'unit.npy': np.ones((3, 8, 8, 3), np.uint8),
      'ints.npy': images.astype(np.int64),
      'shape.npy': np.zeros((3, 8, 8, 4), np.float32),
  }
  for name, array in bad.items():
    np.save(tmp_path / name, array)
  np.savez(tmp_path / 'two_keys.npz', a=images, b=images)
  one = tmp_path / 'one'
  one.mkdir()
  Image.fromarray(images[0]).save(one / 'a.png')
  (tmp_path / 'empty').mkdir()
  for name, message in [
      ('floats255.npy', 'float values in [9, 9]: expected [-1, 1]'),
      ('unit.npy', 'uint8 values all in [0, 1]'),
      ('ints.npy', 'dtype int64: expected uint8'),
      ('shape.npy', 'shape (3, 8, 8, 4): expected images'),
      ('two_keys.npz', "no key 'x' or 'arr_0' and 2 keys: a, b"),
      ('one', '1 image(s): the metrics need >= 2'),
      ('empty', 'no image files in it'),
      ('nowhere', 'no such file or folder'),
      ('bare.npy', 'shape (4,): expected images'),
  ]:
    with pytest.raises(ValueError, match=re.escape(message)):
      read_samples(str(tmp_path / name))
  np.save(tmp_path / 'rgb.npy', images)
  with pytest.raises(ValueError, match='3 channels, the run has 1'):
    read_samples(str(tmp_path / 'rgb.npy'), size=8, channels=1)


def test_the_cli_refuses_bad_input_in_one_line(tmp_path):
  """experiments.evaluate's flags (no Inception is loaded: each case stops before)."""
  np.savez_compressed(tmp_path / 'ref.npz', mu=np.zeros(2048), sigma=np.zeros((2048, 2048)))
  np.savez(tmp_path / 'keys.npz', m=np.zeros(2048))
  write_pngs(tmp_path / 'one', np.zeros((1, 8, 8, 1), np.uint8))
  write_pngs(tmp_path / 'two', np.full((2, 8, 8, 1), 200, np.uint8))
  np.save(tmp_path / 'big.npy', np.full((2, 8, 8, 3), 255.0, np.float32))
  ref, two = f'--ref_stats={tmp_path}/ref.npz', f'--samples={tmp_path}/two'
  cases = [
      ([two], '--workdir: required, except with both --samples and --ref_stats'),
      ([two, f'--ref_stats={tmp_path}/keys.npz'], "no 'mu' and no 'sigma'"),
      ([two, f'--ref_stats={tmp_path}/x.npy'], '--ref_stats=' + str(tmp_path) + '/x.npy: must end'),
      ([f'--samples={tmp_path}/one', ref], '1 image(s): the metrics need >= 2'),
      ([f'--samples={tmp_path}/big.npy', ref], 'float values in [255, 255]: expected [-1, 1]'),
      ([two, ref, '--metrics=kid'], 'holds mu and sigma only: only fid'),
      ([two, ref, '--resize=nearest'], 'value should be one of <bilinear|antialias>'),
      ([two, ref, '--save_ref_stats=s.npz'], '--save_ref_stats: writes the statistics only'),
      ([two, ref, '--out=r.txt'], '--out=r.txt: must end in .json'),
  ]
  proc = subprocess.run(
      [sys.executable, '-c', FORKED_CASES, json.dumps([args for args, _ in cases])],
      cwd=tmp_path,
      env={**os.environ, 'PYTHONPATH': ROOT},
      capture_output=True,
      text=True,
      timeout=300,
  )
  assert proc.returncode == 0, proc.stderr[-3000:]
  results = json.loads(proc.stdout.strip().splitlines()[-1])
  for (_, message), result in zip(cases, results, strict=True):
    errors = [l for l in result['stderr'].splitlines() if l.startswith('error: ')]
    assert result['code'] == 2 and len(errors) == 1 and message in errors[0], result
    assert 'Traceback' not in result['stderr'], result['stderr']
  assert not list(tmp_path.glob('*.json')) and not (tmp_path / 's.npz').exists()

