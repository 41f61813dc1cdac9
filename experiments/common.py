"""What every entry point shares: user errors as one line and exit code 2, XLA's CPU flags."""

import os
import signal
import sys

from absl import flags, logging

from gan_jax.errors import UserError

# XLA:CPU (jax 0.10) hands convolutions and dots to YNNPACK by default; Eigen's are faster for the
# convolutions of the models here (1.1-2.3x on a 2-core x86: benchmarks/xla_cpu_flags.py). Set for
# every entry point, so that the benchmark times what training runs. XLA's default back:
# XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=+individual_dot
CPU_XLA_FLAGS = ('--xla_cpu_experimental_ynn_fusion_type=',)


def set_cpu_xla_flags(environ=os.environ):
  """Adds CPU_XLA_FLAGS to XLA_FLAGS, each unless XLA_FLAGS already sets that flag.

  Call it before JAX starts its backends: XLA reads XLA_FLAGS once, when it starts.
  """
  flags_set = environ.get('XLA_FLAGS', '').split()
  names = {f.split('=')[0] for f in flags_set}
  added = [f for f in CPU_XLA_FLAGS if f.split('=')[0] not in names]
  if added:
    environ['XLA_FLAGS'] = ' '.join(flags_set + added)


def _fail(message):
  """Prints `error: <message>` on one line (first and last lines of a long one); exits 2."""
  lines = [l.strip() for l in str(message).splitlines() if l.strip()]
  text = lines[0] if len(lines) < 2 else f'{lines[0]} {lines[-1]}'
  print(f'error: {text}', file=sys.stderr)
  sys.exit(2)


# absl's help flags print the usage and exit 1; asking for help is not an error here.
HELP_FLAGS = ('help', 'helpshort', 'helpfull', 'helpxml', '?')


def _asks_for_help(argv):
  return any(a.startswith('-') and a.lstrip('-').split('=')[0] in HELP_FLAGS for a in argv[1:])


def parse_flags(argv):
  """absl flag parsing where a bad flag or config override is one line, exit 2; --help exits 0."""
  try:
    try:
      args = flags.FLAGS(argv)
    except SystemExit as e:  # absl's --help: the usage is printed
      if e.code == 1 and _asks_for_help(argv):
        sys.exit(0)
      raise
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
  """absl app main wrapper: sets CPU_XLA_FLAGS (flag parsing has not started JAX's backends
  yet); a UserError prints `error: ...` and exits 2."""

  def wrapped(argv):
    set_cpu_xla_flags()
    if len(argv) > 1:
      _fail(f'unexpected arguments: {" ".join(argv[1:])}')
    try:
      return main_fn(argv)
    except UserError as e:
      _fail(e)

  return wrapped


received = []  # the signals a training entry point got (catch_signals)


def _on_signal(signum, frame):
  """First signal: checkpoint after the current step and exit. Second: exit now."""
  del frame
  received.append(signum)
  if len(received) > 1:
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
  print('Stopping after the current step (signal again to quit at once).', flush=True)


def catch_signals():
  """SIGTERM / SIGINT ask the training loop to save and stop (`received` holds them)."""
  for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, _on_signal)


def train_or_exit(train, *args, **kwargs):
  """`train(*args, should_stop=..., **kwargs)` with SIGTERM / SIGINT asking it to save and stop:
  a RunFailed is one `error:` line and exit 1; a stop on a signal exits 128 + the signal."""
  from gan_jax.errors import RunFailed  # pylint: disable=g-import-not-at-top

  catch_signals()
  try:
    _, stopped = train(*args, should_stop=lambda: bool(received), **kwargs)
  except RunFailed as e:
    print(f'error: {e}', file=sys.stderr, flush=True)
    sys.exit(1)
  if stopped:
    sys.exit(128 + received[0])
