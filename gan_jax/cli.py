"""What every command line (experiments/, launch/, benchmarks/) shares: a user error as one line
and exit code 2, absl flag parsing where --help exits 0, XLA's CPU flags.

- `fail(message)`: prints `error: <message>` on one line, exits 2;
- `parse_flags(argv)`: the `flags_parser` of `absl.app.run`: a bad flag or config override is one
  `error:` line (exit 2); --help / --helpfull print the usage and exit 0;
- `run_cli(main)`: wraps an absl main: XLA's CPU flags set, stray arguments refused, a UserError
  turned into `fail`;
- `set_cpu_xla_flags()`: CPU_XLA_FLAGS added to XLA_FLAGS before JAX starts its backends.
"""

import os
import sys

from absl import flags, logging

from gan_jax.errors import UserError

# XLA:CPU (jax 0.10) hands convolutions and dots to YNNPACK by default; Eigen's are faster for the
# convolutions of the models here (1.1-2.3x on a 2-core x86: benchmarks/xla_cpu_flags.py). Set for
# every entry point, so that the benchmark times what training runs. XLA's default back:
# XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=+individual_dot
CPU_XLA_FLAGS = ('--xla_cpu_experimental_ynn_fusion_type=',)

# absl's help flags print the usage and exit 1; asking for help is not an error here.
HELP_FLAGS = ('help', 'helpshort', 'helpfull', 'helpxml', '?')


def set_cpu_xla_flags(environ=os.environ):
  """Adds CPU_XLA_FLAGS to XLA_FLAGS, each unless XLA_FLAGS already sets that flag.

  Call it before JAX starts its backends: XLA reads XLA_FLAGS once, when it starts.
  """
  flags_set = environ.get('XLA_FLAGS', '').split()
  names = {f.split('=')[0] for f in flags_set}
  added = [f for f in CPU_XLA_FLAGS if f.split('=')[0] not in names]
  if added:
    environ['XLA_FLAGS'] = ' '.join(flags_set + added)


def fail(message):
  """Prints `error: <message>` on one line (first and last lines of a long one); exits 2."""
  lines = [l.strip() for l in str(message).splitlines() if l.strip()]
  text = lines[0] if len(lines) < 2 else f'{lines[0]} {lines[-1]}'
  print(f'error: {text}', file=sys.stderr)
  sys.exit(2)


def asks_for_help(argv):
  return any(a.startswith('-') and a.lstrip('-').split('=')[0] in HELP_FLAGS for a in argv[1:])


def _check_config_flag():
  """ml_collections' config_flags reports a failed load of --config=FILE only on first use."""
  if 'config' in flags.FLAGS:
    config = flags.FLAGS.config
    if config is not None and not isinstance(config, str):
      config.keys()


def parse_flags(argv):
  """absl flag parsing where a bad flag or config override is one line, exit 2; --help exits 0."""
  try:
    try:
      args = flags.FLAGS(argv)
    except SystemExit as e:  # absl's --help: the usage is printed
      if e.code == 1 and asks_for_help(argv):
        sys.exit(0)
      raise
    if not flags.FLAGS['verbosity'].present:  # libraries' INFO logs drown the progress lines
      logging.set_verbosity(logging.WARNING)
    _check_config_flag()
    return args
  except flags.Error as e:
    fail(e)
  except (AttributeError, KeyError) as e:
    overrides = ' '.join(a for a in argv if a.startswith('--config.'))
    if not overrides:  # raised inside the config file's get_config
      fail(f'--config: the config file raised {type(e).__name__}: {e}')
    while isinstance(e, BaseException) and e.args:  # ml_collections wraps the KeyError
      e = e.args[0]
    fail(f'unknown config field {str(e).splitlines()[0]} in {overrides}')
  except OSError as e:  # the config file is missing
    fail(f'--config: {str(e).strip().splitlines()[-1].strip()}')


def run_cli(main_fn):
  """absl app main wrapper: sets CPU_XLA_FLAGS (flag parsing has not started JAX's backends
  yet); stray arguments and a UserError print `error: ...` and exit 2."""

  def wrapped(argv):
    set_cpu_xla_flags()
    if len(argv) > 1:
      fail(f'unexpected arguments: {" ".join(argv[1:])}')
    try:
      return main_fn(argv)
    except UserError as e:
      fail(e)

  return wrapped
