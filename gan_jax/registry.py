"""A registry: config name -> builder, declared as 'module.path:function' and imported on use.

`Registry({name: 'gan_jax.models.mlp:mlp', ...})` is a read-only mapping: `registry[name]`
imports the builder's module (once) and returns the builder, so `MODELS[name](...)` works as
with a dict; `name in registry`, iteration, `keys()` and `len` import nothing (`values()` and
`items()` import every builder). An unknown name is a KeyError, as a dict's; an entry is declared
(gan_jax/registries.py), not assigned (TypeError).

`fields(name)` -> {field: default} and `parameters(name)` -> {field: Field(default, annotation)}
are the builder's parameters that have a default, in signature order, read from its module's
source with `ast` (nothing is imported, so a config can be built without JAX): each default is
a literal or a module-level constant of the builder's module assigned a literal; an annotation
is its source text ('str | None'), '' where there is none. tests/test_registry.py checks both
against `inspect.signature` of every imported builder (the signature stays the one truth).
"""

import ast
import collections.abc
import functools
import importlib
import importlib.util
import os
from typing import NamedTuple


class Field(NamedTuple):
  """A builder's parameter with a default: the default's value and the annotation's source."""

  default: object
  annotation: str


class Registry(collections.abc.Mapping):
  """name -> builder, each declared as 'module.path:function' (module docstring)."""

  def __init__(self, paths):
    self._paths = dict(paths)
    self._loaded = {}

  def path(self, name) -> str:
    """The builder's 'module.path:function'; KeyError for an unknown name."""
    return self._paths[name]

  def __getitem__(self, name):
    if name not in self._loaded:
      module, function = self._paths[name].split(':')
      self._loaded[name] = getattr(importlib.import_module(module), function)
    return self._loaded[name]

  def __setitem__(self, name, builder):
    raise TypeError(f'{name}: a registry is declared in gan_jax/registries.py (name -> module:f)')

  def __contains__(self, name):
    return name in self._paths

  def __iter__(self):
    return iter(self._paths)

  def __len__(self):
    return len(self._paths)

  def __or__(self, other):
    """The entries of both (`other`'s where a name is in both), a Registry."""
    return Registry({**self._paths, **other._paths})

  def __repr__(self):
    return f'Registry({self._paths!r})'

  def parameters(self, name) -> dict:
    """{field: Field(default, annotation)} of the builder `name`, from its source."""
    return dict(_parameters(*self._paths[name].split(':')))

  def fields(self, name) -> dict:
    """{field: default} of the builder `name`: its parameters with defaults, from its source."""
    return {n: f.default for n, f in self.parameters(name).items()}


def _source_path(module) -> str:
  """The file of `module` ('a.b.c'), found without importing it or its parent packages."""
  top, *rest = module.split('.')
  spec = importlib.util.find_spec(top)
  if not rest:
    return spec.origin
  path = os.path.join(spec.submodule_search_locations[0], *rest)
  return path + '.py' if os.path.isfile(path + '.py') else os.path.join(path, '__init__.py')


@functools.cache
def _module_source(module) -> ast.Module:
  path = _source_path(module)
  with open(path, encoding='utf-8') as f:
    return ast.parse(f.read(), path)


def _constant(tree, name, where):
  """The literal value the module-level `name = <literal>` assigns (the last one)."""
  values = [
      node.value
      for node in tree.body
      if isinstance(node, (ast.Assign, ast.AnnAssign))
      and node.value is not None
      and any(isinstance(t, ast.Name) and t.id == name for t in _targets(node))
  ]
  if not values:
    raise ValueError(f'{where}: {name} is not a module-level constant')
  return ast.literal_eval(values[-1])


def _targets(node):
  return node.targets if isinstance(node, ast.Assign) else [node.target]


def _value(tree, node, where):
  """A default's value: a literal, or a module-level constant's."""
  if isinstance(node, ast.Name):
    return _constant(tree, node.id, where)
  try:
    return ast.literal_eval(node)
  except ValueError:
    raise ValueError(f'{where}: the default must be a literal or a constant') from None


@functools.cache
def _parameters(module, function) -> tuple:
  """((field, Field), ...) of the module-level function `function` of `module`."""
  tree = _module_source(module)
  found = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function]
  if not found:
    raise ValueError(f'{module}:{function}: no module-level function {function}')
  args = found[-1].args  # the last definition is the module's
  positional = args.posonlyargs + args.args
  defaults = [None] * (len(positional) - len(args.defaults)) + args.defaults
  pairs = [*zip(positional, defaults), *zip(args.kwonlyargs, args.kw_defaults)]
  return tuple(
      (
          arg.arg,
          Field(
              _value(tree, default, f'{module}:{function}({arg.arg}=...)'),
              ast.unparse(arg.annotation) if arg.annotation else '',
          ),
      )
      for arg, default in pairs
      if default is not None
  )
