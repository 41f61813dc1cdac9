"""Train a vectorized group: `train_group(configs, workdirs, group_dir)`, S runs of one G/D
program vmapped over a leading run axis (gan_jax/programs/group.py: what each run's workdir and
the group's folder get, and how a run that faults stops alone) driven by the host loop
(gan_jax/loop.py), the same loop as a single run's.
"""

from gan_jax import loop
from gan_jax.programs.group import (  # pylint: disable=unused-import (imported from here)
    GroupProgram,
    check_group,
    row,
)


def train_group(configs, workdirs, group_dir, should_stop=lambda: False):
  """Trains every run of the group to train.num_steps; returns (stacked states, stopped_early).

  Raises UserError (bad input; nothing written) or RunFailed: some run stopped on a fault (the
  others finished), or a save failed.
  """
  program = GroupProgram(configs, workdirs, group_dir)
  return loop.train(program, should_stop)
