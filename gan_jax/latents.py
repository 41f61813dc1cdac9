"""Latent-space maths for sampling: the truncation trick and interpolation paths. Pure functions.

- `truncate(z, psi, seed)`: the truncation trick for Gaussian z (BigGAN, Brock et al. 2019,
  section 3.1), by resampling: every coordinate with |z_i| > psi is replaced by a fresh
  N(0, 1) draw, again and again, until |z_i| <= psi. Each coordinate then follows the standard
  normal truncated to [-psi, psi]; coordinates already inside keep their value, so a psi above
  every |z_i| returns z unchanged. The redraws come from numpy's default generator seeded with
  `seed` mod 2^64, round after round, the coordinates still outside in C order: the result is
  a function of (z, psi, seed) alone. A redraw lands inside with probability P(|N(0,1)| <= psi)
  (about 0.8 psi for small psi): about n / (0.8 psi) normals for n coordinates.
- `lerp(z0, z1, t) = (1 - t) z0 + t z1`.
- `slerp(z0, z1, t) = sin((1 - t) W) / sin W * z0 + sin(t W) / sin W * z1`, W the angle
  between z0 and z1 (arccos of their cosine): the great-circle walk (Shoemake 1985; White 2016,
  "Sampling Generative Networks"), which keeps |z| constant when |z0| = |z1| (a Gaussian z in
  many dimensions lies near the sphere of radius sqrt(d), where a straight line cuts inside).
  Where sin W < 1e-6 (z0, z1 colinear: parallel or opposite) it is lerp.
- `walk(z0, z1, steps, mode)`: (P, steps, d) of `steps` points t = 0, 1/(steps-1), ..., 1 from
  each z0[p] to z1[p] by lerp or slerp; the first is z0, the last z1.
"""

import numpy as np

MODES = ('lerp', 'slerp')


def check_truncation(psi) -> float:
  """`psi` as a float; ValueError unless psi > 0."""
  psi = float(psi)
  if not psi > 0:
    raise ValueError(f'must be > 0, got {psi}')
  return psi


def truncate(z, psi, seed: int) -> np.ndarray:
  """z with every coordinate outside [-psi, psi] redrawn until inside (see module docstring)."""
  psi = check_truncation(psi)
  z = np.array(z)
  rng = np.random.default_rng(seed % 2**64)  # any int seed, negative ones too
  outside = np.flatnonzero(np.abs(z) > psi)
  while outside.size:
    z.flat[outside] = rng.standard_normal(outside.size).astype(z.dtype)
    outside = outside[np.abs(z.flat[outside]) > psi]
  return z


def lerp(z0, z1, t):
  """(1 - t) z0 + t z1; t broadcasts against z0[..., :1]."""
  z0, z1, t = np.asarray(z0), np.asarray(z1), np.asarray(t)
  return ((1 - t) * z0 + t * z1).astype(np.result_type(z0, z1))


def slerp(z0, z1, t, eps: float = 1e-6):
  """The great-circle walk from z0 to z1 over their last axis (module docstring); lerp where
  z0 and z1 are colinear (sin W < eps). t broadcasts against z0[..., :1]."""
  z0, z1 = np.asarray(z0), np.asarray(z1)
  a, b, t = z0.astype(np.float64), z1.astype(np.float64), np.asarray(t, np.float64)
  norms = np.linalg.norm(a, axis=-1, keepdims=True) * np.linalg.norm(b, axis=-1, keepdims=True)
  cos = np.sum(a * b, axis=-1, keepdims=True) / np.maximum(norms, 1e-300)
  omega = np.arccos(np.clip(cos, -1.0, 1.0))
  sin = np.sin(omega)
  colinear = sin < eps
  safe = np.where(colinear, 1.0, sin)
  arc = (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / safe
  out = np.where(colinear, (1 - t) * a + t * b, arc)
  return out.astype(np.result_type(z0, z1))


def walk(z0, z1, steps: int, mode: str = 'slerp'):
  """(P, steps, d): `steps` points from z0[p] to z1[p] ((P, d) each) by lerp or slerp."""
  if mode not in MODES:
    raise ValueError(f'{mode!r}: allowed: {", ".join(MODES)}')
  if steps < 2:
    raise ValueError(f'steps={steps}: must be >= 2 (the two ends)')
  z0, z1 = np.asarray(z0)[:, None, :], np.asarray(z1)[:, None, :]
  t = np.linspace(0.0, 1.0, steps)[:, None]
  path = (lerp if mode == 'lerp' else slerp)(z0, z1, t)
  path[:, 0], path[:, -1] = z0[:, 0], z1[:, 0]  # the ends exactly, not up to rounding
  return path
