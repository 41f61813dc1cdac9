"""A study's plots: each metric against the training step per variant (mean over seeds, shaded
min-max), D and G losses from TensorBoard, and the final sample grid of every run."""

import math

from gan_jax import workdir as run_folder
from launch.run_data import LOSS_TAGS, flat_metrics


def _series_by_step(series_list):
  """{step: [values]} over runs."""
  steps = {}
  for series in series_list:
    for step, value in series:
      if math.isfinite(value):
        steps.setdefault(step, []).append(value)
  return dict(sorted(steps.items()))


def _plot_lines(ax, variants, get_series, label_variants=True):
  for variant, runs in variants.items():
    steps = _series_by_step([get_series(r) for r in runs])
    if not steps:
      continue
    xs = list(steps)
    mean = [sum(v) / len(v) for v in steps.values()]
    ax.plot(xs, mean, label=variant if label_variants else None, linewidth=1.2)
    ax.fill_between(
        xs, [min(v) for v in steps.values()], [max(v) for v in steps.values()], alpha=0.15
    )


def _save_panels(plt, fig, axes, path):
  """A row of panels against the step, the legend in the first: written to `path` (PNG)."""
  for ax in axes[0]:
    ax.set_xlabel('step')
  axes[0][0].legend(fontsize=6)
  fig.tight_layout()
  run_folder.write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=80))
  plt.close(fig)
  return path


def plot_metrics(variants, metrics, path):
  import matplotlib  # pylint: disable=g-import-not-at-top

  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  shown = [
      m
      for m in metrics
      if any(
          m in flat_metrics(rec)
          for rs in variants.values()
          for r in rs
          for rec in r.results.values()
      )
  ]
  if not shown:
    return None
  fig, axes = plt.subplots(1, len(shown), figsize=(5 * len(shown), 4), squeeze=False)
  for ax, metric in zip(axes[0], shown):
    _plot_lines(
        ax,
        variants,
        lambda r, m=metric: [
            (s, flat_metrics(rec)[m]) for s, rec in r.results.items() if m in flat_metrics(rec)
        ],
    )
    ax.set_title(metric)
  return _save_panels(plt, fig, axes, path)


def plot_losses(variants, path):
  import matplotlib  # pylint: disable=g-import-not-at-top

  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  if not any(r.scalars.get(t) for rs in variants.values() for r in rs for t in LOSS_TAGS):
    return None
  fig, axes = plt.subplots(1, 2, figsize=(10, 4), squeeze=False)
  for ax, tag in zip(axes[0], LOSS_TAGS):
    _plot_lines(ax, variants, lambda r, t=tag: r.scalars.get(t, []))
    ax.set_title(tag)
  return _save_panels(plt, fig, axes, path)


def plot_samples(variants, path):
  import matplotlib  # pylint: disable=g-import-not-at-top

  matplotlib.use('Agg')
  import matplotlib.image as mpimg  # pylint: disable=g-import-not-at-top
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  rows = [(v, sorted(rs, key=lambda r: (r.seed is None, r.seed))) for v, rs in variants.items()]
  cols = max(len(rs) for _, rs in rows)
  if not any(run_folder.latest_sample(r.path) for _, rs in rows for r in rs):
    return None
  fig, axes = plt.subplots(len(rows), cols, figsize=(2.2 * cols, 2.2 * len(rows)), squeeze=False)
  for i, (variant, runs) in enumerate(rows):
    for j in range(cols):
      ax = axes[i][j]
      ax.axis('off')
      if j >= len(runs):
        continue
      sample = run_folder.latest_sample(runs[j].path)
      if sample:
        ax.imshow(mpimg.imread(sample))
      ax.set_title(
          f'{variant}\nseed {runs[j].seed}' if j == 0 else f'seed {runs[j].seed}', fontsize=6
      )
  fig.tight_layout()
  run_folder.write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=100))
  plt.close(fig)
  return path
