"""The house's shape holds: imports run one way, files and functions stay readable.

Layers (README "Layout"): gan_jax/ is the library; configs/, experiments/ and launch/ are edges that
import it. The library imports no edge, and experiments/ (what a run executes) imports nothing of
launch/ (what starts runs). Sizes: no file of gan_jax/, launch/, experiments/ or configs/ over
MAX_FILE_LINES, no function there over MAX_FUNCTION_LINES (tests and benchmarks are not held to it).
"""

import ast
import os

from tests.conftest import ROOT

MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60
PACKAGES = ('gan_jax', 'configs', 'experiments', 'launch')
# package -> the top-level packages of this repo it must not import
FORBIDDEN = {
    'gan_jax': ('configs', 'experiments', 'launch', 'benchmarks', 'tests'),
    'configs': ('experiments', 'launch', 'benchmarks', 'tests'),
    'experiments': ('launch', 'benchmarks', 'tests'),
    'launch': ('benchmarks', 'tests'),
}


def _sources(package):
  for folder, _, files in os.walk(os.path.join(ROOT, package)):
    for name in sorted(files):
      if name.endswith('.py'):
        path = os.path.join(folder, name)
        with open(path) as f:
          yield os.path.relpath(path, ROOT), f.read()


def _imported(tree):
  """Top-level package names of every import in `tree` (function-local imports included)."""
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      yield from (alias.name.split('.')[0] for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
      yield node.module.split('.')[0]


def test_no_layer_imports_one_above_it():
  found = [
      f'{path} imports {name}'
      for package, forbidden in FORBIDDEN.items()
      for path, text in _sources(package)
      for name in _imported(ast.parse(text))
      if name in forbidden
  ]
  assert not found, found


def test_files_and_functions_stay_short():
  long_files, long_functions = [], []
  for package in PACKAGES:
    for path, text in _sources(package):
      lines = len(text.splitlines())
      if lines > MAX_FILE_LINES:
        long_files.append(f'{path}: {lines} lines')
      for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
          length = node.end_lineno - node.lineno + 1
          if length > MAX_FUNCTION_LINES:
            long_functions.append(f'{path}:{node.lineno} {node.name}: {length} lines')
  assert not long_files, long_files
  assert not long_functions, long_functions
