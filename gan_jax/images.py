"""Sample writers: image grids (Pillow PNG) and 2D scatter plots (matplotlib Agg PNG).

- ``image_grid(images (N,H,W,C) in [-1,1], ncols=None, pad=2)`` -> uint8
  (rows*(H+pad)+pad, cols*(W+pad)+pad, C) with C in {1, 3}; near-square by default,
  white padding between and around the tiles.
- ``save_image_grid(images, path)``: the grid as PNG (grayscale when C=1).
- ``save_scatter(points (N,2), path, modes=None, title=None)``: scatter PNG, mixture
  means marked, equal aspect.  Uses ``matplotlib.figure.Figure`` (no pyplot state).
- ``save_samples(samples, path, modes=None, ncols=None)``: grid for 4-D arrays, scatter for (N, 2).
Parent folders are created.
"""

from __future__ import annotations

import math
import os

import numpy as np


def _parent(path) -> None:
  os.makedirs(os.path.dirname(os.path.abspath(os.fspath(path))), exist_ok=True)


def image_grid(images, ncols: int | None = None, pad: int = 2) -> np.ndarray:
  """Tile images in [-1, 1] into one uint8 array (see module docstring)."""
  images = np.asarray(images, dtype=np.float32)
  if images.ndim == 3:
    images = images[..., None]
  if images.ndim != 4 or images.shape[-1] not in (1, 3) or len(images) == 0:
    raise ValueError(f"expected (N, H, W, 1|3) images with N > 0, got shape {images.shape}")
  n, h, w, c = images.shape
  cols = ncols or math.ceil(math.sqrt(n))
  rows = math.ceil(n / cols)
  pixels = np.clip(np.round((np.nan_to_num(images) + 1.0) * 127.5), 0, 255).astype(np.uint8)
  grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), 255, dtype=np.uint8)
  for k in range(n):
    r, q = divmod(k, cols)
    y, x = pad + r * (h + pad), pad + q * (w + pad)
    grid[y : y + h, x : x + w] = pixels[k]
  return grid


def save_image_grid(images, path, ncols: int | None = None) -> None:
  """Write ``image_grid(images)`` to ``path`` as PNG."""
  from PIL import Image

  grid = image_grid(images, ncols)
  _parent(path)
  Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).save(os.fspath(path), format="PNG")


def save_scatter(points, path, modes=None, title: str | None = None) -> None:
  """Scatter PNG of 2D ``points`` with mixture ``modes`` (K, 2) marked."""
  from matplotlib.backends.backend_agg import FigureCanvasAgg
  from matplotlib.figure import Figure

  points = np.asarray(points, dtype=np.float32)
  if points.ndim != 2 or points.shape[1] != 2:
    raise ValueError(f"expected (N, 2) points, got shape {points.shape}")
  fig = Figure(figsize=(5, 5), dpi=100)
  FigureCanvasAgg(fig)
  ax = fig.add_subplot(1, 1, 1)
  ax.scatter(points[:, 0], points[:, 1], s=4, alpha=0.5, color="tab:blue", zorder=2)
  if modes is not None:
    modes = np.asarray(modes, dtype=np.float32).reshape(-1, 2)
    ax.scatter(
        modes[:, 0],
        modes[:, 1],
        s=80,
        marker="o",
        facecolors="none",
        edgecolors="tab:red",
        linewidths=1.0,
        zorder=3,
    )
    lim = float(np.abs(modes).max()) * 1.25 + 0.5
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
  ax.set_aspect("equal")
  if title:
    ax.set_title(title)
  _parent(path)
  fig.savefig(os.fspath(path), format="png")


def save_samples(samples, path, modes=None, ncols: int | None = None) -> None:
  """Grid PNG for (N, H, W, C) samples (`ncols` per row: one row per class for class rows),
  scatter PNG for (N, 2) points."""
  samples = np.asarray(samples)
  if samples.ndim == 4:
    save_image_grid(samples, path, ncols)
  elif samples.ndim == 2 and samples.shape[1] == 2:
    save_scatter(samples, path, modes=modes)
  else:
    raise ValueError(f"cannot save samples of shape {samples.shape}: expected (N,H,W,C) or (N,2)")
