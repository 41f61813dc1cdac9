"""``folder``: the user's own images under ``data_dir`` (PNG, JPEG, whatever Pillow opens).

Fields:
- ``data_dir`` (required): the folder, read recursively (image_files.list_images: by suffix,
  hidden files and folders left out, in a fixed order).
- ``image_size=64``: each image's centred square, resized to ``image_size`` x ``image_size``
  with Pillow's antialiased bicubic filter (image_files.center_crop_resize).
- ``channels=None``: 1 (grey) or 3 (RGB); None: 3 if any file is colour, else 1.
- ``labels='none'``, or ``'subfolders'``: the class of an image is its first-level subfolder,
  class k the k-th of their sorted names (at least two; an image directly in ``data_dir`` is
  an error then).
- ``strict=False``: an unreadable or truncated file gets one warning line and is left out;
  True: it is an error.
- ``max_memory_gb=4.0``: the most the decoded array may take; a folder beyond it is an error
  that says what it would take (the whole array is held in memory).

Examples are the readable files in listing order; batches follow order.example_indices, a
pure function of (seed, step), so a resumed run sees the batches an uninterrupted one would.

The decoded array is cached (uint8, .npz) in ``<data_dir>/.gan_jax_cache/`` or, where that
cannot be written, in ``~/.cache/gan_jax/folders/``, one file per (image_size, channels,
labels), and reused while the listing (every file's path, size and modification time) is
the same; otherwise the folder is decoded again. ``contents()`` (recorded in the run's
data.json) names what was read: the count, the image size and channels, the classes and the
sha256 of the decoded images and labels.
"""

import hashlib
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from gan_jax.checks import check_choice, check_number
from gan_jax.data import image_files
from gan_jax.data.source import ArraySource
from gan_jax.errors import FieldError
from gan_jax.progress import Counter
from gan_jax.workdir import write_atomically

LABELS = ('none', 'subfolders')
CACHE_FOLDER = '.gan_jax_cache'
USER_CACHE = os.path.join(os.path.expanduser('~'), '.cache', 'gan_jax', 'folders')
FORMAT = 1  # of the cache file: a change of how files are decoded bumps it
GIB = 2**30


class FolderSource(ArraySource):
  """The decoded images of a folder (uint8 (N, S, S, C)), their labels and `classes` (names)."""

  def __init__(self, images, labels, classes, record):
    super().__init__(images, labels)
    self.classes = list(classes)
    self.record = dict(record)

  @property
  def num_classes(self) -> int:
    return len(self.classes)

  def contents(self) -> dict:
    """What was read, for data.json: folder, count, image_size, channels, classes, skipped
    files, content_hash (sha256 of the decoded images and labels)."""
    return dict(self.record)


def _check_fields(data_dir, image_size, channels, labels, strict, max_memory_gb):
  if not data_dir:
    raise ValueError(
        "dataset 'folder' needs data.data_dir: the folder of your images "
        '(--config.data.data_dir=DIR)'
    )
  if not os.path.isdir(data_dir):
    raise FieldError(f'data_dir={data_dir!r}: no such folder')
  check_number('image_size', image_size, integer=True, low=1)
  if channels not in (None, 1, 3) or isinstance(channels, bool):
    raise FieldError(f'channels={channels!r}: allowed: None (from the files), 1, 3')
  check_choice('labels', labels, LABELS)
  if not isinstance(strict, bool):
    raise FieldError(f'strict={strict!r}: must be true or false')
  check_number('max_memory_gb', max_memory_gb, low=0, low_open=True)


def _classes(data_dir, paths, labels):
  """(class names, int64 label per path) for labels='subfolders'; ([], None) for 'none'."""
  if labels == 'none':
    return [], None
  loose = [p for p in paths if len(p.split(os.sep)) == 1]
  if loose:
    raise FieldError(
        f"labels='subfolders': {len(loose)} images directly in {data_dir} (e.g. {loose[0]}); "
        'put each image in the subfolder of its class'
    )
  first = [p.split(os.sep)[0] for p in paths]
  classes = sorted(set(first))
  if len(classes) < 2:
    raise FieldError(
        f"labels='subfolders': {data_dir} has {len(classes)} class subfolder "
        f'({", ".join(classes)}); a conditional model needs at least 2'
    )
  index = {name: k for k, name in enumerate(classes)}
  return classes, np.asarray([index[f] for f in first], np.int64)


