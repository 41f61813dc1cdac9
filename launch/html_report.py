"""report.html: a study's report as one page that opens in a browser without a server.

Per dataset: the table of results.md (launch/tables.py variant_table), its plots and sample
sheet (the PNGs the report wrote, embedded as base64 `data:image/png` URIs, so the page is a
single file that can be mailed or copied alone), and a table of its runs: status, flags, final
step, and the run's config diff against the study's base (launch/config_diffs.py). Every text
from a run (names, fields, values) is escaped with html.escape.
"""

import base64
import html
import os
import re

from gan_jax import workdir as run_folder
from launch.tables import INTRO, variant_table

STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.diff { font-family: monospace; font-size: 0.85em; white-space: pre; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
code { background: #f3f3f3; padding: 0 0.2em; }
.flag { color: #a00; }
"""

PLOT_TITLES = {
    'metrics': 'Metrics against the step (mean over seeds, min-max shaded)',
    'losses': 'D and G losses (TensorBoard)',
    'samples': 'Final samples (one row per variant, one column per seed)',
    'stages': "Grown runs: samples at each stage's end (one row per variant, its first seed)",
}


def text(value):
  """Escaped text, `code` spans as <code>."""
  return re.sub(r'`([^`]*)`', r'<code>\1</code>', html.escape(str(value)))


def data_uri(path):
  """The PNG file `path` as a data: URI."""
  with open(path, 'rb') as f:
    return 'data:image/png;base64,' + base64.b64encode(f.read()).decode('ascii')


def image(path, alt):
  return f'<img src="{data_uri(path)}" alt="{html.escape(alt)}">'


def table(header, rows, classes=None):
  """<table> of header and rows of cells (strings, escaped); classes: {column: css class}."""
  classes = classes or {}
  head = ''.join(f'<th>{text(h)}</th>' for h in header)
  body = []
  for row in rows:
    cells = []
    for i, cell in enumerate(row):
      css = f' class="{classes[i]}"' if i in classes else ''
      cells.append(f'<td{css}>{html.escape(str(cell))}</td>')
    body.append('<tr>' + ''.join(cells) + '</tr>')
  return f'<table>\n<tr>{head}</tr>\n' + '\n'.join(body) + '\n</table>'


def anchor(dataset):
  return 'data-' + ''.join(c if c.isalnum() else '-' for c in str(dataset))


def runs_table(variants, diffs):
  """One row per run of a dataset: variant, run, seed, status, flags, final step, config diff."""
  rows = []
  for variant, runs in variants.items():
    for run in runs:
      diff = diffs.get(run.name)
      shown = '(no readable config.json)' if diff is None else '\n'.join(diff) or '(the base)'
      step = '' if run.final_step is None else run.final_step
      rows.append([variant, run.name, run.seed, run.status, ', '.join(run.flags()), step, shown])
  header = ['variant', 'run', 'seed', 'status', 'flags', 'final step', 'config diff']
  return table(header, rows, {4: 'flag', 6: 'diff'})


def dataset_section(dataset, variants, metrics, plots, diffs):
  header, rows, note = variant_table(variants, metrics)
  parts = [f'<h2 id="{anchor(dataset)}">{text(dataset)}</h2>']
  if note:
    parts.append(f'<p>{text(note)}</p>')
  parts.append(table(header, rows, {len(header) - 1: 'flag'}))
  for kind, path in plots.items():
    parts.append(f'<h3>{text(PLOT_TITLES.get(kind, kind))}</h3>')
    parts.append(image(path, f'{kind} {dataset}'))
  parts.append('<h3>Runs and their config against the base</h3>')
  parts.append(runs_table(variants, diffs))
  return '\n'.join(parts)


def render(root, groups, metrics, plots, base_label, diffs, notes=()):
  """The page: a title, the reading notes, a contents line, one section per dataset, the notes
  (runs without metrics, runs not started)."""
  title = f'Results of {os.path.abspath(root)}'
  contents = ' · '.join(f'<a href="#{anchor(d)}">{text(d)}</a>' for d in groups)
  body = [
      f'<h1>{text(title)}</h1>',
      f'<p>{text(INTRO)}</p>',
      f'<p>Config diffs are against the study\'s base: {text(base_label)} '
      '(<code>field: base -> run</code>).</p>',
      f'<p>Datasets: {contents}</p>',
  ]
  for dataset, variants in groups.items():
    body.append(dataset_section(dataset, variants, metrics, plots.get(dataset, {}), diffs))
  body += [f'<p>{text(n)}</p>' for n in notes]
  return (
      '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
      f'<title>{text(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n'
      + '\n'.join(body)
      + '\n</body>\n</html>\n'
  )


def write_html(root, groups, metrics, plots, base_label, diffs, notes=()):
  """Writes DIR/report.html (atomically); returns its path."""
  page = render(root, groups, metrics, plots, base_label, diffs, notes)
  return run_folder.write_atomically(os.path.join(root, 'report.html'), page)
