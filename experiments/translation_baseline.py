"""A paired task's inputs scored as if they were its outputs: the baseline row of a translation
table (sr_mnist: the bicubic upsampling; inpaint_mnist: the digit with its grey hole).

  python -m experiments.translation_baseline --config=configs/pix2pix.py:sr_mnist

The test pairs and metrics are the ones a run of the config evaluates (gan_jax/programs/pix2pix.py
`test_pairs`: eval.num_samples pairs spread over the test split; `eval_names`: eval.metrics or
all the translation metrics that apply), with the inputs in place of G's outputs. Prints a line
per metric in a run's form (`baseline (the inputs) of sr_mnist l1: l1=...`); trains and writes nothing.
"""

from absl import app, flags
from ml_collections import config_flags

from gan_jax.cli import parse_flags, run_cli

config_flags.DEFINE_config_file('config', None, 'A pix2pix config file[:arg].')
flags.mark_flags_as_required(['config'])


@run_cli
def main(argv):
  del argv
  from gan_jax.evaluator import format_results  # pylint: disable=g-import-not-at-top
  from gan_jax.programs import pix2pix  # pylint: disable=g-import-not-at-top

  p = pix2pix.build_pix2pix(flags.FLAGS.config)  # UserError for a config that is not pix2pix's
  pairs = pix2pix.test_pairs(p, p.config.eval.num_samples)
  if pairs.inputs.shape != pairs.targets.shape:
    print(f'note: inputs {pairs.inputs.shape[1:]} and targets {pairs.targets.shape[1:]} differ')
  results = pix2pix.evaluate(pix2pix.eval_names(p.config, pairs), pairs.inputs, pairs)
  print(format_results(None, results, source=f'baseline (the inputs) of {pairs.name}'))


if __name__ == '__main__':
  app.run(main, flags_parser=parse_flags)
