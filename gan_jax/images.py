"""Sample writers: image grids (Pillow PNG) and 2D scatter plots (matplotlib Agg PNG).

- ``image_grid(images (N,H,W,C) in [-1,1], ncols=None, pad=2)`` -> uint8
  (rows*(H+pad)+pad, cols*(W+pad)+pad, C) with C in {1, 3}; near-square by default,
  white padding between and around the tiles.
- ``save_image_grid(images, path)``: the grid as PNG (grayscale when C=1).
- ``scatter_image(points (N,2), modes=None, title=None)`` -> uint8 (500, 500, 3): the
  scatter plot rendered to pixels, mixture means marked, equal aspect (matplotlib's Agg
  canvas on a ``matplotlib.figure.Figure``: no pyplot state).
- ``save_scatter(points, path, modes=None, title=None)``: that image as PNG.
- ``samples_image(samples, modes=None, ncols=None)``: the grid of 4-D arrays, the scatter of (N, 2), as
  uint8 (H, W, C) (what TensorBoard logs); ``save_samples(samples, path, modes=None, ncols=None)``: as PNG.
- ``to_pixels(images in [-1, 1])`` -> uint8 of the same shape: round((x + 1) * 127.5) clipped
  to [0, 255] (NaN as 0: mid-grey); ``save_png(pixels, path)`` writes one image.
- ``save_gif(frames (T, H, W, C) uint8, path, frame_ms=120)``: an animated GIF that loops
  forever (Pillow; each frame quantized to 256 colours, greys exactly).
- ``walk_frames(rows (R, T, H, W, C) in [-1, 1], ncols=None)``: the frames of walks, frame t
  the grid of every row's t-th image, forward then back (t = 0 .. T-1 .. 1: a seamless loop).
- ``save_image_folder(images, folder, labels=None)``: one PNG per image, ``00000.png`` ...
  (``00000_y7.png`` with labels), written whole or not at all: into a temporary folder beside
  ``folder``, then renamed onto it; an existing ``folder`` must be empty (OSError otherwise).
Parent folders are created.
"""

from __future__ import annotations

import math
import os

import numpy as np

from gan_jax.workdir import write_folder_atomically


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
  pixels = to_pixels(images)
  grid = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), 255, dtype=np.uint8)
  for k in range(n):
    r, q = divmod(k, cols)
    y, x = pad + r * (h + pad), pad + q * (w + pad)
    grid[y : y + h, x : x + w] = pixels[k]
  return grid


def to_pixels(images) -> np.ndarray:
  """uint8 pixels of images in [-1, 1] (see module docstring)."""
  images = np.asarray(images, dtype=np.float32)
  return np.clip(np.round((np.nan_to_num(images) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def save_gif(frames, path, frame_ms: int = 120) -> None:
  """Write uint8 (T, H, W, 1|3) ``frames`` to ``path`` as an animated GIF looping forever."""
  from PIL import Image

  frames = np.asarray(frames, dtype=np.uint8)
  if frames.ndim != 4 or frames.shape[-1] not in (1, 3) or len(frames) == 0:
    raise ValueError(f"expected (T, H, W, 1|3) frames with T > 0, got shape {frames.shape}")
  _parent(path)
  first, *rest = [Image.fromarray(f[..., 0] if f.shape[-1] == 1 else f) for f in frames]
  first.save(
      os.fspath(path),
      format="GIF",
      save_all=True,
      append_images=rest,
      duration=frame_ms,
      loop=0,
  )


def walk_frames(rows, ncols: int | None = None) -> np.ndarray:
  """uint8 frames of (R, T, H, W, C) walks (see module docstring)."""
  rows = np.asarray(rows)
  order = list(range(rows.shape[1])) + list(range(rows.shape[1] - 2, 0, -1))
  return np.stack([image_grid(rows[:, t], ncols) for t in order])


def save_image_folder(images, folder, labels=None) -> None:
  """One PNG per image in ``folder``, atomically (gan_jax.workdir.write_folder_atomically)."""
  pixels = to_pixels(images)
  if pixels.ndim != 4 or pixels.shape[-1] not in (1, 3):
    raise ValueError(f"expected (N, H, W, 1|3) images, got shape {pixels.shape}")
  digits = max(5, len(str(len(pixels) - 1)))

  def fill(tmp):
    for i, image in enumerate(pixels):
      tag = "" if labels is None else f"_y{int(labels[i])}"
      save_png(image, os.path.join(tmp, f"{i:0{digits}d}{tag}.png"))

  write_folder_atomically(folder, fill)


def save_png(pixels, path) -> None:
  """Write uint8 (H, W, 1|3) ``pixels`` to ``path`` as PNG (grayscale when 1 channel)."""
  from PIL import Image

  _parent(path)
  Image.fromarray(pixels[..., 0] if pixels.shape[-1] == 1 else pixels).save(
      os.fspath(path), format="PNG"
  )


def save_image_grid(images, path, ncols: int | None = None) -> None:
  """Write ``image_grid(images)`` to ``path`` as PNG."""
  save_png(image_grid(images, ncols), path)


def scatter_image(points, modes=None, title: str | None = None) -> np.ndarray:
  """Scatter plot of 2D ``points`` with mixture ``modes`` (K, 2) marked, as uint8 RGB pixels."""
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
  canvas = fig.canvas
  canvas.draw()
  return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def save_scatter(points, path, modes=None, title: str | None = None) -> None:
  """Scatter PNG of 2D ``points`` with mixture ``modes`` (K, 2) marked."""
  save_png(scatter_image(points, modes, title), path)


def samples_image(samples, modes=None, ncols: int | None = None) -> np.ndarray:
  """uint8 (H, W, C): the grid of (N, H, W, C) samples (`ncols` per row: one row per class for
  class rows), the scatter plot of (N, 2) points."""
  samples = np.asarray(samples)
  if samples.ndim == 4:
    return image_grid(samples, ncols)
  if samples.ndim == 2 and samples.shape[1] == 2:
    return scatter_image(samples, modes=modes)
  raise ValueError(f"cannot save samples of shape {samples.shape}: expected (N,H,W,C) or (N,2)")


def save_samples(samples, path, modes=None, ncols: int | None = None) -> None:
  """Grid PNG for (N, H, W, C) samples, scatter PNG for (N, 2) points."""
  save_png(samples_image(samples, modes, ncols), path)
