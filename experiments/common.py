"""What the training entry points share: SIGTERM / SIGINT ask the loop to save and stop.

The command-line plumbing every entry point uses lives in gan_jax/cli.py (re-exported here).
"""

import os
import signal
import sys

from gan_jax.cli import (  # pylint: disable=unused-import (re-exported for the tests' imports)
    CPU_XLA_FLAGS,
    fail,
    parse_flags,
    run_cli,
    set_cpu_xla_flags,
)

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
