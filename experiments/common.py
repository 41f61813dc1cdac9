"""What every entry point shares: user errors as one line and exit code 2."""

import sys

from absl import flags, logging

from gan_jax.experiment import UserError


def _fail(message):
  """Prints `error: <message>` on one line (first and last lines of a long one); exits 2."""
  lines = [l.strip() for l in str(message).splitlines() if l.strip()]
  text = lines[0] if len(lines) < 2 else f'{lines[0]} {lines[-1]}'
  print(f'error: {text}', file=sys.stderr)
  sys.exit(2)


def parse_flags(argv):
  """absl flag parsing where a bad flag or config override is one line, exit 2."""
  try:
    args = flags.FLAGS(argv)
    if not flags.FLAGS['verbosity'].present:  # libraries' INFO logs drown the progress lines
      logging.set_verbosity(logging.WARNING)
    if 'config' in flags.FLAGS and flags.FLAGS.config is not None:
      flags.FLAGS.config.keys()  # config_flags reports a failed load only on first use
    return args
  except flags.Error as e:
    _fail(e)
  except (AttributeError, KeyError) as e:
    overrides = ' '.join(a for a in argv if a.startswith('--config.'))
    if not overrides:  # raised inside the config file's get_config
      _fail(f'--config: the config file raised {type(e).__name__}: {e}')
    while isinstance(e, BaseException) and e.args:  # ml_collections wraps the KeyError
      e = e.args[0]
    _fail(f'unknown config field {str(e).splitlines()[0]} in {overrides}')
  except OSError as e:  # the config file is missing
    _fail(f'--config: {str(e).strip().splitlines()[-1].strip()}')


def run_cli(main_fn):
  """absl app main wrapper: a UserError prints `error: ...` and exits 2."""

  def wrapped(argv):
    if len(argv) > 1:
      _fail(f'unexpected arguments: {" ".join(argv[1:])}')
    try:
      return main_fn(argv)
    except UserError as e:
      _fail(e)

  return wrapped
