"""Sliced Wasserstein distance on Laplacian pyramid levels (Karras et al. 2018, appendix D).

For images (N, H, W, C) of one set:
  1. Laplacian pyramid (`num_levels`: halvings down to 16 x 16, 32 x 32: levels 32, 16; 28 x 28:
     level 28; smaller than 16: the image itself): down(x) = blur(x)[::2, ::2], up(x) = blur4(x
     put at [::2, ::2] of zeros), level_k = g_k - up(g_{k+1}), the last level g_L itself;
     blur = the 5x5 binomial filter [1 4 6 4 1]^T [1 4 6 4 1] / 256 with mirrored borders
     (cv2.pyrDown / pyrUp; blur4 = 4 blur);
  2. per level, `nhoods_per_image` (128) 7x7 neighbourhoods per image at uniformly drawn
     centres (3 <= y, x < size - 3), flattened to descriptors (H, W, C order); each channel is
     normalized to mean 0, std 1 over all neighbourhoods of the set (each set on its own);
  3. per level, SWD(A, B) = mean over `dir_repeats` (4) repeats of the mean over
     `dirs_per_repeat` (128) random unit directions d of mean_i |sort(A d)_i - sort(B d)_i|:
     512 directions in all, as the reference code (metrics/sliced_wasserstein.py of
     tkarras/progressive_growing_of_gans: 4 repeats of 128).
The values are reported x 10^3, per level (`swd_<size>`) and their mean (`swd`); lower is better.
Descriptors are normalized per channel, so the result does not depend on the pixels' affine range
([-1, 1] here, [0, 255] in the reference).

Random draws, all from one np.random.default_rng(seed), in this order: per level, the real set's
centres (y then x, each (N, nhoods_per_image)), the fake set's; then, per level, per repeat, the
directions (D, dirs_per_repeat) of standard normals (D = 49 C).
"""

import jax
import jax.numpy as jnp
import numpy as np

NHOOD = 7
NHOODS_PER_IMAGE = 128
DIR_REPEATS = 4
DIRS_PER_REPEAT = 128
DIR_CHUNK = 32  # directions projected at once
MIN_LEVEL = 16  # the pyramid halves down to this size
BINOMIAL = np.float32([1, 4, 6, 4, 1]) / 16


def num_levels(size: int) -> int:
  """Pyramid levels of `size` x `size` images: halvings while the level is >= 16 (1 below 16)."""
  n = 0
  while size >= MIN_LEVEL:
    n, size = n + 1, size // 2
  return max(n, 1)


def _blur(x, gain=1.0):
  """The 5x5 binomial filter (separable) over axes 1, 2 of (N, H, W, C), mirrored borders."""
  for axis in (1, 2):
    pad = [(0, 0)] * 4
    pad[axis] = (2, 2)
    xp = np.pad(x, pad, mode='reflect')
    size = x.shape[axis]
    x = sum(
        BINOMIAL[k] * np.take(xp, np.arange(k, k + size), axis=axis) for k in range(len(BINOMIAL))
    )
  return (x * gain).astype(np.float32)


def pyr_down(x):
  return _blur(x)[:, ::2, ::2]


def pyr_up(x):
  n, h, w, c = x.shape
  up = np.zeros((n, 2 * h, 2 * w, c), np.float32)
  up[:, ::2, ::2] = x
  return _blur(up, gain=4.0)


def laplacian_pyramid(images, levels):
  """[level_0 (finest), ..., level_{levels-1} (the blurred, downsampled residue)]."""
  pyramid = [np.asarray(images, np.float32)]
  for _ in range(1, levels):
    pyramid.append(pyr_down(pyramid[-1]))
    pyramid[-2] = pyramid[-2] - pyr_up(pyramid[-1])
  return pyramid


