"""Every command line of experiments/, launch/ and benchmarks/ answers --help with its usage and
exit code 0 (absl's own --help exits 1; gan_jax.cli.parse_flags makes it 0)."""

import ast
import concurrent.futures
import glob
import os

from tests.conftest import ROOT, run_module

PACKAGES = ('experiments', 'launch', 'benchmarks')


def entry_points():
  """{module: first line of its docstring} of every file with `if __name__ == '__main__'`."""
  found = {}
  for package in PACKAGES:
    for path in sorted(glob.glob(os.path.join(ROOT, package, '*.py'))):
      with open(path) as f:
        text = f.read()
      if "if __name__ == '__main__'" not in text:
        continue
      doc = ast.get_docstring(ast.parse(text)) or ''
      module = f'{package}.{os.path.basename(path)[:-3]}'
      found[module] = doc.splitlines()[0] if doc else ''
  return found


def _words(text):
  return ' '.join(text.split())


def test_help_exits_0_with_the_usage_on_every_entry_point():
  modules = entry_points()
  assert {'experiments.main', 'launch.sweep', 'launch.report', 'benchmarks.sweep'} <= set(modules)
  with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:  # each starts absl / JAX
    results = dict(
        zip(
            modules,
            pool.map(
                lambda m: run_module(m, '--help', env={'JAX_PLATFORMS': 'cpu'}, timeout=300),
                modules,
            ),
        )
    )
  bad = {}
  for module, first_line in modules.items():
    result = results[module]
    out = _words(result.stdout)
    shows_usage = first_line and _words(first_line) in out and '--' in out
    if result.returncode != 0 or not shows_usage:
      bad[module] = (result.returncode, result.stdout[-300:] + result.stderr[-500:])
  assert not bad, bad
