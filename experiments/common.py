"""What every entry point shares: user errors as one line and exit code 2."""

import sys

from gan_jax.experiment import UserError


def run_cli(main_fn):
  """absl app main wrapper: a UserError prints `error: ...` and exits 2."""

  def wrapped(argv):
    try:
      return main_fn(argv)
    except UserError as e:
      print(f'error: {e}', file=sys.stderr)
      sys.exit(2)

  return wrapped
