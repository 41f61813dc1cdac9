"""Run several metrics on one draw of samples.

`evaluate(names, draw, data, num_samples)` draws max(N) samples once, where N is
`num_samples` or each metric's protocol size; each metric uses the first N of
them, and Inception features are computed once for all the metrics that use them.
A result is `{'num_samples': N, **values, 'protocol': {...}}`: the metric's own protocol.
"""

import numpy as np

from gan_jax.metrics import METRICS, allowed_names


def applicable(data) -> list[str]:
  """The metrics that apply to `data` (an EvalData)."""
  return [name for name, m in METRICS.items() if m.unavailable(data) is None]


def check(names, data):
  """ValueError naming the metric and why, for unknown or inapplicable `names`."""
  for name in names:
    if name not in METRICS:
      raise ValueError(f'unknown metric {name!r}; allowed: {allowed_names()}')
    why = METRICS[name].unavailable(data)
    if why:
      raise ValueError(f'{name}: {why}')


def sample_counts(names, num_samples=None) -> dict:
  return {n: num_samples or METRICS[n].default_samples for n in names}


def evaluate(names, draw, data, num_samples=None) -> dict:
  """{name: {'num_samples': N, **values, 'protocol': {...}}}; `draw(n)` -> n samples as numpy."""
  check(names, data)
  counts = sample_counts(names, num_samples)
  samples = draw(max(counts.values()))
  uses_features = [n for n in names if METRICS[n].features == 'inception']
  features = (
      data.features(samples[: max(counts[n] for n in uses_features)], label='the samples')
      if uses_features
      else None
  )
  results = {}
  for name in names:
    metric, n = METRICS[name], counts[name]
    x = features[:n] if metric.features else samples[:n]
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
