"""Drawing samples from a generator: pure generation plus batching at the edge.

A class-conditional generator (`generator.num_classes` > 0) is drawn with labels: `draw`
returns `(samples, labels)`; without labels given, sample i is of class i mod K (every prefix
balanced over the classes). `class_rows(K, n)` are the labels of a grid with one row of n
samples per class.
"""

from functools import partial

import jax
import numpy as np


@partial(jax.jit, static_argnums=0)
def generate(generator, params, g_state, z, y=None):
  """G(z) (G(z, y) for labels y) in inference mode (BatchNorm running statistics)."""
  return generator.apply({'params': params, **g_state}, z, y, train=False)


def sample_noise(seed: int, num: int, z_dim: int):
  return jax.random.normal(jax.random.key(seed), (num, z_dim))


def num_classes(generator) -> int:
  """K of a class-conditional generator, 0 for an unconditional one."""
  return int(getattr(generator, 'num_classes', 0) or 0)


def class_rows(classes: int, per_row: int) -> np.ndarray:
  """int32 labels (classes * per_row,): per_row of class 0, then of class 1, ..."""
  return np.repeat(np.arange(classes, dtype=np.int32), per_row)


def check_labels(generator, labels, num=None) -> np.ndarray:
  """`labels` as int32 (N,), ValueError unless the generator is conditional and 0 <= y < K."""
  classes = num_classes(generator)
  if not classes:
    raise ValueError('the generator is unconditional: it takes no labels')
  labels = np.asarray(labels)
  if labels.ndim != 1 or (num is not None and len(labels) != num):
    raise ValueError(f'need {num or "N"} labels (N,), got shape {labels.shape}')
  if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= classes:
    raise ValueError(
        f'labels must be integers in [0, {classes}), got {labels.min()}..{labels.max()}'
    )
  return labels.astype(np.int32)


def draw(
    generator,
    state,
    num: int,
    seed: int,
    use_ema: bool = True,
    chunk: int = 1000,
    labels=None,
    on_progress=None,
):
  """`num` samples as a numpy array (the EMA weights and statistics unless `use_ema` is False);
  for a conditional generator `(samples, labels)`, with `labels` (num,) as given or i mod K.
  `on_progress(done)`, if given, is called as the chunks of `chunk` finish."""
  if use_ema:
    params, g_state = state.ema_params, state.ema_state
  else:
    params, g_state = state.g_params, state.g_state
  z = np.asarray(sample_noise(seed, num, generator.z_dim))
  classes = num_classes(generator)
  if classes:
    labels = np.arange(num, dtype=np.int32) % classes if labels is None else labels
    labels = check_labels(generator, labels, num)
  elif labels is not None:
    check_labels(generator, labels, num)  # raises: unconditional
  parts = []
  for i in range(0, num, chunk):
    y = None if labels is None else labels[i : i + chunk]
    parts.append(generate(generator, params, g_state, z[i : i + chunk], y))
    if on_progress is not None:
      parts[-1] = np.asarray(parts[-1])
      on_progress(min(i + chunk, num))
  samples = np.concatenate([np.asarray(p) for p in parts])
  return (samples, labels) if classes else samples


def draw_grid(generator, state, num: int, seed: int, use_ema: bool = True):
  """(samples, ncols) of a sample grid: `num` samples (ncols None: near-square) for an
  unconditional generator; one row of max(1, num // K) samples per class for a conditional one
  (for `images.save_samples(samples, path, ncols=ncols)`)."""
  classes = num_classes(generator)
  if not classes:
    return draw(generator, state, num, seed, use_ema), None
  per_row = max(1, num // classes)
  labels = class_rows(classes, per_row)
  return draw(generator, state, len(labels), seed, use_ema, labels=labels)[0], per_row
