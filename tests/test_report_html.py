"""launch.report's report.html and its plots, from run folders made by hand (no training): the
page embeds every table, plot and sample sheet, shows each run's config diff against the study's
base, escapes what comes from runs; the plots give each of many variants its own look."""

import base64
import html.parser
import io
import json
import os

import numpy as np
import pytest
from PIL import Image

from configs import mixture_2d
from gan_jax import workdir
from launch import config_diffs, html_report, plots, report, sweep

BASE_FILE = """
from configs import mixture_2d

def get_config(arg=None):
  c = mixture_2d.get_config(arg or 'ring8')
  c.train.num_steps = 40
  return c
"""

# A run name with HTML's special characters: a study folder may hold any name.
ODD = 'r1=<b>0.5</b>&"x",seed=0'
RUNS = [  # (name, overrides)
    ('r1=0.0,seed=0', {'reg.r1': 0.0, 'seed': 0}),
    ('r1=0.0,seed=1', {'reg.r1': 0.0, 'seed': 1}),
    (ODD, {'reg.r1': 0.5, 'seed': 0}),
]


def _tiny_png(path, value):
  pixels = np.full((8, 8, 3), value, np.uint8)
  workdir.write_atomically(path, lambda tmp: Image.fromarray(pixels).save(tmp))


