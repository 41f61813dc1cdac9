"""Train (or resume) a vectorized group of runs: what `launch.sweep --vectorize` starts.

  python -m experiments.train_group --group=runs/study/_groups/<id>

The group's folder holds `runs.json` (launch/groups.py writes it): the config file and, per run,
its config arg (the `file:arg` of experiments.main), its overrides (JSON, applied as the
`--config.<field>=<value>` flags of experiments.main are: gan_jax/run_config.py) and its workdir.
Those runs must share one program (they differ only in config.VECTORIZABLE fields); they train
as one vmapped step (gan_jax/group_train.py: G/D GANs, pix2pix and CycleGAN runs). Rerunning the
same command resumes the group from its checkpoints.

Exit codes: 0 every run finished; 1 some run stopped on a fault while the others finished, or a
save failed (one `error:` line); 2 bad input (nothing written); 130 / 143 SIGINT / SIGTERM, after
saving a checkpoint of the current step.
"""

import importlib.util
import json
import os

from absl import app, flags

from experiments.common import train_or_exit
from gan_jax import workdir as run_folder
from gan_jax.cli import parse_flags, run_cli
from gan_jax.errors import UserError
from gan_jax.run_config import build_run_config

flags.DEFINE_string('group', None, "A group's folder, with its runs.json.")


def load_runs(group_dir):
  """(configs, workdirs) of the group's runs.json; UserError if it cannot be read or built."""
  path = os.path.join(group_dir, run_folder.GROUP_RUNS_FILE)
  try:
    with open(path) as f:
      spec = json.load(f)
    config_file, members = spec['config_file'], spec['runs']
  except (OSError, ValueError, KeyError, TypeError) as e:
    raise UserError(f'--group={group_dir}: cannot read {path} ({type(e).__name__}: {e})') from None
  module_spec = importlib.util.spec_from_file_location('group_config', config_file)
  if module_spec is None or not os.path.isfile(config_file):
    raise UserError(f'--group={group_dir}: no such config file {config_file}')
  module = importlib.util.module_from_spec(module_spec)
  configs = []
  try:
    module_spec.loader.exec_module(module)
    for member in members:
      overrides = member.get('overrides') or {}  # none in the runs.json of earlier launchers
      configs.append(build_run_config(module.get_config, member.get('arg'), overrides))
  except Exception as e:  # pylint: disable=broad-except (whatever the config file raises)
    raise UserError(f'--config={config_file}: raised {type(e).__name__}: {e}') from None
  return configs, [m['workdir'] for m in members]


@run_cli
def main(argv):
  del argv
  if not flags.FLAGS.group:
    raise UserError('--group: required (a group folder with its runs.json)')
  from gan_jax.group_train import train_group  # pylint: disable=g-import-not-at-top (after flags)

  configs, workdirs = load_runs(flags.FLAGS.group)
  train_or_exit(train_group, configs, workdirs, flags.FLAGS.group)


if __name__ == '__main__':
  app.run(main, flags_parser=parse_flags)
