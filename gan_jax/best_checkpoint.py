"""The best checkpoint of a run by a metric of its periodic evaluation (`checkpoint.keep_best`).

`checkpoint.keep_best` names a metric of config.eval ('fid', 'modes', ...: its `primary` value in
gan_jax.metrics.METRICS, else the value of the metric's own name, e.g. 'kid') or one value of it
('pr.recall'); '' (the default) is off. Its direction is the registry's: lower is better for
the values in the metric's `lower_is_better`, higher for the others.

- Cadence: with keep_best set, the loop also saves a checkpoint at every step the metric is
  evaluated (gan_jax.loop.cadence: `eval_interval`), so every ranked step has a checkpoint.
- Values: those of the periodic evaluation (entries by 'training', EMA weights) in
  <workdir>/eval/<step>.json; the last such entry of a step counts; NaN and missing values rank
  nowhere. They are read from those files each time, so a resumed run ranks what the
  interrupted one wrote.
- Ranking: best value first; between equal values the earlier step first (a later equal
  value does not displace it).
- Deletion (`keeper`): gan_jax.checkpoint.Checkpoints keeps the newest `checkpoint.keep` and
  the best-ranked existing checkpoint; the others are deleted after each save.
- `--step=best` (`parse_step`, gan_jax.experiment.restore): the best-ranked checkpoint; a
  corrupt one is passed over with a warning for the next best.
"""

import math

from gan_jax.errors import FieldError, UserError
from gan_jax.metrics import METRICS, REFUSED, allowed_names
from gan_jax.metrics.evaluation import metric_settings
from gan_jax.schema import with_defaults
from gan_jax.workdir import read_result_entries

BEST = 'best'


def ranked_value(keep_best) -> tuple[str, str]:
  """(metric, value) that `keep_best` ('fid' or 'pr.recall') ranks by; FieldError if none."""
  if not isinstance(keep_best, str):
    raise FieldError(f'keep_best={keep_best!r}: must be a metric name, e.g. fid')
  metric, _, value = keep_best.partition('.')
  if metric not in METRICS or metric in REFUSED:
    raise FieldError(f'keep_best={keep_best!r}: allowed: {allowed_names()}')
  own = METRICS[metric].primary or (metric if metric in METRICS[metric].lower_is_better else None)
  if not (value or own):
    raise FieldError(
        f"keep_best={keep_best!r}: {metric} has several values; name one: '{metric}.<value>'"
    )
  return metric, value or own


def lower_is_better(keep_best) -> bool:
  metric, value = ranked_value(keep_best)
  return value in METRICS[metric].lower_is_better


def eval_interval(config) -> int:
  """The steps between the periodic evaluations of keep_best's metric (0: off or never)."""
  c = with_defaults(config)
  if not c.checkpoint.keep_best:
    return 0
  metric, _ = ranked_value(c.checkpoint.keep_best)
  ev = c.eval
  return metric_settings([metric], ev.num_samples, ev.every_steps, ev.per_metric)[metric][1]


def check_config(config) -> None:
  """FieldError ('checkpoint.keep_best=...: why') unless the run's periodic evaluation can
  compute keep_best's metric, as far as the config alone says (the data decide the rest:
  `check_evaluated`)."""
  keep_best = config.checkpoint.keep_best
  if keep_best == '':
    return
  try:
    metric, _ = ranked_value(keep_best)
  except FieldError as e:
    raise FieldError(f'checkpoint.{e}') from None
  named = [m for m in config.eval.metrics.split(',') if m]
  why = ''
  if named and metric not in named:
    why = f'eval.metrics={config.eval.metrics!r} does not compute {metric}; add it there'
  elif not eval_interval(config):
    why = (
        f'the run never evaluates {metric}: set eval.every_steps '
        f'(or eval.per_metric.{metric}.every_steps)'
    )
  if why:
    raise FieldError(f'checkpoint.keep_best={keep_best!r}: {why}')


def check_evaluated(config, names) -> None:
  """UserError unless keep_best's metric is among `names`, the metrics the periodic evaluation
  runs on the run's data (gan_jax.evaluator.PeriodicEval.names)."""
  keep_best = config.checkpoint.keep_best
  if keep_best and ranked_value(keep_best)[0] not in names:
    computed = ', '.join(names) or 'none'
    raise UserError(
        f'config.checkpoint.keep_best={keep_best!r}: the periodic evaluation of this run '
        f'computes {computed}'
    )


def step_values(workdir, keep_best) -> dict:
  """{step: value} of keep_best from the periodic evaluation's results in <workdir>/eval."""
  metric, value = ranked_value(keep_best)
  found = {}
  for e in read_result_entries(workdir):
    if (e.get('metric'), e.get('by'), e.get('weights')) != (metric, 'training', 'ema'):
      continue
    v = (e.get('values') or {}).get(value)
    if isinstance(v, (int, float)) and not isinstance(v, bool):
      found[e['step']] = float(v)
    else:
      found.pop(e['step'], None)
  return {s: v for s, v in found.items() if math.isfinite(v)}


def best_first(workdir, keep_best, steps) -> list:
  """Those of the checkpoint `steps` that have a value of keep_best, best first."""
  values = step_values(workdir, keep_best)
  sign = 1 if lower_is_better(keep_best) else -1
  return sorted((s for s in steps if s in values), key=lambda s: (sign * values[s], s))


def keeper(workdir, config):
  """Checkpoints' `keep_also`: steps -> [the best of them], or None when keep_best is off."""
  keep_best = with_defaults(config).checkpoint.keep_best
  if not keep_best:
    return None
  return lambda steps: best_first(workdir, keep_best, steps)[:1]


def parse_step(step):
  """A --step argument: None (the newest valid checkpoint), a step (int), or 'best'; UserError
  for anything else."""
  if step is None or isinstance(step, int) and not isinstance(step, bool):
    return step
  text = str(step).strip()
  if text == BEST:
    return BEST
  try:
    return int(text)
  except ValueError:
    raise UserError(f"--step={step}: must be a checkpoint step (an integer) or 'best'") from None
