"""The user's own translation data: ``aligned_folder`` (pix2pix) and ``unaligned_folder``
(CycleGAN), in the layouts of the reference (junyanz/pytorch-CycleGAN-and-pix2pix).

Layouts under ``data_dir``:

  aligned_folder    train/ and test/: each file one pair, A and B side by side (A the left half
                    of the width, B the right; an odd width is an error); ``direction='b2a'``
                    swaps them (the reference's --direction BtoA)
  unaligned_folder  trainA/, trainB/, testA/, testB/: the images of each domain, no pairs

Files are found and decoded by ``image_files`` (recursively, by suffix, hidden ones left out, in
a fixed order; PNG, JPEG, whatever Pillow opens; ``channels`` 1 or 3 converts, None takes 3 if any
file of the dataset's folders is colour, else 1). Preprocessing, as the reference's
``resize_and_crop`` with ``load_size`` L and crop ``image_size`` S:

- train: each image (each half of an aligned file) resized to L x L (Pillow's bicubic filter,
  antialiased when shrinking; the aspect ratio is not kept, as the reference's Resize([L, L])),
  then at each batch a random S x S crop and, with ``flip``, a horizontal flip with probability
  1/2; an aligned pair gets one crop and one flip for both halves, so it stays aligned;
- test: resized to S x S (the reference's test options set L = S: nothing to crop), no flip.

L = ``load_size``, or round(S * 286 / 256) where it is 0 (the reference's 286 and 256).

Crops and flips are a pure function of (seed, step, row): for global batch ``step`` of b rows,
rng = numpy.random.default_rng([seed, step, AUGMENT_STREAM]) draws tops, then lefts (integers in
[0, L - S], b each), then b uniforms u (flip where u < 1/2); row j of the batch takes the j-th
of each. Examples follow ``order.example_indices`` with ``seed`` (aligned) or, as
``unpaired.UnpairedSource``, A with 2 seed and B with 2 seed + 1 (their crops too): a resumed run
sees the batches an uninterrupted one would. ``get`` / ``get_batch`` / ``domain`` (samples,
metrics, ``experiments.translate --split``) give the centred S x S crop, unflipped (the whole
image on the test split).

Batches: ``{'a', 'b'}`` float32 (b, S, S, C) in [-1, 1] (aligned; no labels) or the same two
domains in independent orders (unaligned). ``contents()`` (the run's data.json) names the folder,
counts, sizes, channels and a SHA-256 of each side's decoded images and of both (a resumed run
whose folder changed says so, as the ``folder`` dataset's).
"""

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from gan_jax.checks import check_choice, check_number
from gan_jax.data import folder_cache, image_files
from gan_jax.data.edges2mnist import SPLITS, PairedSource
from gan_jax.data.order import example_indices, local_slice
from gan_jax.data.source import to_unit_range
from gan_jax.data.unpaired import UnpairedSource
from gan_jax.errors import FieldError
from gan_jax.progress import Counter

REFERENCE_LOAD, REFERENCE_CROP = 286, 256  # the reference's --load_size, --crop_size
AUGMENT_STREAM = 286  # the crop/flip draws' third entropy word (the order's rng has two)
DIRECTIONS = ('a2b', 'b2a')


def derived_load_size(image_size: int, load_size: int = 0) -> int:
  """`load_size`, or round(image_size * 286 / 256) where it is 0."""
  return load_size or int(round(image_size * REFERENCE_LOAD / REFERENCE_CROP))


def crop_draws(seed, step, batch_size, room, flip) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """(tops, lefts, flips) of the `batch_size` rows of global batch `step`, crops in [0, room]
  (module docstring); flips all False without `flip`."""
  rng = np.random.default_rng([seed, step, AUGMENT_STREAM])
  tops = rng.integers(0, room + 1, size=batch_size)
  lefts = rng.integers(0, room + 1, size=batch_size)
  flips = rng.random(batch_size) < 0.5
  return tops, lefts, flips & bool(flip)


def crop_flip(images, tops, lefts, flips, size) -> np.ndarray:
  """uint8 (B, size, size, C): image i cropped at (tops[i], lefts[i]), mirrored where flips[i]."""
  out = []
  for image, top, left, flip in zip(images, tops, lefts, flips):
    crop = image[top : top + size, left : left + size]
    out.append(crop[:, ::-1] if flip else crop)
  return np.stack(out) if out else np.zeros((0, size, size, images.shape[-1]), np.uint8)


