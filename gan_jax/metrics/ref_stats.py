"""Reference statistics in the pytorch-fid / TTUR file format.

pytorch-fid (`--save-stats`, `save_fid_stats`) and TTUR (`precalc_stats_example.py`) write
`np.savez_compressed(path, mu=mu, sigma=sigma)`: mu (D,), the mean, and sigma (D, D), the
covariance (ddof=1) of the reference images' Inception pool3 features (D = 2048), and read them
back by those two keys. pytorch-fid's mu is float32 (the mean of float32 features), its sigma
float64 (np.cov); both are read here as float64.

- `load_ref_stats(path, dims=None) -> RefStats`: mu and sigma; 'features' (N, D), if the file
  holds them (the suite's own reference caches do), make KID and PR computable too; 'resize', if
  the file holds it (the suite writes it, other tools do not), is the resize its features were
  computed with. A missing key, a wrong shape or dtype, a NaN or a feature size other than
  `dims`: ValueError, one line naming the file.
- `save_ref_stats(path, mu, sigma, resize)`: mu and sigma in float64 and 'resize' (a string
  array, which pytorch-fid and TTUR ignore), compressed, written whole or not at all.
"""

import zipfile
from typing import NamedTuple

import numpy as np

from gan_jax.workdir import write_atomically


class RefStats(NamedTuple):
  path: str
  mu: np.ndarray  # float64 (D,)
  sigma: np.ndarray  # float64 (D, D)
  features: np.ndarray | None  # (N, D), or None: FID only
  resize: str | None  # the resize the statistics were computed with, where the file says


def _floats(path, name, array, shape):
  if not np.issubdtype(array.dtype, np.floating):
    raise ValueError(f'{path}: {name!r} has dtype {array.dtype}, expected floats')
  if array.shape != shape:
    raise ValueError(f'{path}: {name!r} has shape {array.shape}, expected {shape}')
  if not np.isfinite(array).all():
    raise ValueError(f'{path}: {name!r} holds NaN or infinite values')
  return array.astype(np.float64)


def load_ref_stats(path, dims=None) -> RefStats:
  """The statistics of the file at `path` (see the module docstring); `dims`: the feature size
  the statistics must have (2048 for the FID Inception), None: any."""
  try:
    f = np.load(path, allow_pickle=False)
    arrays = None if not hasattr(f, 'files') else {k: f[k] for k in f.files}  # None: .npy
  except (OSError, zipfile.BadZipFile, EOFError, ValueError) as e:
    raise ValueError(f'{path}: cannot be read as .npz: {e}') from None
  if arrays is None:
    raise ValueError(f'{path}: an array, not an .npz file of mu and sigma')
  f.close()
  missing = [k for k in ('mu', 'sigma') if k not in arrays]
  if missing:
    raise ValueError(
        f'{path}: no {" and no ".join(map(repr, missing))}; keys: {", ".join(arrays) or "none"}'
        " (pytorch-fid / TTUR files hold 'mu' and 'sigma')"
    )
  mu = arrays['mu']
  d = mu.shape[0] if mu.ndim == 1 else -1
  if dims is not None and d != dims:
    raise ValueError(f'{path}: mu has shape {mu.shape}, expected ({dims},)')
  mu = _floats(path, 'mu', mu, (d,))
  sigma = _floats(path, 'sigma', arrays['sigma'], (d, d))
  features = arrays.get('features')
  if features is not None:
    n = features.shape[0] if features.ndim == 2 else -1
    features = _floats(path, 'features', features, (n, d))
  resize = str(arrays['resize']) if 'resize' in arrays else None
  return RefStats(str(path), mu, sigma, features, resize)


def save_ref_stats(path, mu, sigma, resize) -> str:
  """Writes mu, sigma (float64) and `resize` to `path` (.npz) atomically; returns the path."""
  if not str(path).endswith('.npz'):
    raise ValueError(f'{path}: must end in .npz')
  mu, sigma = np.asarray(mu, np.float64), np.asarray(sigma, np.float64)
  if mu.ndim != 1 or sigma.shape != (len(mu), len(mu)):
    raise ValueError(f'mu {mu.shape} and sigma {sigma.shape}: expected (D,) and (D, D)')
  return write_atomically(
      path, lambda tmp: np.savez_compressed(tmp, mu=mu, sigma=sigma, resize=np.array(resize))
  )
