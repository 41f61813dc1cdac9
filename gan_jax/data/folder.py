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
- ``max_memory_gb=4.0``: the most the decoded array may take in memory (N x S x S x C bytes,
  C counted as 3 where ``channels`` is None). Within it the folder is decoded once and held
  (`FolderSource`); beyond it, each batch is decoded from the files when it is loaded
  (`StreamedFolderSource`, the same pixels), the loop's prefetch (two calls ahead, gan_jax/
  loop.py) bounding what is decoded ahead.

Examples are the readable files in listing order; batches follow order.example_indices, a
pure function of (seed, step), so a resumed run sees the batches an uninterrupted one would.

One pass over the files (folder_cache.decode) finds the readable ones and the content hash;
its result (the decoded array, or for a streamed folder only the readable files' indices) is
cached in ``<data_dir>/.gan_jax_cache/`` (else ``~/.cache/gan_jax/folders/``) and reused while
the listing (every file's path, size and modification time) is the same. ``contents()``
(recorded in the run's data.json) names what was read: the folder, count, image size,
channels, classes, skipped files and the content hash.
"""

import os
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from gan_jax.checks import check_choice, check_number
from gan_jax.data import folder_cache as cache
from gan_jax.data import image_files
from gan_jax.data.source import ArraySource, ShapeOnlySource, Source, to_unit_range
from gan_jax.errors import FieldError, RunFailed
from gan_jax.progress import Counter

LABELS = ('none', 'subfolders')
GIB = 2**30


class _Read:
  """What both folder sources share: class names, the record of what was read."""

  classes: list
  record: dict

  @property
  def num_classes(self) -> int:
    return len(self.classes)

  def contents(self) -> dict:
    """What was read, for data.json (module docstring)."""
    return dict(self.record)


class FolderSource(_Read, ArraySource):
  """The decoded images of a folder (uint8 (N, S, S, C)) in memory, their labels, `classes`."""

  def __init__(self, images, labels, classes, record):
    super().__init__(images, labels)
    self.classes, self.record = list(classes), dict(record)


class StreamedFolderSource(_Read, Source):
  """A folder beyond data.max_memory_gb: the examples of `files` decoded at each `get`."""

  is_image = True

  def __init__(self, files, labels, classes, record, shape):
    self.files, self.labels = list(files), labels
    self.classes, self.record = list(classes), dict(record)
    self.shape, self.num_examples = tuple(shape), len(self.files)
    self._pool = None

  def _pixels(self, path):
    try:
      return cache.file_pixels(path, self.shape[-1], self.shape[0])
    except image_files.UnreadableImage as e:
      raise RunFailed(
          f'data: {cache.one_line(e)} (it was readable when the run started: restore it, or '
          'start a new run)'
      ) from None

  def get(self, indices: np.ndarray) -> np.ndarray:
    self._pool = self._pool or ThreadPoolExecutor(cache.WORKERS)
    paths = [self.files[int(i)] for i in indices]
    return to_unit_range(np.stack(list(self._pool.map(self._pixels, paths))))


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


def streams(count, image_size, channels, max_memory_gb) -> bool:
  """Whether `count` decoded images would take more than `max_memory_gb` (C = 3 if None)."""
  return count * image_size * image_size * (channels or 3) > max_memory_gb * GIB


def folder(
    data_dir: str | None = None,
    image_size: int = 64,
    channels: int | None = None,
    labels: str = 'none',
    strict: bool = False,
    max_memory_gb: float = 4.0,
) -> FolderSource | StreamedFolderSource:
  """The images under `data_dir` (module docstring): held in memory, or streamed from the
  files beyond `max_memory_gb`."""
  _check_fields(data_dir, image_size, channels, labels, strict, max_memory_gb)
  paths = image_files.list_images(data_dir)
  if not paths:
    raise FieldError(
        f'data_dir={data_dir!r}: no image files in it or below it '
        f'({", ".join(image_files.IMAGE_SUFFIXES)})'
    )
  classes, all_labels = _classes(data_dir, paths, labels)
  stream = streams(len(paths), image_size, channels, max_memory_gb)
  variant = f'{image_size}px-{channels or "auto"}ch-{labels}' + ('-streamed' * stream)
  where = cache.cache_paths(data_dir, variant)
  digest = cache.listing_digest(data_dir, paths)
  found = cache.load_cache(where, digest, with_images=not stream)
  if found is None:
    listing = (data_dir, paths, all_labels, classes, digest)
    found = _decode_and_cache(listing, image_size, channels, strict, stream, where)
  images, kept_labels, kept, record = found
  cache.refuse_if_strict(record['skipped'], strict)
  for reason in record['skipped'].values():
    print(f'warning: skipped an unreadable image: {cache.one_line(reason)}', file=sys.stderr)
  if not record['count']:
    raise FieldError(f'data_dir={data_dir!r}: none of its {len(paths)} image files is readable')
  if stream:
    files = [os.path.join(data_dir, paths[i]) for i in kept]
    shape = (image_size, image_size, record['channels'])
    return StreamedFolderSource(files, kept_labels, classes, _public(record), shape)
  return FolderSource(images, kept_labels, classes, _public(record))


def _decode_and_cache(listing, image_size, channels, strict, stream, where):
  """(images or None, labels, kept, record) of one pass over the files, written to the cache."""
  data_dir, paths, all_labels, classes, digest = listing
  progress = Counter(f'decoding the images of {data_dir}', len(paths))
  done = cache.decode(data_dir, paths, image_size, channels, strict, not stream, progress)
  labels = None if all_labels is None else all_labels[done.kept]
  shape = (len(done.kept), image_size, image_size, done.channels)
  record = {
      'folder': os.path.abspath(data_dir),
      'count': len(done.kept),
      'image_size': int(image_size),
      'channels': int(done.channels),
      'classes': classes,
      'streamed': bool(stream),
      'skipped': done.bad,
      'content_hash': cache.content_hash(done.image_digest, shape, labels),
      'listing': digest,
  }
  if len(done.kept):
    cache.save_cache(where, done.images, labels, done.kept, record)
  return done.images, labels, done.kept, record


def offline_source(image_size=64, channels=None, labels='none', **fields) -> ShapeOnlySource:
  """What benchmark.build_offline times where the folder is not here: the fields' shape (3
  channels unless `channels` says), 2 classes standing in for subfolders."""
  del fields
  return ShapeOnlySource((image_size, image_size, channels or 3), True, 2 * (labels != 'none'))


folder.offline_source = offline_source


def _public(record):
  """The record as data.json shows it: the listing digest left out, skipped files by name."""
  out = {k: v for k, v in record.items() if k != 'listing'}
  out['skipped'] = sorted(record['skipped'])
  return out
