"""Image files on disk: find them, decode them, fit them to a square.

The one reader of users' image files (PNG, JPEG and whatever else Pillow opens): the `folder`
dataset and `experiments.evaluate --samples=DIR` both read through it, so a folder of PNGs means
the same pixels to both.

- `list_images(root)`: the image files under `root` (recursively, by suffix; hidden files and
  folders left out), as paths relative to `root`, sorted by their path components: the same
  folder always lists in the same order.
- `read_image(path, channels)`: uint8 (H, W, C). `channels=None` keeps the file's: 1 for
  greyscale modes ('1', 'L', 'LA', 'I', 'I;16', 'F'), 3 for everything else (alpha dropped,
  palettes expanded); 1 or 3 converts (Pillow's 'L' is ITU-R 601-2 luma: L = R*299/1000 +
  G*587/1000 + B*114/1000). An unreadable or truncated file raises `UnreadableImage`.
- `center_crop_resize(pixels, size)`: the largest centred square (odd leftovers go to the right
  and bottom), resized to `size` x `size` with Pillow's bicubic filter, which is antialiased
  when shrinking (its support widens with the scale factor): the resize clean-fid uses.
"""

import os

import numpy as np

IMAGE_SUFFIXES = (
    '.png', '.jpg', '.jpeg', '.bmp', '.gif', '.webp', '.tif', '.tiff', '.ppm', '.pgm', '.pbm'
)
GREY_MODES = ('1', 'L', 'LA', 'I', 'I;16', 'F')


class UnreadableImage(ValueError):
  """A file that has an image suffix but that Pillow cannot decode whole."""


def list_images(root: str) -> list[str]:
  """Paths (relative to `root`) of the image files under `root`, recursively, in a fixed order."""
  found = []
  for folder, dirs, files in os.walk(root):
    dirs[:] = sorted(d for d in dirs if not d.startswith('.'))  # hidden: caches, thumbnails
    for name in files:
      if name.lower().endswith(IMAGE_SUFFIXES) and not name.startswith('.'):
        found.append(os.path.relpath(os.path.join(folder, name), root))
  return sorted(found, key=lambda p: p.split(os.sep))


def file_channels(path: str) -> int:
  """1 for a greyscale file, 3 otherwise (reads the header only)."""
  from PIL import Image

  try:
    with Image.open(path) as image:
      return 1 if image.mode in GREY_MODES else 3
  except (OSError, ValueError, SyntaxError) as e:
    raise UnreadableImage(f'{path}: {e}') from None


def read_image(path: str, channels: int | None = None) -> np.ndarray:
  """uint8 (H, W, C) pixels of the file at `path`, C = `channels` or the file's own (docstring)."""
  from PIL import Image

  if channels not in (None, 1, 3):
    raise ValueError(f'channels={channels!r}: must be None, 1 or 3')
  try:
    with Image.open(path) as image:
      image.load()  # decodes the whole file here: a truncated one fails now, not later
      if channels is None:
        channels = 1 if image.mode in GREY_MODES else 3
      if image.mode in ('I', 'I;16', 'F'):  # high bit depth: scale to 8 bits, not clip
        wide = np.asarray(image, np.float64)
        top = 65535.0 if wide.max() > 255 else 255.0
        image = Image.fromarray(np.round(wide / top * 255).clip(0, 255).astype(np.uint8))
      image = image.convert('L' if channels == 1 else 'RGB')
      pixels = np.asarray(image, np.uint8)
  except (OSError, ValueError, SyntaxError) as e:
    raise UnreadableImage(f'{path}: {e}') from None
  return pixels.reshape(pixels.shape[0], pixels.shape[1], channels)


def center_crop_resize(pixels: np.ndarray, size: int) -> np.ndarray:
  """uint8 (size, size, C): the centred square of `pixels` (H, W, C), bicubic-resized (antialiased)."""
  from PIL import Image

  height, width, channels = pixels.shape
  side = min(height, width)
  top, left = (height - side) // 2, (width - side) // 2
  square = pixels[top : top + side, left : left + side]
  if side == size:
    return np.ascontiguousarray(square)
  image = Image.fromarray(square[..., 0] if channels == 1 else square)
  resized = np.asarray(image.resize((size, size), Image.BICUBIC), np.uint8)
  return resized.reshape(size, size, channels)
