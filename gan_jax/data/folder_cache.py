"""The folder dataset's one pass over its files, and the cache of what it gave.

`decode(...)` reads every listed file once through image_files (centred square, antialiased
resize), in listing order, in chunks of CHUNK files decoded by a thread pool: it keeps the
pixels (or, for a folder streamed from its files, only hashes them), the indices of the
readable files and the reason each other one is unreadable.

The content hash of a folder's examples: 'sha256:' + sha256(hex sha256 of the images' bytes in
order, then repr of the array's shape, then the int64 labels' bytes). `array_content_hash`
computes it from an array, `decode` from the files one by one: the same value either way.

The cache: an .npz (images (absent when streamed), labels, kept, record) in
`<data_dir>/.gan_jax_cache/` or, where that cannot be written, in `~/.cache/gan_jax/folders/`,
named by the fields that shape it; it is used only while `listing_digest` (every listed file's
path, size and modification time) is the one it was made from.
"""

import dataclasses
import hashlib
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from gan_jax.data import image_files
from gan_jax.errors import FieldError
from gan_jax.workdir import write_atomically

CACHE_FOLDER = '.gan_jax_cache'
USER_CACHE = os.path.join(os.path.expanduser('~'), '.cache', 'gan_jax', 'folders')
FORMAT = 1  # of the cache file: a change of how files are decoded bumps it
CHUNK = 256  # files decoded at once: how far the pool may run ahead of the consumer
WORKERS = min(8, os.cpu_count() or 1)


@dataclasses.dataclass
class Decoded:
  images: np.ndarray | None  # uint8 (n, S, S, C) of the readable files; None when streamed
  kept: np.ndarray  # int64 (n,): their indices in the listing
  bad: dict  # {relative path: why it is unreadable}
  channels: int
  image_digest: str  # hex sha256 of the kept images' bytes, in order


def listing_digest(data_dir, paths) -> str:
  """sha256 of every listed file's relative path, size and modification time (ns)."""
  h = hashlib.sha256()
  for rel in paths:
    st = os.stat(os.path.join(data_dir, rel))
    h.update(f'{rel}\0{st.st_size}\0{st.st_mtime_ns}\n'.encode())
  return h.hexdigest()


def content_hash(image_digest, shape, labels) -> str:
  """'sha256:<hex>' of the examples (module docstring)."""
  h = hashlib.sha256(image_digest.encode())
  h.update(repr(tuple(int(d) for d in shape)).encode())
  if labels is not None:
    h.update(np.ascontiguousarray(labels, np.int64).data)
  return f'sha256:{h.hexdigest()}'


def array_content_hash(images, labels) -> str:
  """content_hash of in-memory images (n, S, S, C) and labels."""
  digest = hashlib.sha256(np.ascontiguousarray(images).data).hexdigest()
  return content_hash(digest, images.shape, labels)


def cache_paths(data_dir, variant) -> list[str]:
  """Where the cache of `variant` (a name of the fields that shape it) is: beside the data,
  then in the user's cache folder."""
  name = f'folder-{variant}-v{FORMAT}.npz'
  here = hashlib.sha256(os.path.abspath(data_dir).encode()).hexdigest()[:16]
  return [os.path.join(data_dir, CACHE_FOLDER, name), os.path.join(USER_CACHE, f'{here}-{name}')]


def load_cache(paths, digest, with_images):
  """(images or None, labels or None, kept, record) of the first cache file of `paths` made
  from the listing `digest` (`with_images`: one that holds them), or None."""
  for path in paths:
    try:
      with np.load(path) as f:
        record = json.loads(str(f['record']))
        if record['listing'] != digest:
          continue
        images = f['images'] if with_images else None
        labels = f['labels'] if record['classes'] else None
        return images, labels, f['kept'], record
    except (OSError, ValueError, KeyError):
      continue
  return None


def save_cache(paths, images, labels, kept, record):
  """Writes the cache at the first of `paths` that can be written (none: a warning line)."""
  arrays = {'kept': kept, 'record': np.asarray(json.dumps(record))}
  arrays['labels'] = np.zeros(0, np.int64) if labels is None else labels
  if images is not None:
    arrays['images'] = images
  for path in paths:
    try:
      return write_atomically(path, lambda tmp: np.savez(tmp, **arrays))
    except OSError:
      continue
  print(f'warning: could not cache the decoded images in {" or ".join(paths)}', file=sys.stderr)
  return None


def file_pixels(path, channels, image_size):
  """uint8 (S, S, C) of the file at `path`: read, centred square, resized (UnreadableImage)."""
  return image_files.center_crop_resize(image_files.read_image(path, channels), image_size)


def _pixels_or_reason(path, channels, image_size):
  try:
    return np.ascontiguousarray(file_pixels(path, channels, image_size))
  except image_files.UnreadableImage as e:
    return str(e)


def image_channels(data_dir, paths, channels, bad) -> int:
  """`channels`, or 3 if any readable file is colour, else 1 (headers only); unreadable files
  go into `bad` ({path: reason})."""
  if channels is not None:
    return channels
  found = 1
  for rel in paths:
    try:
      found = max(found, image_files.file_channels(os.path.join(data_dir, rel)))
    except image_files.UnreadableImage as e:
      bad[rel] = str(e)
  return found


def decode(data_dir, paths, image_size, channels, strict, keep=True, progress=None) -> Decoded:
  """One pass over the files of `paths` (module docstring); `strict`: the first unreadable
  file is a FieldError; `progress(done)` is told how far it got."""
  bad = {}
  channels = image_channels(data_dir, paths, channels, bad)
  refuse_if_strict(bad, strict)
  shape = (len(paths) if keep else 0, image_size, image_size, channels)
  images, kept, h = np.empty(shape, np.uint8), [], hashlib.sha256()
  read = lambda rel: _pixels_or_reason(os.path.join(data_dir, rel), channels, image_size)
  with ThreadPoolExecutor(WORKERS) as pool:
    for start in range(0, len(paths), CHUNK):
      chunk = paths[start : start + CHUNK]
      for i, (rel, pixels) in enumerate(zip(chunk, pool.map(read, chunk)), start):
        if isinstance(pixels, str):
          bad.setdefault(rel, pixels)
          refuse_if_strict(bad, strict)
        elif rel not in bad:
          h.update(pixels.data)
          if keep:
            images[len(kept)] = pixels
          kept.append(i)
      if progress:
        progress(start + len(chunk))
  kept_images = images[: len(kept)] if keep else None
  return Decoded(kept_images, np.asarray(kept, np.int64), bad, channels, h.hexdigest())


def one_line(text) -> str:
  return ' '.join(str(text).split())


def refuse_if_strict(bad, strict):
  """FieldError naming the first unreadable file of `bad`, if `strict`."""
  if strict and bad:
    reason = next(iter(bad.values()))
    raise FieldError(
        f'strict=True: unreadable image {one_line(reason)} '
        '(strict=False leaves such files out with a warning)'
    )
