"""Train (or resume) one experiment.

  python -m experiments.main --config=configs/wgan_gp.py --workdir=runs/wgan_gp \
      [--config.train.num_steps=2000 ...]

Rerunning the same command resumes from the workdir's newest checkpoint.
SIGTERM / SIGINT save a checkpoint of the current step, then exit 143 / 130.
"""

import os
import signal
import sys

from absl import app, flags
from ml_collections import config_flags

from experiments.common import parse_flags, run_cli
from gan_jax.train import train_and_evaluate

config_flags.DEFINE_config_file('config', None, 'Experiment config file[:arg].')
flags.DEFINE_string('workdir', None, 'Where checkpoints, logs and samples go.')
flags.DEFINE_bool(
    'allow_config_change', False, 'Resume even if the config differs from the saved one.'
)
flags.mark_flags_as_required(['config', 'workdir'])

_received = []


def _on_signal(signum, frame):
  """First signal: checkpoint after the current step and exit. Second: exit now."""
  del frame
  _received.append(signum)
  if len(_received) > 1:
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
  print('Stopping after the current step (signal again to quit at once).', flush=True)


@run_cli
def main(argv):
  del argv
  for sig in (signal.SIGTERM, signal.SIGINT):
    signal.signal(sig, _on_signal)
  _, stopped = train_and_evaluate(
      flags.FLAGS.config,
      flags.FLAGS.workdir,
      should_stop=lambda: bool(_received),
      allow_config_change=flags.FLAGS.allow_config_change,
  )
  if stopped:
    sys.exit(128 + _received[0])


if __name__ == '__main__':
  app.run(main, flags_parser=parse_flags)