def descriptors(level, ys, xs):
  """Normalized descriptors (N * K, 49 C) of the 7x7 neighbourhoods centred at (ys, xs) (N, K)
  of `level` (N, H, W, C)."""
  half = NHOOD // 2
  offsets = np.arange(-half, half + 1)
  n, k = ys.shape
  img = np.repeat(np.arange(n), k)[:, None, None]
  rows = ys.reshape(-1)[:, None, None] + offsets[None, :, None]
  cols = xs.reshape(-1)[:, None, None] + offsets[None, None, :]
  desc = level[img, rows, cols]  # (N K, 7, 7, C)
  desc = desc - desc.mean(axis=(0, 1, 2), keepdims=True)
  desc = desc / desc.std(axis=(0, 1, 2), keepdims=True)
  return desc.reshape(len(desc), -1).astype(np.float32)


@jax.jit
def _slice_distance(a, b, dirs):
  """mean over directions and rows of |sort(a dirs) - sort(b dirs)| (sorted along rows)."""
  pa = jnp.sort(a @ dirs, axis=0)
  pb = jnp.sort(b @ dirs, axis=0)
  return jnp.mean(jnp.abs(pa - pb))


def sliced_wasserstein(a, b, rng, dir_repeats=DIR_REPEATS, dirs_per_repeat=DIRS_PER_REPEAT):
  """SWD of descriptor sets a, b (M, D) over `dir_repeats` x `dirs_per_repeat` directions."""
  if a.shape != b.shape:
    raise ValueError(f'SWD needs descriptor sets of one shape, got {a.shape} and {b.shape}')
  a, b = jnp.asarray(a), jnp.asarray(b)
  results = []
  for _ in range(dir_repeats):
    dirs = rng.standard_normal((a.shape[1], dirs_per_repeat))
    dirs = (dirs / np.sqrt(np.sum(dirs**2, axis=0, keepdims=True))).astype(np.float32)
    # in chunks of directions: the projections of 2M descriptors (16,384 images) stay ~270 MB
    chunks = [dirs[:, i : i + DIR_CHUNK] for i in range(0, dirs_per_repeat, DIR_CHUNK)]
    sums = [float(_slice_distance(a, b, c)) * c.shape[1] for c in chunks]
    results.append(sum(sums) / dirs_per_repeat)
  return float(np.mean(results))


def _centres(rng, shape, k):
  n, h, w, _ = shape
  half = NHOOD // 2
  ys = rng.integers(half, h - half, size=(n, k))
  xs = rng.integers(half, w - half, size=(n, k))
  return ys, xs


def swd(real, fake, seed=0, nhoods_per_image=NHOODS_PER_IMAGE, **directions) -> dict:
  """{'swd_<size>': SWD x 10^3 per pyramid level, 'swd': their mean} of image sets real, fake
  (N, H, W, C), the same N (`directions`: dir_repeats, dirs_per_repeat)."""
  real, fake = np.asarray(real, np.float32), np.asarray(fake, np.float32)
  if real.shape != fake.shape or real.ndim != 4 or min(real.shape[1:3]) < NHOOD:
    raise ValueError(
        f'SWD needs two image sets (N, H >= {NHOOD}, W >= {NHOOD}, C) of one shape, '
        f'got {real.shape} and {fake.shape}'
    )
  rng = np.random.default_rng(seed)
  levels = num_levels(min(real.shape[1:3]))
  sets = [laplacian_pyramid(images, levels) for images in (real, fake)]
  sizes = [level.shape[1] for level in sets[0]]
  desc = [[], []]
  for lod in range(levels):
    for which in (0, 1):
      ys, xs = _centres(rng, sets[which][lod].shape, nhoods_per_image)
      desc[which].append(descriptors(sets[which][lod], ys, xs))
  out = {
      f'swd_{s}': 1e3 * sliced_wasserstein(desc[0][lod], desc[1][lod], rng, **directions)
      for lod, s in enumerate(sizes)
  }
  return {**out, 'swd': float(np.mean(list(out.values())))}


# every level name the pyramid of an image up to 1024 x 1024 can have, and the mean
LOWER_IS_BETTER = ('swd',) + tuple(f'swd_{s}' for s in range(NHOOD, 1025))