def listing_digest(data_dir, paths) -> str:
  """sha256 of every listed file's relative path, size and modification time (ns)."""
  h = hashlib.sha256()
  for rel in paths:
    st = os.stat(os.path.join(data_dir, rel))
    h.update(f'{rel}\0{st.st_size}\0{st.st_mtime_ns}\n'.encode())
  return h.hexdigest()


def content_hash(images, labels) -> str:
  """'sha256:<hex>' of the decoded images (with their shape) and labels."""
  h = hashlib.sha256(repr(images.shape).encode())
  h.update(np.ascontiguousarray(images).data)
  if labels is not None:
    h.update(np.ascontiguousarray(labels, np.int64).data)
  return f'sha256:{h.hexdigest()}'


def _cache_name(data_dir, image_size, channels, labels):
  return f'folder-{image_size}px-{channels or "auto"}ch-{labels}-v{FORMAT}.npz'


def cache_paths(data_dir, image_size, channels, labels) -> list[str]:
  """Where the decoded array is cached: beside the data, then the user's cache folder."""
  name = _cache_name(data_dir, image_size, channels, labels)
  here = hashlib.sha256(os.path.abspath(data_dir).encode()).hexdigest()[:16]
  return [
      os.path.join(data_dir, CACHE_FOLDER, name),
      os.path.join(USER_CACHE, f'{here}-{name}'),
  ]


def _load_cache(paths, digest):
  """(images, labels, record) of the first cache file of `paths` made from the listing
  `digest`, or None."""
  for path in paths:
    try:
      with np.load(path) as f:
        record = json.loads(str(f['record']))
        if record['listing'] != digest:
          continue
        labels = f['labels'] if record['classes'] else None
        return f['images'], labels, record
    except (OSError, ValueError, KeyError):
      continue
  return None


def _save_cache(paths, images, labels, record):
  """Writes the cache file at the first of `paths` that can be written (none: a warning)."""
  text = np.asarray(json.dumps(record))
  labels = np.zeros(0, np.int64) if labels is None else labels
  write = lambda tmp: np.savez(tmp, images=images, labels=labels, record=text)
  for path in paths:
    try:
      write_atomically(path, write)
      return path
    except OSError:
      continue
  print(f'warning: could not cache the decoded images in {" or ".join(paths)}', file=sys.stderr)
  return None


def _image_channels(data_dir, paths, channels, bad):
  """`channels`, or 3 if any readable file is colour, else 1 (headers only); unreadable
  files go into `bad` ({path: reason})."""
  if channels is not None:
    return channels
  found = 1
  for rel in paths:
    try:
      found = max(found, image_files.file_channels(os.path.join(data_dir, rel)))
    except image_files.UnreadableImage as e:
      bad[rel] = str(e)
  return found


def _decode_one(full_path, channels, image_size):
  try:
    return image_files.center_crop_resize(image_files.read_image(full_path, channels), image_size)
  except image_files.UnreadableImage as e:
    return str(e)


def decode(data_dir, paths, image_size, channels, strict, progress=None):
  """(uint8 images (n, S, S, C) of the readable files in `paths` order, kept indices,
  {path: reason} of the unreadable ones); `strict`: the first unreadable file is an error."""
  bad = {}
  channels = _image_channels(data_dir, paths, channels, bad)
  _refuse_if_strict(data_dir, bad, strict)
  images = np.empty((len(paths), image_size, image_size, channels), np.uint8)
  kept = []
  full = [os.path.join(data_dir, rel) for rel in paths]
  with ThreadPoolExecutor(min(8, os.cpu_count() or 1)) as pool:
    decoded = pool.map(lambda p: _decode_one(p, channels, image_size), full)
    for i, (rel, pixels) in enumerate(zip(paths, decoded)):
      if isinstance(pixels, str):
        bad.setdefault(rel, pixels)
        _refuse_if_strict(data_dir, bad, strict)
      elif rel not in bad:
        images[len(kept)] = pixels
        kept.append(i)
      if progress:
        progress(i + 1)
  return images[: len(kept)], np.asarray(kept, np.int64), bad