def resized(pixels, size) -> np.ndarray:
  """uint8 (size, size, C): `pixels` (H, W, C) resized by Pillow's bicubic filter (antialiased
  when shrinking), the aspect ratio not kept (the reference's Resize([size, size]))."""
  from PIL import Image  # pylint: disable=g-import-not-at-top

  height, width, channels = pixels.shape
  if (height, width) == (size, size):
    return np.ascontiguousarray(pixels)
  image = Image.fromarray(pixels[..., 0] if channels == 1 else pixels)
  return np.asarray(image.resize((size, size), Image.BICUBIC), np.uint8).reshape(size, size, -1)


class _Crops:
  """What both folder sources share: S, L, flip; the centred view; a batch's crops. Mixed in
  before the source class, whose __init__(a, b) it calls."""

  size: int
  room: int  # L - S
  flip: bool
  record: dict

  def __init__(self, a, b, size, flip, record):
    super().__init__(a, b)
    self.size, self.flip, self.record = size, bool(flip), dict(record)
    self.room = record['load_size'] - size if record['split'] == 'train' else 0
    self.shape = self.input_shape = (size, size, a.shape[-1])

  def centre(self, images):
    """The centred size x size crop of (N, L, L, C) images."""
    top = self.room // 2
    return images[:, top : top + self.size, top : top + self.size]

  def augmented(self, images, seed, step, batch_size, rows):
    """`images` (this process's `rows` of global batch `step`) cropped and flipped."""
    draws = crop_draws(seed, step, batch_size, self.room, self.flip)
    return crop_flip(images, *(d[rows] for d in draws), self.size)

  def get(self, indices: np.ndarray) -> np.ndarray:
    return to_unit_range(self.centre(self.b[indices]))

  def contents(self) -> dict:
    return dict(self.record)


class AlignedFolderSource(_Crops, PairedSource):
  """Aligned pairs held at the load size: batches {'a', 'b'} with one crop and flip per pair."""

  def get_batch(self, indices: np.ndarray) -> dict:
    return {'a': to_unit_range(self.centre(self.a[indices])), 'b': self.get(indices)}

  def batch(self, seed, step, batch_size, process_index=0, process_count=1) -> dict:
    rows = local_slice(batch_size, process_index, process_count)
    idx = example_indices(seed, step, batch_size, self.num_examples)[rows]
    pair = np.concatenate([self.a[idx], self.b[idx]], axis=-1)  # one crop and flip for both
    pair = self.augmented(pair, seed, step, batch_size, rows)
    c = self.a.shape[-1]
    return {'a': to_unit_range(pair[..., :c]), 'b': to_unit_range(pair[..., c:])}


class UnalignedFolderSource(_Crops, UnpairedSource):
  """Two domains held at the load size: batches {'a', 'b'}, each with crops of its own."""

  def domain(self, name: str, n: int | None = None):
    images, labels = super().domain(name, n)
    return self.centre(images), labels

  def batch(self, seed, step, batch_size, process_index=0, process_count=1) -> dict:
    rows = local_slice(batch_size, process_index, process_count)
    out = {}
    for name, images, domain_seed in (('a', self.a, 2 * seed), ('b', self.b, 2 * seed + 1)):
      idx = example_indices(domain_seed, step, batch_size, len(images))[rows]
      crops = self.augmented(images[idx], domain_seed, step, batch_size, rows)
      out[name] = to_unit_range(crops)
    return out


def _check_fields(data_dir, split, image_size, load_size, flip, channels):
  if not data_dir:
    raise FieldError(
        'data_dir=None: the folder of your images is needed (--config.data.data_dir=DIR)'
    )
  if not os.path.isdir(data_dir):
    raise FieldError(f'data_dir={data_dir!r}: no such folder')
  check_choice('split', split, SPLITS)
  check_number('image_size', image_size, integer=True, low=1)
  check_number('load_size', load_size, integer=True, low=0)
  if load_size and load_size < image_size:
    raise FieldError(f'load_size={load_size}: less than image_size={image_size} (0: derived)')
  if not isinstance(flip, bool):
    raise FieldError(f'flip={flip!r}: must be true or false')
  if channels not in (None, 1, 3) or isinstance(channels, bool):
    raise FieldError(f'channels={channels!r}: allowed: None (from the files), 1, 3')


def _subfolders(data_dir, names, layout):
  """{name: its image paths}: FieldError for a missing subfolder or one without images."""
  found = {}
  for name in names:
    path = os.path.join(data_dir, name)
    if not os.path.isdir(path):
      raise FieldError(f'data_dir={data_dir!r}: no subfolder {name}/ ({layout})')
    files = image_files.list_images(path)
    if not files:
      suffixes = ', '.join(image_files.IMAGE_SUFFIXES)
      raise FieldError(f'data_dir={data_dir!r}: no image files in {name}/ ({suffixes})')
    found[name] = [os.path.join(path, f) for f in files]
  return found


