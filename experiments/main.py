"""Train (or resume) one experiment.

  python -m experiments.main --config=configs/wgan_gp.py --workdir=runs/wgan_gp \\
      [--config.train.num_steps=2000 ...]
  python -m experiments.main --config=configs/wgan_gp.py --print_config   # every field, its value

Rerunning the same command resumes from the workdir's newest valid checkpoint.
Exit codes: 0 done; 1 the run stopped on a fault (a non-finite update, a failed
save; one `error:` line); 2 bad input (nothing written); 130 / 143 SIGINT /
SIGTERM, after saving a checkpoint of the current step.
"""

from absl import app, flags
from ml_collections import config_flags

from experiments.common import train_or_exit
from gan_jax import distributed
from gan_jax.cli import parse_flags, run_cli
from gan_jax.config import format_config
from gan_jax.errors import UserError
from gan_jax.train import train_and_evaluate

config_flags.DEFINE_config_file('config', None, 'Experiment config file[:arg].')
flags.DEFINE_string('workdir', None, 'Where checkpoints, logs and samples go.')
flags.DEFINE_bool(
    'allow_config_change', False, 'Resume even if the config differs from the saved one.'
)
flags.DEFINE_bool(
    'print_config', False, 'Print every field of the resolved config (overrides applied) and exit.'
)
flags.DEFINE_string(
    'coordinator_address', None, 'Multi-process: HOST:PORT of process 0 (with the two below).'
)
flags.DEFINE_integer('num_processes', None, 'Multi-process: how many processes in all.')
flags.DEFINE_integer('process_id', None, 'Multi-process: the index of this process.')
flags.mark_flags_as_required(['config'])
flags.register_multi_flags_validator(
    ['workdir', 'print_config'],
    lambda f: f['workdir'] is not None or f['print_config'],
    message='Flag --workdir must have a value other than None (unless --print_config)',
)


@run_cli
def main(argv):
  del argv
  if flags.FLAGS.print_config:
    print(format_config(flags.FLAGS.config))
    return
  try:
    f = flags.FLAGS  # several processes: one jax.distributed job
    distributed.initialize(f.coordinator_address, f.num_processes, f.process_id)
  except ValueError as e:
    raise UserError(str(e)) from None
  train_or_exit(
      train_and_evaluate,
      flags.FLAGS.config,
      flags.FLAGS.workdir,
      allow_config_change=flags.FLAGS.allow_config_change,
  )


if __name__ == '__main__':
  app.run(main, flags_parser=parse_flags)
