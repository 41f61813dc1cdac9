"""Packing (PacGAN, Lin et al. 2018): D judges `k` samples at once.

`pack(x, k)`: (B, ..., F) -> (B/k, ..., k F), sample j*k + i's features (or an NHWC image's
channels) in slot i of packed sample j: the k consecutive samples concatenated along the last
axis. Real samples are packed with real ones and fakes with fakes. `pack(x, 1)` is x itself.
"""

from gan_jax.checks import FieldError, check_number


def pack(x, k: int):
  """(B, *shape) -> (B // k, *shape[:-1], k * shape[-1]); B must be a multiple of k."""
  if k == 1:
    return x
  b, *shape = x.shape
  if b % k:
    raise ValueError(f'pack: batch of {b} is not a multiple of {k}')
  x = x.reshape(b // k, k, *shape)  # (B/k, k, ..., F)
  x = x.reshape(b // k, k, -1, shape[-1]).swapaxes(1, 2)  # (B/k, prod(middle), k, F)
  return x.reshape(b // k, *shape[:-1], k * shape[-1])


def packed_shape(data_shape, k: int) -> tuple[int, ...]:
  """The shape of one packed sample: D's input shape for data of `data_shape`."""
  *rest, last = data_shape
  return (*rest, k * last)


def check_pack(batch_size, pack_size):
  """FieldError unless d_input.pack is an integer >= 1 that divides the batch."""
  check_number('config.d_input.pack', pack_size, integer=True, low=1)
  if batch_size % pack_size:
    raise FieldError(
        f'config.train.batch_size={batch_size}: must be divisible by d_input.pack={pack_size} '
        f'(D judges packs of {pack_size} samples)'
    )
