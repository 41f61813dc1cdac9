"""Run several metrics on one draw of samples.

`evaluate(names, draw, data, num_samples)` draws max(N) samples once, where N is
`num_samples` (an int for all, or {name: N}) or each metric's protocol size; each metric
uses the first N of them, and the features of each network (metrics/features.py) are
computed once for all the metrics that use it.

`draw(n)` returns the samples, or `(samples, labels)` for a class-conditional generator
(labels (n,): the class each sample was drawn for; sampling.draw cycles through the
classes, so that every prefix is balanced).

Per-metric settings (`metric_settings`): config.eval.per_metric.<name>.num_samples and
.every_steps override config.eval.num_samples and config.eval.every_steps for one metric
(0 = the global value; num_samples 0 at both levels = the metric's protocol size).
A result is `{'num_samples': N, **values, 'protocol': {...}}`: the metric's own protocol.
"""

import numpy as np

from gan_jax.intervals import Every
from gan_jax.metrics import METRICS, allowed_names


def applicable(data) -> list[str]:
  """The metrics that apply to `data` (an EvalData), but those only computed when named."""
  return [name for name, m in METRICS.items() if not m.opt_in and m.unavailable(data) is None]


def check(names, data):
  """ValueError naming the metric and why, for unknown or inapplicable `names`."""
  for name in names:
    if name not in METRICS:
      raise ValueError(f'unknown metric {name!r}; allowed: {allowed_names()}')
    why = METRICS[name].unavailable(data)
    if why:
      raise ValueError(f'{name}: {why}')


def networks(names) -> list[str]:
  """The feature networks the metrics `names` use, in order."""
  return list(dict.fromkeys(METRICS[n].features for n in names if METRICS[n].features))


def sample_counts(names, num_samples=None) -> dict:
  """{name: N}: `num_samples` (an int, or a {name: int} with 0/None/missing = default)."""
  per = num_samples if isinstance(num_samples, dict) else {n: num_samples for n in names}
  return {n: per.get(n) or METRICS[n].default_samples for n in names}


def metric_settings(names, num_samples=0, every_steps=0, per_metric=None) -> dict:
  """{name: (num_samples or None for the protocol size, every_steps)} from the global values
  and `per_metric` ({name: {'num_samples': N, 'every_steps': K}}, 0 = the global value)."""
  per_metric = per_metric or {}
  out = {}
  for n in names:
    own = per_metric.get(n) or {}
    out[n] = (own.get('num_samples') or num_samples or None, own.get('every_steps') or every_steps)
  return out


def due(settings, step, last_step) -> list[str]:
  """The metrics of `settings` (from metric_settings) due at `step`: each at its own interval,
  and at the end of runs at least that long (gan_jax.intervals.Every 'if_reached': a short trial
  run of a config does not pay for a full evaluation)."""
  return [
      n for n, (_, every) in settings.items() if Every(every, 'if_reached').due(step, last_step)
  ]


def evaluate(names, draw, data, num_samples=None) -> dict:
  """{name: {'num_samples': N, **values, 'protocol': {...}}}; `draw(n)` -> n samples (or (samples, labels))."""
  check(names, data)
  counts = sample_counts(names, num_samples)
  drawn = draw(max(counts.values()))
  samples, labels = drawn if isinstance(drawn, tuple) else (drawn, None)
  features = {
      net: data.features(
          samples[: max(counts[n] for n in names if METRICS[n].features == net)], net
      )
      for net in networks(names)
  }
  results = {}
  for name in names:
    metric, n = METRICS[name], counts[name]
    x = features[metric.features][:n] if metric.features else samples[:n]
    if metric.needs_labels:
      if labels is None:
        raise ValueError(f'{name}: needs the labels of the samples (a class-conditional run)')
      values = metric.compute(x, data, np.asarray(labels)[:n])
    else:
      values = metric.compute(x, data)
    results[name] = {'num_samples': n, **values, 'protocol': metric.protocol(data, n)}
  return results


def is_value(key, v) -> bool:
  """A number a metric computed (not its sample count, protocol or histogram)."""
  return key not in ('num_samples', 'protocol') and isinstance(v, (int, float, np.number))


def scalars(results) -> dict:
  """{'name/key': float} of the scalar values in `results` (for logs and TensorBoard)."""
  return {
      f'{name}/{key}': float(v)
      for name, values in results.items()
      for key, v in values.items()
      if is_value(key, v)
  }