def _refuse_if_strict(data_dir, bad, strict):
  if strict and bad:
    rel, reason = next(iter(bad.items()))
    raise FieldError(
        f'strict=True: unreadable image {_one_line(reason)} '
        f'(strict=False leaves such files out with a warning)'
    )


def _one_line(text):
  return ' '.join(str(text).split())


def _check_memory(data_dir, count, image_size, channels, max_memory_gb):
  """FieldError if `count` decoded images would take more than `max_memory_gb`."""
  need = count * image_size * image_size * (channels or 3)
  if need > max_memory_gb * GIB:
    raise FieldError(
        f'max_memory_gb={max_memory_gb}: the {count} images of {data_dir} take '
        f'{need / GIB:.3g} GiB decoded at {image_size}x{image_size}x{channels or 3} and are held '
        f'in memory; raise data.max_memory_gb to at least {need / GIB:.3g} if the machine has '
        'it, or lower data.image_size'
    )


def folder(
    data_dir: str | None = None,
    image_size: int = 64,
    channels: int | None = None,
    labels: str = 'none',
    strict: bool = False,
    max_memory_gb: float = 4.0,
) -> FolderSource:
  """The images under `data_dir`, decoded (or read from the cache), as a FolderSource."""
  _check_fields(data_dir, image_size, channels, labels, strict, max_memory_gb)
  paths = image_files.list_images(data_dir)
  if not paths:
    raise FieldError(
        f'data_dir={data_dir!r}: no image files in it or below it '
        f'({", ".join(image_files.IMAGE_SUFFIXES)})'
    )
  classes, all_labels = _classes(data_dir, paths, labels)
  _check_memory(data_dir, len(paths), image_size, channels, max_memory_gb)
  digest = listing_digest(data_dir, paths)
  where = cache_paths(data_dir, image_size, channels, labels)
  cached = _load_cache(where, digest)
  if cached is None:
    listing = (data_dir, paths, all_labels, classes, digest)
    cached = _decode_and_cache(listing, image_size, channels, strict, where)
  images, kept_labels, record = cached
  _refuse_if_strict(data_dir, record['skipped'], strict)
  for reason in record['skipped'].values():
    print(f'warning: skipped an unreadable image: {_one_line(reason)}', file=sys.stderr)
  if not len(images):
    raise FieldError(f'data_dir={data_dir!r}: none of its {len(paths)} image files is readable')
  return FolderSource(images, kept_labels, classes, _public(record))


def _decode_and_cache(listing, image_size, channels, strict, where):
  """(images, labels, record) of the folder decoded now, and written to the cache."""
  data_dir, paths, all_labels, classes, digest = listing
  progress = Counter(f'decoding the images of {data_dir}', len(paths))
  images, kept, bad = decode(data_dir, paths, image_size, channels, strict, progress)
  labels = None if all_labels is None else all_labels[kept]
  record = {
      'folder': os.path.abspath(data_dir),
      'count': int(len(images)),
      'image_size': int(image_size),
      'channels': int(images.shape[-1]),
      'classes': classes,
      'skipped': bad,
      'content_hash': content_hash(images, labels),
      'listing': digest,
  }
  if len(images):
    _save_cache(where, images, labels, record)
  return images, labels, record


def _public(record):
  """The cache record as data.json shows it (the listing digest left out)."""
  out = {k: v for k, v in record.items() if k != 'listing'}
  out['skipped'] = sorted(record['skipped'])
  return out