def _channels(data_dir, names, channels) -> int:
  """`channels`, or 3 if any image of the `names` subfolders that exist is colour, else 1."""
  if channels is not None:
    return channels
  folders = [n for n in names if os.path.isdir(os.path.join(data_dir, n))]
  paths = [p for files in _subfolders(data_dir, folders, '').values() for p in files]
  return max(_read(image_files.file_channels, p) for p in paths)


def _read(reader, path, *args):
  try:
    return reader(path, *args)
  except image_files.UnreadableImage as e:
    raise FieldError(f'data_dir: unreadable image {folder_cache.one_line(e)}') from None


def _decode_all(label, paths, decode_one) -> list:
  """[decode_one(path) for path in paths], on a thread pool, with a progress line if long."""
  progress, out = Counter(f'reading {label}', len(paths)), []
  with ThreadPoolExecutor(folder_cache.WORKERS) as pool:
    for start in range(0, len(paths), folder_cache.CHUNK):
      out.extend(pool.map(decode_one, paths[start : start + folder_cache.CHUNK]))
      progress(len(out))
  return out


def _halves(path, channels, side):
  """(A, B) of one aligned file: the left and right halves, each resized to side x side."""
  pixels = _read(image_files.read_image, path, channels)
  width = pixels.shape[1]
  if width % 2:
    raise FieldError(
        f'data_dir: {path} is {width} pixels wide, an odd width: an aligned file holds A and B '
        'side by side, each half of it'
    )
  return resized(pixels[:, : width // 2], side), resized(pixels[:, width // 2 :], side)


def _record(data_dir, split, image_size, side, channels, a, b) -> dict:
  """What was read (data.json): counts and hashes per side; `count`, `content_hash` of both (the
  keys by which a resumed run sees that its data changed, gan_jax/workdir.py)."""
  out = {'folder': os.path.abspath(data_dir), 'split': split, 'image_size': int(image_size)}
  out.update(load_size=int(side), channels=int(channels), count=len(a) + len(b))
  for name, images in (('a', a), ('b', b)):
    out[f'count_{name}'] = len(images)
    out[f'content_hash_{name}'] = folder_cache.array_content_hash(images, None)
  both = (out['content_hash_a'] + out['content_hash_b']).encode()
  out['content_hash'] = f'sha256:{hashlib.sha256(both).hexdigest()}'
  return out


def aligned_folder(
    data_dir: str | None = None,
    split: str = 'train',
    image_size: int = 256,
    load_size: int = 0,
    flip: bool = True,
    channels: int | None = None,
    direction: str = 'a2b',
) -> AlignedFolderSource:
  """The A|B pairs of `data_dir`/`split`/ (module docstring)."""
  _check_fields(data_dir, split, image_size, load_size, flip, channels)
  check_choice('direction', direction, DIRECTIONS)
  layout = 'an aligned dataset has train/ and test/, each file A and B side by side'
  paths = _subfolders(data_dir, [split], layout)[split]
  channels = _channels(data_dir, SPLITS, channels)
  side = derived_load_size(image_size, load_size) if split == 'train' else image_size
  decode = lambda p: _halves(p, channels, side)
  pairs = _decode_all(f'the pairs of {data_dir}/{split}', paths, decode)
  a, b = (np.stack(half) for half in zip(*pairs))
  if direction == 'b2a':
    a, b = b, a
  record = _record(data_dir, split, image_size, side, channels, a, b)
  return AlignedFolderSource(a, b, image_size, flip and split == 'train', record)


def unaligned_folder(
    data_dir: str | None = None,
    split: str = 'train',
    image_size: int = 256,
    load_size: int = 0,
    flip: bool = True,
    channels: int | None = None,
) -> UnalignedFolderSource:
  """The domains `data_dir`/`split`A/ and `split`B/ (module docstring)."""
  _check_fields(data_dir, split, image_size, load_size, flip, channels)
  layout = 'an unaligned dataset has trainA/, trainB/, testA/, testB/'
  names = [f'{split}A', f'{split}B']
  found = _subfolders(data_dir, names, layout)
  channels = _channels(data_dir, [f'{s}{d}' for s in SPLITS for d in 'AB'], channels)
  side = derived_load_size(image_size, load_size) if split == 'train' else image_size
  decode = lambda p: resized(_read(image_files.read_image, p, channels), side)
  a, b = (np.stack(_decode_all(f'{data_dir}/{n}', found[n], decode)) for n in names)
  record = _record(data_dir, split, image_size, side, channels, a, b)
  return UnalignedFolderSource(a, b, image_size, flip and split == 'train', record)
