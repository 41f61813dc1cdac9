"""Train a vectorized group: `train_group(configs, workdirs, group_dir)`, S runs of one program
vmapped over a leading run axis (gan_jax/programs/group.py: what each run's workdir and the
group's folder get, and how a run that faults stops alone; G/D GANs there, pix2pix and CycleGAN
runs in gan_jax/programs/translation_group.py) driven by the host loop (gan_jax/loop.py), the
same loop as a single run's.
"""

from gan_jax import loop
from gan_jax.experiment import build_experiment
from gan_jax.programs.group import (  # pylint: disable=unused-import (imported from here)
    GroupProgram,
    check_group,
    row,
)
from gan_jax.programs.translation_group import (
    TranslationGroupProgram,
    build_translation,
    translation_program,
)


def group_parts(config, num_devices=None):
  """What the runs of a group of `config`'s program share, built (UserError for what is off):
  a translation program's parts or the G/D GAN's Experiment (what group_memory.check_fits
  reads)."""
  if translation_program(config):
    return build_translation(config, num_devices)
  return build_experiment(config, num_devices=num_devices)


def train_group(configs, workdirs, group_dir, should_stop=lambda: False):
  """Trains every run of the group to train.num_steps; returns (stacked states, stopped_early).

  Raises UserError (bad input; nothing written) or RunFailed: some run stopped on a fault (the
  others finished), or a save failed.
  """
  translation = bool(configs) and translation_program(configs[0])
  program = (TranslationGroupProgram if translation else GroupProgram)(configs, workdirs, group_dir)
  return loop.train(program, should_stop)
