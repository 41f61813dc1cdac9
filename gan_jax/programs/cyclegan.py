"""CycleGAN in one workdir: `CycleGanProgram(config, workdir)`, a gan_jax.programs.Program for a
model of gan_jax/models/translation (TRANSLATION_MODELS) on two unpaired domains
(gan_jax/data/unpaired.py: mnist2negative, mnist2digits).

Its compiled step is gan_jax/programs/cyclegan_step.py's; the host side is pix2pix's
(gan_jax/programs/pix2pix.py, itself GanProgram's: workdir and resume checks, checkpoints with
their fault counts, the fault policy, TensorBoard scalars and the progress line, the close).
What differs:

  host_batches(step, n)  unpaired batches {'a', 'b', 'ya', 'yb'} of iterations step ..
                         step + n - 1, A and B in two independent orders of (seed, step)
  sample                 samples/step_<step>.png: rows of SAMPLE_TRIPLES triples
                         a | G_AB(a) | G_BA(G_AB(a)) of train.num_samples test images of A
                         (evenly spaced: every class), then as many rows b | G_BA(b) |
                         G_AB(G_BA(b)) of B
  evaluate               every eval.every_steps, per direction d in (a2b, b2a), on
                         eval.num_samples test images of the source domain (evenly spaced;
                         all: 500 for the MNIST side) (metrics named
                         '<metric>_<d>'; eval.metrics, default all of METRIC_NAMES that apply):
                         l1, psnr, ssim, pixel_agreement against the true counterparts where
                         the test split is aligned (mnist2negative); adaptation_accuracy where
                         the domains have labels: the MNIST classifier on the outputs and on the
                         untranslated inputs, each as the classifier reads its domain
                         (UnpairedSource.classifier_view: negatives negated back)

Outputs are the EMA weights of both generators (train.ema_decay; 0: the live ones) in test
mode (a fixed dropout key where the model has dropout).
"""


import jax
import numpy as np
from tensorboardX import SummaryWriter

from gan_jax import rng
from gan_jax import multihost
from gan_jax.errors import UserError
from gan_jax.metrics import METRICS
from gan_jax.models.translation import describe
from gan_jax.programs.cyclegan_step import CycleGanStep, build_cyclegan
from gan_jax.programs.pix2pix import CHUNK, EVAL_KEY, Pix2PixProgram, TestPairs, evaluate
from gan_jax.programs.pix2pix import SAMPLE_TRIPLES, sample_grid

DIRECTIONS = {'a2b': ('a', 'b', 'ab'), 'b2a': ('b', 'a', 'ba')}  # source, target, generator
PIXEL_METRICS = ('l1', 'psnr', 'ssim', 'pixel_agreement')  # against the true counterparts
METRIC_NAMES = PIXEL_METRICS + ('adaptation_accuracy',)


def translator(c):
  """(ema_params, ema_state, generator name, x) -> G_name(x) in test mode, jitted."""

  def translate(params, state, name, x):
    key = rng.key(EVAL_KEY)
    variables = {'params': params[name], **state[name]}
    return c.generator.apply(variables, x, train=False, rngs={'dropout': key})

  return jax.jit(translate, static_argnums=2)


def translate_all(translate, state, name, inputs) -> np.ndarray:
  """G_name(inputs) with the EMA weights, CHUNK at a time (the last chunk padded)."""
  out = []
  for start in range(0, len(inputs), CHUNK):
    part = inputs[start : start + CHUNK]
    padded = np.pad(part, ((0, CHUNK - len(part)),) + ((0, 0),) * (part.ndim - 1))
    out.append(np.asarray(translate(state.ema_params, state.ema_state, name, padded))[: len(part)])
  return np.concatenate(out)


def direction_pairs(test, direction, n, dataset='') -> TestPairs:
  """`n` test images of `direction`'s source domain (UnpairedSource.domain), their true
  counterparts (an aligned test split; else None) and labels; named `dataset`/`direction`."""
  source, target, _ = DIRECTIONS[direction]
  inputs, labels = test.domain(source, n)
  targets = test.domain(target, n)[0] if test.aligned else None
  return TestPairs(f'{dataset}/{direction}', inputs, targets, labels)


