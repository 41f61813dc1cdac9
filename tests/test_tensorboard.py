"""What a short 2D run shows: the device line at start, a rate on its first progress line,
and in TensorBoard the scatter plot as an image and the learning rates."""

import glob
import io
import os

import numpy as np
from PIL import Image
from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
from tensorboard.compat.proto.event_pb2 import Event

from gan_jax.train import train_and_evaluate
from tests.conftest import tiny_config


def _events(workdir):
  (path,) = glob.glob(os.path.join(workdir, 'events.out.tfevents.*'))
  values = {}
  for record in RawEventFileLoader(path).Load():  # as written, not converted to tensors
    event = Event.FromString(record)
    for value in event.summary.value:
      values.setdefault(value.tag, []).append((event.step, value))
  return values


def test_a_2d_run_logs_its_scatter_plot_and_learning_rates(tmp_path, capsys):
  config = tiny_config(num_steps=4, d_steps=1, steps_per_call=2, log_every=2, sample_every=4)
  config.model.update(g_batchnorm=False, d_sn=False, d_dropout=0.0)  # compiles faster
  config.checkpoint.every_steps = 4
  train_and_evaluate(config, str(tmp_path))
  out = capsys.readouterr().out.splitlines()
  assert out[0].startswith('Devices: 1 x cpu in 1 process; mesh data=1')
  first = next(line for line in out if line.startswith('step 2/4'))
  assert 'steps/s | ETA' in first  # the first log step ends the first (compiling) call

  values = _events(tmp_path)
  ((step, image),) = values['samples']
  pixels = np.asarray(Image.open(io.BytesIO(image.image.encoded_image_string)))
  assert step == 4 and pixels.shape == (500, 500, 3) and pixels.std() > 0
  saved = np.asarray(Image.open(tmp_path / 'samples' / 'step_00000004.png'))
  np.testing.assert_array_equal(saved, pixels)  # the same picture as the PNG
  for net, updates_per_step in (('g', 1), ('d', config.train.d_steps)):
    logged = values[f'lr/{net}']
    assert [s for s, _ in logged] == [2, 4]
    optim = config.optim[net]
    assert optim.schedule == 'linear'  # mixture_2d's: lr_t = lr (1 - t / T) for decay_to = 0
    expected = [optim.lr * (1 - s * updates_per_step / optim.decay_steps) for s in (2, 4)]
    np.testing.assert_allclose([v.simple_value for _, v in logged], expected, rtol=1e-6)
