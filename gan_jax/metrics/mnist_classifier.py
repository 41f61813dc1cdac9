"""A small CNN that labels MNIST digits; this project trains it and ships its weights.

  x (N, 28, 28, 1) in [-1, 1] -> 3 x [conv 3x3 (32, 64, 128) -> ReLU -> max-pool 2] (28 -> 3)
  -> dropout -> dense 64 -> ReLU -> dropout -> dense 10 (logits); 167k parameters, dropout 0.25
  in training only.

`experiments/train_classifier.py` trains it on full MNIST and writes `assets/mnist_classifier.npz`
(flat `<module>/<param>` arrays) and `assets/mnist_classifier.json` (its test accuracy, data,
command, date).  `load_classifier()` reads the weights; `classify(params, images)` labels images
in fixed-size jitted chunks.
"""

import functools
import os

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util

from gan_jax import rng

ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'assets')
WEIGHTS = os.path.join(ASSETS, 'mnist_classifier.npz')
INPUT_SHAPE = (28, 28, 1)


class MNISTClassifier(nn.Module):
  """Three conv + max-pool blocks, a hidden dense layer with dropout around it, 10 logits."""

  conv_widths: tuple[int, ...] = (32, 64, 128)
  hidden: int = 64
  dropout: float = 0.25

  @nn.compact
  def __call__(self, x, train: bool = False):
    for width in self.conv_widths:
      x = nn.relu(nn.Conv(width, (3, 3), padding='SAME')(x))
      x = nn.max_pool(x, (2, 2), strides=(2, 2))
    x = nn.Dropout(self.dropout, deterministic=not train)(x.reshape((x.shape[0], -1)))
    x = nn.Dropout(self.dropout, deterministic=not train)(nn.relu(nn.Dense(self.hidden)(x)))
    return nn.Dense(10)(x)


def init_params(rng):
  return MNISTClassifier().init(rng, jnp.zeros((1, *INPUT_SHAPE)))['params']


def logits(params, images, dropout_rng=None):
  """(N, 10) logits of images (N, 28, 28, 1) in [-1, 1]; with `dropout_rng`, training mode."""
  train = dropout_rng is not None
  rngs = {'dropout': dropout_rng} if train else {}
  return MNISTClassifier().apply({'params': params}, images, train, rngs=rngs)


def save_params(params, path=WEIGHTS):
  """Writes the parameters as a flat npz (`Conv_0/kernel`, ...), float32."""
  flat = traverse_util.flatten_dict(jax.device_get(params), sep='/')
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with open(path, 'wb') as f:
    np.savez_compressed(f, **{k: np.asarray(v, np.float32) for k, v in flat.items()})


def load_classifier(path=WEIGHTS):
  """The parameters saved at `path` (default: the shipped weights), checked against the model."""
  if not os.path.isfile(path):
    raise FileNotFoundError(
        f'no classifier weights at {path}; train them with python -m experiments.train_classifier'
    )
  expected = traverse_util.flatten_dict(jax.eval_shape(init_params, rng.key(0)), sep='/')
  with np.load(path) as npz:
    found = {k: npz[k] for k in npz.files}
  shapes = {k: v.shape for k, v in found.items()}
  if shapes != {k: v.shape for k, v in expected.items()}:
    raise ValueError(f'{path}: parameter shapes {shapes} do not fit MNISTClassifier')
  return traverse_util.unflatten_dict({k: jnp.asarray(v) for k, v in found.items()}, sep='/')


@jax.jit
def predict(params, images):
  """int32 (N,) argmax labels of images (N, 28, 28, 1) in [-1, 1]."""
  return jnp.argmax(logits(params, images), axis=-1)


def classify(params, images, chunk=1000):
  """Labels (int64 (N,)) of images (N, 28, 28, 1) in [-1, 1], `chunk` at a time (one shape)."""
  images = np.asarray(images, np.float32)
  if images.ndim != 4 or images.shape[1:] != INPUT_SHAPE:
    raise ValueError(f'classify needs (N, 28, 28, 1) images, got {images.shape}')
  out = []
  for start in range(0, len(images), chunk):
    part = images[start : start + chunk]
    padded = np.pad(part, ((0, chunk - len(part)), (0, 0), (0, 0), (0, 0)))
    out.append(np.asarray(predict(params, padded))[: len(part)])
  return np.concatenate(out).astype(np.int64) if out else np.zeros((0,), np.int64)


@functools.lru_cache(maxsize=1)
def shipped_params():
  """The shipped weights, read and checked once per process."""
  return load_classifier()


def shipped_classify():
  """images -> labels with the shipped weights (loaded once)."""
  return functools.partial(classify, shipped_params())


@jax.jit
def _logits(params, images):
  return logits(params, images)


def classifier_logits(params, images, chunk=1000):
  """float32 (N, 10) logits of images (N, 28, 28, 1) in [-1, 1], `chunk` at a time (one shape):
  the 'mnist_classifier' feature network of the metrics."""
  images = np.asarray(images, np.float32)
  if images.ndim != 4 or images.shape[1:] != INPUT_SHAPE:
    raise ValueError(f'the MNIST classifier needs (N, 28, 28, 1) images, got {images.shape}')
  out = []
  for start in range(0, len(images), chunk):
    part = images[start : start + chunk]
    padded = np.pad(part, ((0, chunk - len(part)), (0, 0), (0, 0), (0, 0)))
    out.append(np.asarray(_logits(params, padded))[: len(part)])
  return np.concatenate(out) if out else np.zeros((0, 10), np.float32)