def eval_names(config, test) -> list:
  """The metrics to evaluate: eval.metrics, or those of METRIC_NAMES that apply to a direction;
  UserError for a named one that is not a CycleGAN metric or applies to neither direction."""
  named = [m for m in config.eval.metrics.split(',') if m]
  pairs = [direction_pairs(test, d, 2) for d in DIRECTIONS]
  applies = lambda m: any(METRICS[m].unavailable(p) is None for p in pairs)
  for name in named:
    if name not in METRIC_NAMES:
      why = 'not a CycleGAN metric'
    elif not applies(name):
      why = METRICS[name].unavailable(pairs[0])
    else:
      continue
    raise UserError(f'config.eval.metrics={config.eval.metrics!r}: {name}: {why}')
  return named or [m for m in METRIC_NAMES if applies(m)]


def evaluate_direction(names, test, direction, pairs, outputs) -> dict:
  """{'<metric>_<direction>': result} of one direction's outputs (module docstring)."""
  source, target, _ = DIRECTIONS[direction]
  results = {}
  pixel = [m for m in names if m in PIXEL_METRICS and METRICS[m].unavailable(pairs) is None]
  results.update(evaluate(pixel, outputs, pairs))
  if 'adaptation_accuracy' in names and METRICS['adaptation_accuracy'].unavailable(pairs) is None:
    viewed = TestPairs(pairs.name, test.classifier_view(source, pairs.inputs), None, pairs.labels)
    outputs = test.classifier_view(target, outputs)
    results.update(evaluate(['adaptation_accuracy'], outputs, viewed))
  return {f'{name}_{direction}': r for name, r in results.items()}


def evaluate_all(c, translate, state, names, n) -> dict:
  """The results of both directions (`evaluate_direction`) on `n` test images of each source
  domain (`direction_pairs`), `translate` a `translator(c)`: what the run evaluates."""
  results = {}
  for direction, (_, _, name) in DIRECTIONS.items():
    pairs = direction_pairs(c.test_source, direction, n, c.config.data.name)
    outputs = translate_all(translate, state, name, pairs.inputs)
    results.update(evaluate_direction(names, c.test_source, direction, pairs, outputs))
  return results


class CycleGanProgram(Pix2PixProgram):
  """One CycleGAN run in `workdir` (module docstring); pix2pix's host side (checkpoints, state,
  batches, step), its own data, step, samples and metrics."""

  def __init__(self, config, workdir, allow_config_change=False):
    # pylint: disable=super-init-not-called
    self.p = build_cyclegan(config)  # raises UserError before anything is written
    self.exp = self.p  # GanProgram's helpers read exp.config, exp.mesh, exp.source
    self.config = config = self.p.config
    self.names = eval_names(config, self.p.test_source) if config.eval.every_steps else []
    self._open_run(workdir, allow_config_change)
    self.translate = None

  def begin(self):
    self._write_run_files()
    if jax.process_index() == 0:
      x = (1, *self.p.input_shape)
      line = describe(self.p.generator, self.p.discriminator, x, x)
      print(f'CycleGAN, twice each: {line}', flush=True)
    self.train_step = CycleGanStep(self.p).jitted()
    self.translate = translator(self.p)
    self.writer = SummaryWriter(self.workdir) if multihost.is_main_process() else None

  def cycled(self, state, direction, inputs):
    """(G(inputs), the other G of that) for `direction`."""
    name = DIRECTIONS[direction][2]
    back = DIRECTIONS['b2a' if direction == 'a2b' else 'a2b'][2]
    out = translate_all(self.translate, state, name, inputs)
    return out, translate_all(self.translate, state, back, out)

  def sample(self, state, step):
    n = self.config.train.num_samples
    domain = lambda source: self.p.test_source.domain(source, n)[0]
    inputs = {d: domain(source) for d, (source, _, _) in DIRECTIONS.items()}
    per_row = min(SAMPLE_TRIPLES, *(len(x) for x in inputs.values()))  # both rows equally wide
    rows = []
    for direction, x in inputs.items():
      rows.append(sample_grid(x, *self.cycled(state, direction, x), per_row))  # in, out, back
    if jax.process_index() != 0:
      return
    self.write_sample_grid(np.concatenate(rows, axis=0), step)

  def evaluate(self, state, step):
    if not self.names:
      return
    n = self.config.eval.num_samples
    self.write_eval_results(evaluate_all(self.p, self.translate, state, self.names, n), step)


__all__ = ['CycleGanProgram', 'direction_pairs', 'eval_names', 'evaluate_all', 'evaluate_direction']
