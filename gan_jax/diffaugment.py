"""DiffAugment (Zhao et al. 2020): differentiable augmentations of D's input, NHWC images.

`augment(rng, x, policy) -> x` applies, in the order of `policy` (a tuple of names), the
transforms of the authors' code (DiffAugment_pytorch.py), each with its own random draw per
example:
  'color':       brightness x + U(-1/2, 1/2); saturation (x - mean_c x) U(0, 2) + mean_c x;
                 contrast (x - mean_hwc x) U(1/2, 3/2) + mean_hwc x;
  'translation': shift by integers in [-r, r] along H and W, r = int(1/8 size + 1/2),
                 zero padding: out[i, j] = x[i + dh, j + dw], 0 outside the image;
  'cutout':      zero a square of int(1/2 size + 1/2) pixels whose centre is uniform.
Every transform is a gather or an elementwise map of x, so gradients flow to x (and to G).
`parse_policy('color,translation')` turns the config string into the tuple.
"""

import jax
import jax.numpy as jnp

from gan_jax.checks import FieldError

TRANSLATION_RATIO = 1 / 8
CUTOUT_RATIO = 1 / 2


def _uniform(rng, x):
  """U[0, 1) per example, shaped to broadcast over (H, W, C)."""
  return jax.random.uniform(rng, (x.shape[0], 1, 1, 1), x.dtype)


def _color(rng, x):
  k_b, k_s, k_c = jax.random.split(rng, 3)
  x = x + (_uniform(k_b, x) - 0.5)
  mean = jnp.mean(x, axis=3, keepdims=True)
  x = (x - mean) * (_uniform(k_s, x) * 2) + mean
  mean = jnp.mean(x, axis=(1, 2, 3), keepdims=True)
  return (x - mean) * (_uniform(k_c, x) + 0.5) + mean


def _shift(x, shift, axis):
  """out[..., i, ...] = x[..., i + shift, ...] along `axis` (1 or 2), 0 where out of range."""
  n = x.shape[axis]
  idx = jnp.arange(n)[None, :] + shift[:, None]  # (B, n)
  valid = (idx >= 0) & (idx < n)
  shape = [x.shape[0], 1, 1, 1]
  shape[axis] = n
  gathered = jnp.take_along_axis(x, jnp.clip(idx, 0, n - 1).reshape(shape), axis=axis)
  return jnp.where(valid.reshape(shape), gathered, jnp.zeros((), x.dtype))


def _translation(rng, x):
  out = x
  for axis, key in zip((1, 2), jax.random.split(rng)):
    r = int(x.shape[axis] * TRANSLATION_RATIO + 0.5)
    out = _shift(out, jax.random.randint(key, (x.shape[0],), -r, r + 1), axis)
  return out


def _cutout(rng, x):
  inside = []
  for axis, key in zip((1, 2), jax.random.split(rng)):
    n = x.shape[axis]
    size = int(n * CUTOUT_RATIO + 0.5)
    # The authors' centre is uniform on [0, n + (1 - size % 2)); the square starts size // 2 before
    # it (clipped to the image).
    start = jax.random.randint(key, (x.shape[0],), 0, n + (1 - size % 2)) - size // 2
    i = jnp.arange(n)[None, :]
    shape = [x.shape[0], 1, 1, 1]
    shape[axis] = n
    inside.append(((i >= start[:, None]) & (i < start[:, None] + size)).reshape(shape))
  return x * (~(inside[0] & inside[1])).astype(x.dtype)


AUGMENTATIONS = {'color': _color, 'translation': _translation, 'cutout': _cutout}


def augment(rng, x, policy: tuple[str, ...]):
  """x (B, H, W, C) augmented by each transform of `policy` in order; x itself if empty."""
  for i, name in enumerate(policy):
    x = AUGMENTATIONS[name](jax.random.fold_in(rng, i), x)
  return x


def parse_policy(s: str, field: str = 'config.d_input.diffaugment') -> tuple[str, ...]:
  """'color,translation' -> ('color', 'translation'); '' -> (); FieldError for unknown names."""
  if not isinstance(s, str):
    raise FieldError(f'{field}={s!r}: must be a string of comma-separated names')
  names = tuple(n.strip() for n in s.split(',')) if s.strip() else ()
  unknown = [n for n in names if n not in AUGMENTATIONS]
  if unknown:
    raise FieldError(
        f'{field}={s!r}: unknown augmentation {unknown[0]!r}; allowed: comma-separated names '
        f'of {", ".join(AUGMENTATIONS)}'
    )
  return names


def check_policy(
    policy_str: str, data_is_image: bool, data_name='the data', field='config.d_input.diffaugment'
):
  """The parsed policy; FieldError if a name is unknown or the data are not images."""
  policy = parse_policy(policy_str, field)
  if policy and not data_is_image:
    raise FieldError(
        f'{field}={policy_str!r}: DiffAugment is for images, and {data_name} is not an image '
        'dataset; use d_input.instance_noise for 2D data'
    )
  return policy
