"""A study's plots: each metric against the training step per variant (mean over seeds, shaded
min-max), D and G losses from TensorBoard, the final sample grid of every run, and for grown runs
(model.name='progan') the samples at each stage's end."""

import glob
import math
import os

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


# Line styles, then markers, that tell apart series of the same colour (a marker on each point
# also shows where a study evaluated).
LINE_STYLES = ('-', '--', ':', '-.')
MARKERS = ('', 'o', 's', '^')
# A series of one point has no line: it wears its own marker instead.
POINT_MARKERS = ('o', 's', '^', 'D', 'v', 'P', 'X', '*', '<', '>', 'p', 'h', 'H', 'd', '8', '+')
COLOURS = 10  # matplotlib's default cycle, tab10


def series_styles(n):
  """One {color, linestyle, marker, point} per series, no two alike: colours of tab10, each worn
  by ceil(n / 10) consecutive series in different line styles (so a variant's last field, which a
  sweep varies fastest, is the style and the others the colour: 14 variants of 7 losses x 2 R1
  are 7 colours, solid and dashed); `point`, the marker of a series of one point, differs as the
  style does. Beyond 10 x 16 series the styles repeat."""
  kinds = [(ls, m) for m in MARKERS for ls in LINE_STYLES]
  per_colour = min(len(kinds), max(1, math.ceil(n / COLOURS)))
  out = []
  for i in range(n):
    linestyle, marker = kinds[i % per_colour]
    colour = f'C{(i // per_colour) % COLOURS}'
    point = POINT_MARKERS[i % per_colour]
    out.append({'color': colour, 'linestyle': linestyle, 'marker': marker, 'point': point})
  return out


def _dodges(series):
  """{variant: x offset} of the series of one point: side by side around their step over a tenth
  of the panel's width (its steps' span, or the step itself when all share one), so that their
  markers and min-max bars do not hide each other."""
  singles = [v for v, steps in series if len(steps) == 1]
  xs = [x for _, steps in series for x in steps]
  if not singles:
    return {}
  width = 0.1 * ((max(xs) - min(xs)) or abs(max(xs)) or 1)
  gap = width / len(singles)
  return {v: (k - (len(singles) - 1) / 2) * gap for k, v in enumerate(singles)}


def _plot_lines(ax, variants, get_series, label_variants=True):
  """Per variant the mean over its runs against the step, min-max shaded; a series of one point
  (a study that evaluates only at the end) is a marker with its min-max as a bar."""
  series = [(v, _series_by_step([get_series(r) for r in runs])) for v, runs in variants.items()]
  dodge = _dodges(series)
  for (variant, steps), look in zip(series, series_styles(len(series))):
    if not steps:
      continue
    xs = list(steps)
    mean = [sum(v) / len(v) for v in steps.values()]
    low, high = [min(v) for v in steps.values()], [max(v) for v in steps.values()]
    label = variant if label_variants else None
    if len(xs) == 1:
      xs = [xs[0] + dodge[variant]]
      point = {'color': look['color'], 'marker': look['point'], 'linestyle': 'none'}
      ax.plot(xs, mean, label=label, markersize=6, **point)
      ax.vlines(xs, low, high, color=look['color'], alpha=0.6)
      continue
    style = {k: v for k, v in look.items() if k != 'point'}
    ax.plot(xs, mean, label=label, linewidth=1.2, markersize=3, **style)
    ax.fill_between(xs, low, high, color=style['color'], alpha=0.12)


def _save_panels(plt, fig, axes, path):
  """A row of panels against the step, the legend beneath them (in columns when there are many
  variants): written to `path` (PNG)."""
  for ax in axes[0]:
    ax.set_xlabel('step')
  handles, labels = axes[0][0].get_legend_handles_labels()
  fig.tight_layout()
  if handles:
    columns = max(1, min(len(handles), 2 * len(axes[0]), math.ceil(len(handles) / 4)))
    fig.legend(
        handles,
        labels,
        loc='upper center',
        bbox_to_anchor=(0.5, 0.0),
        ncol=columns,
        fontsize=8,
        handlelength=3,
        frameon=False,
    )
  save = lambda tmp: fig.savefig(tmp, dpi=80, bbox_inches='tight')
  run_folder.write_atomically(path, save)
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
        ax.imshow(mpimg.imread(sample), cmap='gray')
      ax.set_title(
          f'{variant}\nseed {runs[j].seed}' if j == 0 else f'seed {runs[j].seed}', fontsize=6
      )
  fig.tight_layout()
  run_folder.write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=100))
  plt.close(fig)
  return path


def stage_samples(path, config):
  """[(label, png)] of a grown run's sample grids at each stage's end ('16x16 (step 625)'), or []
  for a run that is not grown (or has no data.json)."""
  info = run_folder.read_data_info(path)
  if not config or config.model.name != 'progan' or not info:
    return []
  from gan_jax.programs.progressive import stage_ends  # pylint: disable=g-import-not-at-top

  paths = glob.glob(os.path.join(path, run_folder.SAMPLES_DIR, 'step_*.png'))
  steps = {int(os.path.basename(p)[5:-4]): p for p in paths}
  ends = stage_ends(config, info['shape'][0], steps)
  return [(f'{r}x{r} (step {step})', steps[step]) for _, r, step in ends]


def plot_stages(variants, path):
  """One row per variant of grown runs: its first seed's samples at the end of each stage."""
  rows = []
  for variant, runs in variants.items():
    first = min(runs, key=lambda r: (r.seed is None, r.seed))
    if stages := stage_samples(first.path, first.config):
      rows.append((f'{variant}, seed {first.seed}', stages))
  return stage_sheet(rows, path) if rows else None


def stage_sheet(rows, path):
  """path: a sheet of [(row title, [(label, png)])], a row each (stage_samples' lists)."""
  import matplotlib  # pylint: disable=g-import-not-at-top

  matplotlib.use('Agg')
  import matplotlib.image as mpimg  # pylint: disable=g-import-not-at-top
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  cols = max(len(stages) for _, stages in rows)
  fig, axes = plt.subplots(len(rows), cols, figsize=(2.2 * cols, 2.4 * len(rows)), squeeze=False)
  for i, (name, stages) in enumerate(rows):
    for j in range(cols):
      ax = axes[i][j]
      ax.axis('off')
      if j < len(stages):
        ax.imshow(mpimg.imread(stages[j][1]), interpolation='nearest', cmap='gray')
        ax.set_title(f'{name}\n{stages[j][0]}' if j == 0 else stages[j][0], fontsize=6)
  fig.tight_layout()
  run_folder.write_atomically(path, lambda tmp: fig.savefig(tmp, dpi=100))
  plt.close(fig)
  return path
