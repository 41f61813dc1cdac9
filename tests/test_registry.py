"""gan_jax/registry.py: a registry's fields read from the builders' source equal their signatures,
and configs/ import none of the heavy libraries (the charter: configs are light to import)."""

import importlib
import inspect
import subprocess
import sys
import textwrap
import types

import pytest

from gan_jax import registries, schema
from gan_jax.registry import Field, Registry
from tests.conftest import ROOT

REGISTRIES = {n: r for n, r in vars(registries).items() if isinstance(r, Registry)}
ENTRIES = [(r, n) for r, registry in sorted(REGISTRIES.items()) for n in registry]
HEAVY = ('jax', 'flax', 'optax', 'tensorflow', 'tensorflow_datasets', 'orbax', 'torch')


def _typed(value):
  """A default with its type (and FieldReference's field type): 2 and 2.0 differ."""
  if hasattr(value, 'get_type'):
    return ('FieldReference', value.get_type(), value.get())
  return (type(value), value)


@pytest.mark.parametrize('registry,name', ENTRIES, ids=lambda a: str(a))
def test_fields_read_from_source_are_the_signature(registry, name):
  read = REGISTRIES[registry].parameters(name)
  params = inspect.signature(REGISTRIES[registry][name]).parameters
  assert list(read) == [n for n, p in params.items() if p.default is not inspect.Parameter.empty]
  for field, got in read.items():
    want = params[field]
    assert _typed(got.default) == _typed(want.default), field
    annotation = want.annotation
    if isinstance(annotation, types.UnionType):
      annotation = str(annotation)
    if isinstance(annotation, str):
      assert got.annotation == annotation, field
    assert _typed(schema._default(got)) == _typed(schema._default(want)), field
  assert REGISTRIES[registry].fields(name) == {f: p.default for f, p in read.items()}


def test_the_packages_reexport_the_declared_registries():
  from gan_jax import data, losses, optimizers, regularizers  # pylint: disable=g-import-not-at-top
  from gan_jax import models  # pylint: disable=g-import-not-at-top
  from gan_jax.models import translation  # pylint: disable=g-import-not-at-top

  assert models.MODELS is registries.MODELS and data.DATASETS is registries.DATASETS
  assert losses.LOSSES is registries.LOSSES and optimizers.OPTIMIZERS is registries.OPTIMIZERS
  assert regularizers.PENALTIES is registries.PENALTIES
  assert translation.TRANSLATION_MODELS is registries.TRANSLATION_MODELS
  assert models.MODELS['mlp'] is models.mlp and losses.LOSSES['f_gan'] is losses.f_gan
  assert registries.DIVERGENCE_NAMES == tuple(losses.DIVERGENCES)
  stacked_mnist = importlib.import_module('gan_jax.data.stacked_mnist')  # not data's function
  assert registries.DIGIT_SOURCE_NAMES == tuple(stacked_mnist.DIGIT_SOURCES)


def test_a_registry_reads_constants_and_imports_only_on_lookup(tmp_path, monkeypatch):
  (tmp_path / 'registry_sample.py').write_text(
      textwrap.dedent(
          """
          SIZE = 3
          def build(shape, depth: int = SIZE, *, name: str | None = None, scale=-0.5): return depth
          def odd(width=SIZE + 1): return width
          """
      )
  )
  monkeypatch.syspath_prepend(str(tmp_path))
  sample = Registry({'build': 'registry_sample:build', 'odd': 'registry_sample:odd'})
  both = sample | Registry({'gone': 'no_such_module_here:f'})
  assert list(both) == ['build', 'odd', 'gone'] and 'gone' in both and len(both) == 3
  assert sample.parameters('build') == {
      'depth': Field(3, 'int'),
      'name': Field(None, 'str | None'),
      'scale': Field(-0.5, ''),
  }
  assert 'registry_sample' not in sys.modules  # read from the source only
  assert schema.entry_defaults(sample, 'build')['name'] is not None  # a typed FieldReference
  with pytest.raises(ValueError, match='width=.*literal or a constant'):
    sample.fields('odd')
  with pytest.raises(KeyError):
    sample['nope']
  with pytest.raises(KeyError):
    sample.fields('nope')
  assert sample['build'](None) == 3 and 'registry_sample' in sys.modules
  with pytest.raises(ModuleNotFoundError):
    both['gone']
  with pytest.raises(TypeError, match='gan_jax/registries.py'):
    sample['new'] = len


LIGHT_IMPORTS = f"""
import glob, importlib, sys
sys.path.insert(0, {ROOT!r})
import gan_jax, gan_jax.schema, launch.sweep
from launch import study
for path in sorted(glob.glob('configs/*.py') + glob.glob('configs/*/*.py')):
  module = importlib.import_module(path[:-3].replace('/', '.').removesuffix('.__init__'))
  if hasattr(module, 'get_config'):
    module.get_config()
  if hasattr(module, 'sweep'):
    study.expand(module, None)
print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))
"""


def test_configs_and_the_sweep_launcher_import_no_heavy_library():
  proc = subprocess.run(
      [sys.executable, '-c', LIGHT_IMPORTS], cwd=ROOT, capture_output=True, text=True, timeout=120
  )
  assert proc.returncode == 0, proc.stderr
  assert proc.stdout.strip() == '[]', proc.stdout
