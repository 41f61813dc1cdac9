"""pix2pix in one workdir: `Pix2PixProgram(config, workdir)`, a gan_jax.programs.Program for a
model of gan_jax/models/translation (TRANSLATION_MODELS) on aligned pairs (e.g. edges2mnist).

Its compiled step is gan_jax/programs/pix2pix_step.py's (the networks, losses and the one
iteration are described there); the host side is GanProgram's (gan_jax/programs/gan.py): the
workdir and resume checks, checkpoints with their fault counts, the fault policy
(train.on_nonfinite), TensorBoard scalars and the progress line, the close. What differs:

  host_batches(step, n)  the training pairs of iterations step .. step + n - 1: leaves
                         (n, B, ...) of {'a', 'b', 'y'}, in the order of (seed, step)
  sample                 samples/step_<step>.png: train.num_samples pairs of the test split
                         (`test_pairs`), each row SAMPLE_TRIPLES (input, output, target) triples
  evaluate               every eval.every_steps: the translation metrics (eval.metrics, default
                         l1, psnr, ssim, and accuracy and classifier_fid where the data have
                         labels; metrics/translation.py) of the outputs on eval.num_samples
                         test pairs against their targets; eval/<step>.json, a line and TensorBoard

Outputs (samples, metrics) are G's EMA weights (train.ema_decay; 0: the live ones) in test mode:
BatchNorm with its running statistics, dropout as the model's dropout_at_test says (on in
pix2pix: a fixed key, so the same test pairs give the same outputs).
"""

import dataclasses
import sys

import jax
import numpy as np
from tensorboardX import SummaryWriter

from gan_jax import rng
from gan_jax import multihost
from gan_jax import workdir as run_folder
from gan_jax.errors import UserError
from gan_jax.evaluator import EVAL_SEED, format_results, write_results
from gan_jax.images import image_grid, save_png
from gan_jax.metrics import METRICS
from gan_jax.metrics.evaluation import scalars
from gan_jax.models.translation import describe
from gan_jax.programs import gan
from gan_jax.programs.pix2pix_step import Pix2PixStep, build_pix2pix, d_pair
from gan_jax.step import FAULTS, combine_faults

EVAL_KEY = 0  # the dropout key of test-mode outputs (samples and metrics)
SAMPLE_TRIPLES = 4  # (input, output, target) triples per row of a sample grid
CHUNK = 100  # pairs translated at once (one compiled shape)
METRIC_NAMES = ('l1', 'psnr', 'ssim', 'accuracy', 'classifier_fid')  # what a translation run evaluates


@dataclasses.dataclass
class TestPairs:
  """The test pairs the translation metrics read (metrics/translation.unavailable)."""

  name: str
  inputs: np.ndarray
  targets: np.ndarray
  labels: np.ndarray | None


def test_pairs(p, n) -> TestPairs:
  """`n` pairs of the test split spread evenly over it (all of them if it has fewer): indices
  round(i (N - 1) / (n - 1)), so that data stored by class show every class."""
  total = p.test_source.num_examples
  n = min(n, total)
  batch = p.test_source.get_batch(np.unique(np.round(np.linspace(0, total - 1, n)).astype(int)))
  return TestPairs(p.config.data.name, batch['a'], batch['b'], batch.get('y'))


def translator(p):
  """(ema_params, ema_state, a) -> G(a) in test mode (module docstring), jitted."""

  def translate(params, state, a):
    key = rng.key(EVAL_KEY)
    return p.generator.apply({'params': params, **state}, a, train=False, rngs={'dropout': key})

  return jax.jit(translate)


def translate_all(translate, state, inputs) -> np.ndarray:
  """G(inputs) with the EMA weights, CHUNK at a time (the last chunk padded)."""
  out = []
  for start in range(0, len(inputs), CHUNK):
    part = inputs[start : start + CHUNK]
    padded = np.pad(part, ((0, CHUNK - len(part)),) + ((0, 0),) * (part.ndim - 1))
    out.append(np.asarray(translate(state.ema_params, state.ema_state, padded))[: len(part)])
  return np.concatenate(out)


def sample_grid(inputs, outputs, targets, per_row=SAMPLE_TRIPLES) -> np.ndarray:
  """uint8 pixels: rows of `per_row` (input, output, target) triples (inputs of other channels
  than the outputs are shown by their mean)."""
  if inputs.shape[-1] != outputs.shape[-1]:
    inputs = np.repeat(inputs.mean(-1, keepdims=True), outputs.shape[-1], axis=-1)
  triples = np.stack([inputs, outputs, targets], axis=1).reshape(-1, *outputs.shape[1:])
  return image_grid(triples, ncols=3 * min(per_row, len(inputs)))


def eval_names(config, pairs) -> list:
  """The translation metrics to evaluate: eval.metrics, or those of METRIC_NAMES that apply;
  UserError for a named one that is not a translation metric or does not apply."""
  named = [m for m in config.eval.metrics.split(',') if m]
  for name in named:
    why = METRICS[name].unavailable(pairs) if name in METRIC_NAMES else 'not a pix2pix metric'
    if why:
      raise UserError(f'config.eval.metrics={config.eval.metrics!r}: {name}: {why}')
  return named or [m for m in METRIC_NAMES if METRICS[m].unavailable(pairs) is None]


