"""The --out of the entry points that write images or arrays (experiments.sample, .translate):
what kind of output a path names, whether it can be written, and the atomic write of a file."""

import os

from gan_jax.errors import UserError
from gan_jax.workdir import write_atomically

FOLDER = '/'  # the kind of --out=DIR/


def output_kind(out, kinds, note='') -> str:
  """'/' for a folder (ending in a separator, or an existing folder without one of `kinds`'
  extensions: `x.png` that is a folder is refused as one), else the extension; UserError if it
  is not one of `kinds` (`note` follows the last kind in the message, e.g. ' (--interpolate)')."""
  ext = os.path.splitext(out)[1]
  if out.endswith(('/', os.sep)) or (os.path.isdir(out) and ext not in kinds):
    return FOLDER
  if ext not in kinds:
    raise UserError(f'--out={out}: must end in {", ".join(kinds)}{note} or /')
  return ext


def check_output(out, kind):
  """UserError unless `out` can be written: a file, or a folder that is missing or empty (its
  parent may still have to be created)."""
  if kind == FOLDER:
    if os.path.isfile(out.rstrip('/' + os.sep)):
      raise UserError(f'--out={out}: is a file, not a folder')
    if os.path.isdir(out) and os.listdir(out):
      raise UserError(f'--out={out}: the folder is not empty (remove it or name a new one)')
    target = os.path.dirname(os.path.abspath(out.rstrip('/' + os.sep) or out))
  elif os.path.isdir(out):
    raise UserError(f'--out={out}: is a folder')
  else:
    target = os.path.dirname(os.path.abspath(out))
  from gan_jax.experiment import check_creatable  # pylint: disable=g-import-not-at-top

  check_creatable(target, f'--out={out}', 'cannot be created: {} is a file')


def write_whole(out, write):
  """write(path) to a temporary file beside `out`, then renames it: no partial `out` ever."""
  try:
    write_atomically(out, write)
  except OSError as e:
    raise UserError(f'--out={out}: {e}') from None
