"""experiments.sample and experiments.evaluate on a class-conditional run: --label, one row
per class, labels beside .npy samples, class_agreement; bad --label is one line, exit 2."""

import numpy as np
from PIL import Image

from gan_jax.evaluator import read_results
from tests.conftest import run_module

TINY = (
    '--config.train.num_steps=4',
    '--config.train.batch_size=16',
    '--config.train.log_every=2',
    '--config.train.sample_every=0',
    '--config.checkpoint.every_steps=4',
    '--config.model.g_hidden=(16,)',
    '--config.model.d_hidden=(16,)',
    '--config.model.z_dim=8',
)


def test_sample_and_evaluate_a_conditional_run(tmp_path):
  workdir = tmp_path / 'cgan'
  result = run_module('experiments.main', '--config=configs/cgan.py', f'--workdir={workdir}', *TINY)
  assert result.returncode == 0, result.stderr[-3000:]

  npy = tmp_path / 'x.npy'
  result = run_module('experiments.sample', f'--workdir={workdir}', '--num=3', f'--out={npy}')
  assert result.returncode == 0, result.stderr[-3000:]
  samples, labels = np.load(npy), np.load(tmp_path / 'x_labels.npy')
  assert samples.shape == (30, 28, 28, 1)
  assert list(labels) == [k for k in range(10) for _ in range(3)]

  sevens = tmp_path / 'sevens.npy'
  result = run_module(
      'experiments.sample', f'--workdir={workdir}', '--num=4', '--label=7', f'--out={sevens}'
  )
  assert result.returncode == 0 and 'of class 7' in result.stdout, result.stderr[-3000:]
  assert list(np.load(tmp_path / 'sevens_labels.npy')) == [7] * 4

  png = tmp_path / 'grid.png'
  result = run_module('experiments.sample', f'--workdir={workdir}', '--num=5', f'--out={png}')
  assert result.returncode == 0, result.stderr[-3000:]
  assert Image.open(png).size == (5 * 30 + 2, 10 * 30 + 2)  # 5 per row, one row per class

  for label in ('10',):
    bad = run_module(
        'experiments.sample', f'--workdir={workdir}', f'--label={label}', f'--out={png}x.png'
    )
    assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1] == (
        f'error: --label={label}: must be in [0, 10)'
    )
  assert not (tmp_path / 'grid.pngx.png').exists()

  result = run_module(
      'experiments.evaluate',
      f'--workdir={workdir}',
      '--metrics=class_agreement',
      '--num_samples=200',
  )
  assert result.returncode == 0, result.stderr[-3000:]
  assert 'class_agreement: agreement=' in result.stdout
  (stored,) = read_results(workdir)
  assert stored['step'] == 4 and stored['metric'] == 'class_agreement'
  assert 0 <= stored['values']['agreement'] <= 1 and len(stored['values']['per_class']) == 10


def test_label_on_an_unconditional_run_is_refused(tmp_path):
  workdir = tmp_path / 'nsgan'
  result = run_module(
      'experiments.main', '--config=configs/nsgan.py', f'--workdir={workdir}', *TINY
  )
  assert result.returncode == 0, result.stderr[-3000:]
  out = tmp_path / 'x.png'
  bad = run_module('experiments.sample', f'--workdir={workdir}', '--label=3', f'--out={out}')
  assert bad.returncode == 2 and bad.stderr.strip().splitlines()[-1] == (
      f'error: --label=3: the run in {workdir} is unconditional'
  )
  assert not out.exists()
