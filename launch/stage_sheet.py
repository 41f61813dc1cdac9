"""The samples of a progressively grown run at the end of each of its stages, side by side.

  python -m launch.stage_sheet --workdir=runs/progan [--out=runs/progan/stages.png]

Reads the run's samples/step_*.png (written every train.sample_every steps) and, of those, picks
the last one of each stage by the run's schedule (gan_jax/programs/progressive.stage_ends); a
stage with no sample step in it is left out. A study's report makes the same sheet per dataset
(launch/report.py, stages_<dataset>.png).

Exit codes: 0 written; 2 bad input (one `error:` line, nothing written).
"""

import os

from absl import app, flags

from gan_jax import workdir as run_folder
from gan_jax.cli import parse_flags, run_cli
from gan_jax.errors import UserError
from launch.plots import stage_samples, stage_sheet

FLAGS = flags.FLAGS


def _define_flags():
  flags.DEFINE_string('workdir', None, 'The grown run (its folder).')
  flags.DEFINE_string('out', None, 'The PNG to write (default: WORKDIR/stages.png).')


def main(argv):
  del argv
  workdir = FLAGS.workdir
  if not workdir or not os.path.isfile(os.path.join(workdir, run_folder.CONFIG_FILE)):
    raise UserError(f'--workdir={workdir}: not a run folder (no {run_folder.CONFIG_FILE})')
  try:
    config = run_folder.read_config(workdir)
  except ValueError as e:
    raise UserError(str(e)) from None
  stages = stage_samples(workdir, config)
  if not stages:
    raise UserError(
        f'--workdir={workdir}: no samples of a progressively grown run (model.name=progan, '
        'samples/step_*.png)'
    )
  out = FLAGS.out or os.path.join(workdir, 'stages.png')
  stage_sheet([(os.path.basename(os.path.normpath(workdir)), stages)], out)
  print(f'Wrote {out}: ' + ', '.join(label for label, _ in stages))


if __name__ == '__main__':
  _define_flags()
  app.run(run_cli(main), flags_parser=parse_flags)