def evaluate(names, outputs, pairs) -> dict:
  """{metric: {values..., 'num_samples', 'protocol'}} of `outputs` against `pairs`."""
  results = {}
  for name in names:
    m = METRICS[name]
    protocol = {'dataset': pairs.name, 'split': 'test', **m.protocol(pairs, len(outputs))}
    results[name] = {
        **m.compute(outputs, pairs),
        'num_samples': len(outputs),
        'protocol': protocol,
    }
  return results


def schedule_warnings(config) -> list:
  """A line for each optimizer whose held-then-decayed rate does not end at train.num_steps
  (pix2pix's policy: hold_steps + decay_steps = num_steps; a preset's num_steps overridden)."""
  lines = []
  for net in ('g', 'd'):
    o = config.optim[net]
    hold, decay = (o[k] if k in o else 0 for k in ('hold_steps', 'decay_steps'))
    if hold and o.schedule != 'none' and hold + decay != config.train.num_steps:
      lines.append(
          f'warning: config.optim.{net}: the rate is held {hold} steps and decays over {decay}, '
          f'not over train.num_steps={config.train.num_steps} (pix2pix: half and half)'
      )
  return lines


def multihost_slot():
  """(this process's index, the process count): which rows of each batch it loads."""
  return jax.process_index(), jax.process_count()


class Pix2PixProgram(gan.GanProgram):
  """One pix2pix pair in `workdir` (module docstring); GanProgram's host side, its own data,
  step, samples and metrics. Its constructor replaces GanProgram's (no G/D GAN experiment)."""

  batch_axis = 1  # batches: (iterations, B, ...)

  # pylint: disable-next=super-init-not-called
  def __init__(self, config, workdir, allow_config_change=False):
    self.p = build_pix2pix(config)  # raises UserError before anything is written
    self.exp = self.p  # GanProgram's helpers read exp.config, exp.mesh, exp.source
    self.config = config = self.p.config
    self.pairs = test_pairs(self.p, config.eval.num_samples)  # the metrics'
    self.sample_pairs = test_pairs(self.p, config.train.num_samples)
    self.names = eval_names(config, self.pairs) if config.eval.every_steps else []
    self._open_run(workdir, allow_config_change)
    self.translate = None

  def begin(self):
    self._write_run_files()
    if jax.process_index() == 0:
      for line in schedule_warnings(self.config):
        print(line, file=sys.stderr, flush=True)
      a, b = np.zeros((1, *self.p.input_shape)), np.zeros((1, *self.p.source.shape))
      d_in = d_pair(self.config.pix2pix.d_conditional, a, b)
      print(describe(self.p.generator, self.p.discriminator, a.shape, d_in.shape), flush=True)
    self.train_step = Pix2PixStep(self.p).jitted()
    self.translate = translator(self.p)
    self.writer = SummaryWriter(self.workdir) if multihost.is_main_process() else None

  def host_batches(self, step, n):
    seed, size, where = self.config.seed, self.config.train.batch_size, multihost_slot()
    local = [self.p.source.batch(seed, k, size, *where) for k in range(step, step + n)]
    return jax.tree_util.tree_map(lambda *xs: np.stack(xs), *local)

  def step(self, state, batches, first_step):
    del first_step  # one compiled step for the whole run
    state, metrics = self.train_step(state, batches, self.k_train)
    self.faults = combine_faults(self.faults, {k: metrics.pop(k) for k in FAULTS})
    return state, metrics

  def sample(self, state, step):
    inputs, targets = self.sample_pairs.inputs, self.sample_pairs.targets
    outputs = translate_all(self.translate, state, inputs)
    if jax.process_index() != 0:
      return
    self.write_sample_grid(sample_grid(inputs, outputs, targets), step)

  def write_sample_grid(self, pixels, step):
    """samples/step_<step>.png and TensorBoard's `samples` image; a warning if not written."""
    try:
      path = run_folder.sample_path(self.workdir, step)
      run_folder.write_atomically(path, lambda tmp: save_png(pixels, tmp))
      if self.writer:
        self.writer.add_image('samples', pixels, step, dataformats='HWC')
    except OSError as e:
      print(f'warning: step {step}: cannot write the samples: {e}', file=sys.stderr)

  def evaluate(self, state, step):
    if not self.names:
      return
    pairs = self.pairs
    results = evaluate(self.names, translate_all(self.translate, state, pairs.inputs), pairs)
    self.write_eval_results(results, step)

  def write_eval_results(self, results, step):
    """eval/<step>.json, the printed line and TensorBoard's eval/ scalars (process 0)."""
    if jax.process_index() == 0:
      write_results(self.workdir, step, EVAL_SEED, results, by='training')
      print(format_results(step, results), flush=True)
      if self.writer:
        for key, value in scalars(results).items():
          self.writer.add_scalar(f'eval/{key}', value, step)


__all__ = ['Pix2PixProgram', 'TestPairs', 'evaluate', 'sample_grid', 'test_pairs']
