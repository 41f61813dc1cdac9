"""Drawing samples from a generator: pure generation plus batching at the edge.

A class-conditional generator (`generator.num_classes` > 0) is drawn with labels: `draw`
returns `(samples, labels)`; without labels given, sample i is of class i mod K (every prefix
balanced over the classes). `class_rows(K, n)` are the labels of a grid with one row of n
samples per class.

Noise is N(0, I) from `gan_jax.rng.key(seed)` (`sample_noise`); with `truncation` = psi, the
truncation trick by resampling (`gan_jax.latents.truncate`): every coordinate outside
[-psi, psi] is drawn again until inside, so psi -> 0 draws every sample near G(0).
`draw_walks` draws interpolations: rows of samples along lerp / slerp paths between noise pairs.
"""

from functools import partial

import jax
import numpy as np

from gan_jax import rng
from gan_jax import latents


@partial(jax.jit, static_argnums=0)
def generate(generator, params, g_state, z, y=None):
  """G(z) (G(z, y) for labels y) in inference mode (BatchNorm running statistics)."""
  return generator.apply({'params': params, **g_state}, z, y, train=False)


def sample_noise(seed: int, num: int, z_dim: int, truncation=None):
  """(num, z_dim) N(0, I) noise from `seed`; `truncation` = psi: coordinates outside [-psi, psi]
  redrawn until inside (`latents.truncate`, its redraws seeded with `seed` too). None: the
  plain draw (a jax array)."""
  z = jax.random.normal(rng.key(seed), (num, z_dim))
  return z if truncation is None else latents.truncate(z, truncation, seed)


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


def _weights(state, use_ema):
  if use_ema:
    return state.ema_params, state.ema_state
  return state.g_params, state.g_state


def generate_all(generator, state, z, labels=None, use_ema=True, chunk=1000, on_progress=None):
  """G(z) (G(z, labels)) as one numpy array, generated in chunks of `chunk`; `on_progress(done)`,
  if given, is called as the chunks finish."""
  params, g_state = _weights(state, use_ema)
  num, parts = len(z), []
  for i in range(0, num, chunk):
    y = None if labels is None else labels[i : i + chunk]
    parts.append(generate(generator, params, g_state, z[i : i + chunk], y))
    if on_progress is not None:
      parts[-1] = np.asarray(parts[-1])
      on_progress(min(i + chunk, num))
  return np.concatenate([np.asarray(p) for p in parts])


def _labels_for(generator, num, labels):
  """The labels of a draw of `num`: None (unconditional), as given (checked), or i mod K."""
  classes = num_classes(generator)
  if classes:
    labels = np.arange(num, dtype=np.int32) % classes if labels is None else labels
    return check_labels(generator, labels, num)
  if labels is not None:
    check_labels(generator, labels, num)  # raises: unconditional
  return None


def draw(
    generator,
    state,
    num: int,
    seed: int,
    use_ema: bool = True,
    chunk: int = 1000,
    labels=None,
    on_progress=None,
    truncation=None,
):
  """`num` samples as a numpy array (the EMA weights and statistics unless `use_ema` is False);
  for a conditional generator `(samples, labels)`, with `labels` (num,) as given or i mod K.
  `on_progress(done)`, if given, is called as the chunks of `chunk` finish. `truncation` = psi:
  the truncation trick (module docstring)."""
  z = np.asarray(sample_noise(seed, num, generator.z_dim, truncation))
  labels = _labels_for(generator, num, labels)
  samples = generate_all(generator, state, z, labels, use_ema, chunk, on_progress)
  return samples if labels is None else (samples, labels)


def draw_walks(
    generator,
    state,
    num_pairs: int,
    steps: int,
    seed: int,
    mode: str = 'slerp',
    label=None,
    use_ema: bool = True,
    truncation=None,
):
  """Interpolations: (samples (R * steps, ...), labels (R * steps,) or None), R rows of `steps`
  samples, row-major. Row p walks from z0 = noise[p] to z1 = noise[P + p] (noise:
  `sample_noise(seed, 2P, z_dim, truncation)`, P = `num_pairs`) by `latents.walk(mode)`.
  Unconditional: R = P. Conditional: with `label` every row is of that class (R = P); without,
  the P walks once per class, class-major (R = K * P: the same walks under each label)."""
  noise = np.asarray(sample_noise(seed, 2 * num_pairs, generator.z_dim, truncation))
  path = latents.walk(noise[:num_pairs], noise[num_pairs:], steps, mode)  # (P, steps, d)
  rows = None
  classes = num_classes(generator)
  if classes and label is None:
    rows = class_rows(classes, num_pairs)
    path = np.tile(path, (classes, 1, 1))
  elif label is not None:
    rows = np.full((num_pairs,), label, np.int32)
  z = path.reshape(-1, path.shape[-1])
  labels = _labels_for(generator, len(z), None if rows is None else np.repeat(rows, steps))
  return generate_all(generator, state, z, labels, use_ema), labels


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
