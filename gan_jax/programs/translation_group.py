"""S pix2pix or CycleGAN runs vmapped over a leading run axis: `TranslationGroupProgram(configs,
workdirs, group_dir)`, a gan_jax.programs.Program.

The runs' configs differ only in `config.VECTORIZABLE` fields: the seed, the learning rates, the
EMA decay and the loss weights (pix2pix.lambda_l1 and gan_weight; cyclegan.lambda_forward,
lambda_backward, gan_weight, and identity_weight between runs that all have it on). One compiled
step trains them all (`Pix2PixStep.group_jitted` / `CycleGanStep.group_jitted`,
gan_jax/programs/iteration_calls.py), each run's weights and learning rates traced arrays of the
run axis where a run alone compiles its config's in.

The host side is every group's (gan_jax/programs/group.py `RunGroup`): the stacked state's
checkpoints in the group's folder, each run's slice saved into its own workdir at the steps it
would save alone, a run that faults stops alone, a rerun resumes bit for bit. What a run reads and
writes besides is its own one-workdir program's (`translation_program(config)`: Pix2PixProgram or
CycleGanProgram, one per run, built as for a run alone): its batches in the order of its seed,
its samples, its metrics (eval/<step>.json), its TensorBoard scalars. So experiments.sample,
evaluate and translate and launch.report read each run as if it had trained alone, and
experiments.main continues it alone.
"""

import jax
import numpy as np

from gan_jax.data.unpaired import UNPAIRED
from gan_jax.errors import UserError
from gan_jax.models.translation import TRANSLATION_MODELS
from gan_jax.programs import cyclegan, pix2pix
from gan_jax.programs.cyclegan_step import CycleGanStep, build_cyclegan
from gan_jax.programs.group import RunGroup, checked_configs, row
from gan_jax.programs.pix2pix_step import Pix2PixStep, build_pix2pix

# A translation program -> (its builder: config -> parts, its step class, its test-mode translator)
PARTS = {
    pix2pix.Pix2PixProgram: (build_pix2pix, Pix2PixStep, pix2pix.translator),
    cyclegan.CycleGanProgram: (build_cyclegan, CycleGanStep, cyclegan.translator),
}


def translation_program(config):
  """The one-workdir program of a translation config (the one choice gan_jax/train.py, the
  benchmark and the groups make): CycleGanProgram on unpaired data, else Pix2PixProgram for a
  TRANSLATION_MODELS model; None for any other config."""
  if config.data.name in UNPAIRED:
    return cyclegan.CycleGanProgram
  return pix2pix.Pix2PixProgram if config.model.name in TRANSLATION_MODELS else None


def build_translation(config, num_devices=None):
  """The built parts of a translation config's runs (build_pix2pix / build_cyclegan: config,
  mesh, source, abstract_state ...); UserError for what is off."""
  return PARTS[translation_program(config)][0](config, num_devices)


class TranslationGroupProgram(RunGroup):
  """The translation runs of `configs` in `workdirs` as one vmapped program (module docstring),
  its checkpoints in `group_dir`."""

  batch_axis = 2  # batches: (S, iterations, B, ...)

  def __init__(self, configs, workdirs, group_dir):
    configs = checked_configs(configs, workdirs)
    program = translation_program(configs[0])
    if program is None:
      raise UserError(f'config.model.name={configs[0].model.name!r}: not a translation run')
    _, self.step_class, self.translator = PARTS[program]
    # Each run's own program checks its config, data and workdir (UserError, nothing written).
    self.runs = [program(c, w) for c, w in zip(configs, workdirs)]
    super().__init__(configs, workdirs, group_dir, self.runs[0].p)

  def build_step(self):
    """The group's jitted step; each run's program writes with its run's TensorBoard writer and
    translates with one shared compiled translator (one architecture)."""
    translate = self.translator(self.exp)
    for run, writer in zip(self.runs, self.writers):
      run.writer, run.translate = writer, translate
    return self.step_class.group_jitted(self.exp)

  def host_batches(self, step, n):
    """Leaves (S, n, B, ...): run i's batches, what it reads alone (the order of its seed)."""
    runs = [run.host_batches(step, n) for run in self.runs]
    return jax.tree_util.tree_map(lambda *xs: np.stack(xs), *runs)

  def sample(self, state, step):
    for i in self.live():
      self.runs[i].sample(row(state, i), step)

  def evaluate(self, state, step):
    for i in self.live():
      if self.runs[i].names:  # the metrics it evaluates (none: nothing printed)
        print(f'{self.names[i]}:', end=' ', flush=True)
      self.runs[i].evaluate(row(state, i), step)