def make_run(root, name, overrides):
  """A finished run's folder as training leaves it: config.json, checkpoints at 20 and 40, the
  modes metric at both, D and G losses in TensorBoard, a final sample grid."""
  from tensorboardX import SummaryWriter  # pylint: disable=g-import-not-at-top

  run = os.path.join(root, name)
  config = mixture_2d.get_config('ring8')
  config.train.num_steps = 40
  config.reg.r1, config.seed = overrides['reg.r1'], overrides['seed']
  workdir.write_config(run, config)
  r = overrides['reg.r1'] + overrides['seed']
  for step in (20, 40):
    done = os.path.join(run, workdir.CHECKPOINT_DIR, str(step), workdir.ORBAX_DONE_FILE)
    workdir.write_atomically(done, '{}')
    values = {'modes': 4 + step // 10 * r, 'high_quality': 0.5, 'reverse_kl': 0.1 + r}
    entry = {'metric': 'modes', 'seed': 0, 'weights': 'ema', 'by': 'training'}
    workdir.add_results(
        run, step, [{**entry, 'num_samples': 200, 'values': values, 'protocol': {}}]
    )
  with SummaryWriter(run) as writer:
    for step in (10, 20, 30, 40):
      writer.add_scalar('d_loss', 1.0 - r * step / 100, step)
      writer.add_scalar('g_loss', 0.7 + r * step / 100, step)
      writer.add_scalar('wall_seconds', 60 * (1 + r) * step / 40, step)  # (1 + r) minutes
  _tiny_png(workdir.sample_path(run, 40), int(200 * r) % 255)


@pytest.fixture(scope='module')
def study(tmp_path_factory):
  """A study folder of three finished runs, its sweep.json naming the base config file; the
  report written with --no_eval. (root, runs)."""
  folder = tmp_path_factory.mktemp('study')
  base = folder / 'base.py'
  base.write_text(BASE_FILE)
  root = str(folder / 'runs')
  for name, overrides in RUNS:
    make_run(root, name, overrides)
  runs = [sweep.Run(name, overrides, None, '') for name, overrides in RUNS]
  workdir.write_json(
      os.path.join(root, sweep.SWEEP_FILE),
      sweep.sweep_record(str(base), None, runs, 'python', root),
  )
  return root, report.report(root, no_eval=True)


class Page(html.parser.HTMLParser):
  """The images, the tables (rows of cell texts) and the text of a page."""

  def __init__(self, page):
    super().__init__()
    self.images, self.tables, self.text, self._cell = [], [], [], None
    self.feed(page)

  def handle_starttag(self, tag, attrs):
    if tag == 'img':
      self.images.append(dict(attrs))
    elif tag == 'table':
      self.tables.append([])
    elif tag == 'tr':
      self.tables[-1].append([])
    elif tag in ('td', 'th'):
      self._cell = []

  def handle_endtag(self, tag):
    if tag in ('td', 'th'):
      self.tables[-1][-1].append(''.join(self._cell))
      self._cell = None

  def handle_data(self, data):
    self.text.append(data)
    if self._cell is not None:
      self._cell.append(data)


def test_report_html_embeds_every_table_plot_and_sample_sheet(study):
  root, runs = study
  assert len(runs) == 3
  with open(os.path.join(root, 'report.html')) as f:
    page = Page(f.read())
  # every image is an embedded PNG (the page needs no other file) and the plots are all there
  assert len(page.images) == 3
  for img in page.images:
    prefix = 'data:image/png;base64,'
    assert img['src'].startswith(prefix)
    data = base64.b64decode(img['src'][len(prefix) :], validate=True)
    assert Image.open(io.BytesIO(data)).format == 'PNG'
  assert [i['alt'] for i in page.images] == ['metrics ring8', 'losses ring8', 'samples ring8']
  written = sorted(n for n in os.listdir(root) if n.endswith('.png'))
  assert written == ['losses_ring8.png', 'metrics_ring8.png', 'samples_ring8.png']
  with open(os.path.join(root, 'metrics_ring8.png'), 'rb') as f:
    assert html_report.data_uri(f.name) == page.images[0]['src'] and f.read()
  # the results table is results.md's, cell for cell
  with open(os.path.join(root, 'results.md')) as f:
    md = [line for line in f.read().splitlines() if line.startswith('| ')]
  md_rows = [[c.strip() for c in line.strip('|').split('|')] for line in md]
  assert page.tables[0] == md_rows
  assert md_rows[0][:5] == ['variant', 'n', 'modes.modes', 'modes.high_quality', 'modes.reverse_kl']
  assert [row[:2] for row in md_rows[1:]] == [['r1=0.0', '2'], ['r1=0.5', '1']]
  minutes = md_rows[0].index('time.minutes')  # the training time (wall_seconds at the end)
  assert [row[minutes] for row in md_rows[1:]] == ['1.5 ± 0.7071', '1.5 ± 0']


def test_report_html_shows_each_runs_config_diff_and_escapes_names(study):
  root, _ = study
  with open(os.path.join(root, 'report.html')) as f:
    raw = f.read()
  page = Page(raw)
  assert '<b>0.5</b>' not in raw and '&lt;b&gt;0.5&lt;/b&gt;&amp;&quot;x&quot;' in raw
  header, *rows = page.tables[1]
  assert header == ['variant', 'run', 'seed', 'status', 'flags', 'final step', 'config diff']
  by_run = {row[1]: row for row in rows}
  assert set(by_run) == {name for name, _ in RUNS}  # the odd name reads back as it is
  base = mixture_2d.get_config('ring8').reg.r1
  assert by_run['r1=0.0,seed=1'][6].splitlines() == [
      f'reg.r1: {base!r} -> 0.0',
      'seed: 0 -> 1',
  ]
  assert by_run[ODD][6] == f'reg.r1: {base!r} -> 0.5'
  assert [by_run[ODD][i] for i in (2, 3, 5)] == ['0', 'finished', '40']
  assert 'get_config() of ' in ''.join(page.text)
  # without sweep.json's file the base is the first run's config, and the label says so
  record = sweep.read_sweep(root)
  record['config'] = 'gone.py'
  workdir.write_json(os.path.join(root, 'moved', sweep.SWEEP_FILE), record)
  runs = [report.RunData(root, n, o, None, ([], {})) for n, o in RUNS]
  label, config = config_diffs.study_base(os.path.join(root, 'moved'), runs)
  assert label == 'the config of run r1=0.0,seed=0 (gone.py is not found)'
  assert config_diffs.run_diffs(runs, config)['r1=0.0,seed=1'] == ['seed: 0 -> 1']


def test_many_variants_get_distinct_styles_and_a_one_point_series_a_marker():
  import matplotlib  # pylint: disable=g-import-not-at-top

  matplotlib.use('Agg')
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top

  variants = {f'v{i}': [[(10, i), (20, i + 1)], [(10, i + 0.5), (20, i)]] for i in range(14)}
  variants['end only'] = [[(20, 3.0)], [(20, 4.0)]]
  fig, ax = plt.subplots()
  plots._plot_lines(ax, variants, lambda series: series)
  lines = {line.get_label(): line for line in ax.get_lines()}
  assert len(lines) == 15
  looks = {(l.get_color(), l.get_linestyle(), l.get_marker()) for l in lines.values()}
  assert len(looks) == 15
  pairs = {(lines[f'v{i}'].get_color(), lines[f'v{i}'].get_linestyle()) for i in range(14)}
  assert len(pairs) == 14
  one = lines['end only']
  assert one.get_marker() not in ('', 'None', None) and one.get_linestyle() == 'None'
  assert list(one.get_ydata()) == [3.5]
  # series of one point each (studies that evaluate at the end): no two markers alike either
  ends = {f'v{i}': [[(20, i)]] for i in range(14)}
  ax.clear()
  plots._plot_lines(ax, ends, lambda series: series)
  assert len({(l.get_color(), l.get_marker()) for l in ax.get_lines()}) == 14
  plt.close(fig)
  # each colour is worn by few series, in different line styles
  styles = plots.series_styles(14)
  assert len({s['color'] for s in styles}) == 7
  assert len({tuple(s.items()) for s in plots.series_styles(160)}) == 160


def test_a_run_still_training_is_flagged_and_left_out_of_the_means(tmp_path):
  """Seed 1 of r1=0.0 has reached step 20 of 40: its step-20 numbers are not its result."""
  root = str(tmp_path / 'runs')
  for name, overrides in RUNS[:2]:
    make_run(root, name, overrides)
  unfinished = os.path.join(root, RUNS[1][0])
  os.remove(os.path.join(unfinished, workdir.CHECKPOINT_DIR, '40', workdir.ORBAX_DONE_FILE))
  os.rmdir(os.path.join(unfinished, workdir.CHECKPOINT_DIR, '40'))
  os.remove(os.path.join(unfinished, 'eval', '40.json'))
  report.report(root, no_eval=True)
  with open(os.path.join(root, 'results.md')) as f:
    row = next(line for line in f if line.startswith(('| r1=0.0 |', '| (base) |')))
  cells = [c.strip() for c in row.strip('|\n').split('|')]
  assert cells[1] == '1'  # n: seed 0 alone
  assert cells[2].split()[0] == '4'  # seed 0's modes at 40 (seed 1's 6 at step 20 left out of the mean)
  assert cells[-1] == 'seed 1: unfinished'
