"""Transparent huge pages for the host buffers XLA:CPU allocates on every step.

XLA:CPU mallocs each step's buffers (428 MiB of temporaries for wgan_gp.py:cifar10);
glibc serves large ones with fresh mmaps, so every step faults in and zeroes them 4 KiB
at a time (~120k page faults per WGAN-GP iteration on a 2-core x86). glibc's tunable
`glibc.malloc.hugetlb=1` (glibc >= 2.35) madvises those mappings for transparent huge
pages: 2 MiB faults, ~10k per iteration. It is read when the process starts, so an entry
point started as `python -m experiments.<name>` re-executes itself once with it set (same
PID, arguments and environment otherwise), before any heavy import, and sets
GAN_JAX_HUGE_PAGES=1 so that it never does so twice. GAN_JAX_HUGE_PAGES=0 (or any value)
turns this off; a GLIBC_TUNABLES that names glibc.malloc.hugetlb is left as it is.
"""

import os
import platform
import sys

TUNABLE = 'glibc.malloc.hugetlb=1'
_THP_MODE = '/sys/kernel/mm/transparent_hugepage/enabled'


def _thp_mode(path=_THP_MODE):
  """The kernel's transparent huge page mode ('always', 'madvise', 'never'), or None."""
  try:
    with open(path) as f:
      text = f.read()
  except OSError:
    return None
  return text[text.index('[') + 1 : text.index(']')] if '[' in text else None


def _glibc_at_least(version, wanted=(2, 35)):
  try:
    return tuple(int(p) for p in version.split('.')[:2]) >= wanted
  except ValueError:
    return False


def huge_pages_environ(environ, started_as_module, libc, thp_mode):
  """The environment to re-execute with, or None where nothing should change.

  environ: the current environment; started_as_module: sys.argv[0] == '-m' while the
  package imports (Python's documented value during `-m`'s import); libc: platform.libc_ver().
  """
  name, version = libc
  if not started_as_module or name != 'glibc' or not _glibc_at_least(version):
    return None
  if thp_mode not in ('always', 'madvise') or 'GAN_JAX_HUGE_PAGES' in environ:
    return None
  tunables = environ.get('GLIBC_TUNABLES', '')
  if 'glibc.malloc.hugetlb' in tunables:
    return None
  new = dict(environ)
  new['GLIBC_TUNABLES'] = f'{tunables}:{TUNABLE}' if tunables else TUNABLE
  new['GAN_JAX_HUGE_PAGES'] = '1'
  return new


def reexec_with_huge_pages():
  """Re-executes this `python -m experiments.<name>` process with TUNABLE set, where it helps."""
  if sys.platform != 'linux':
    return
  environ = huge_pages_environ(os.environ, sys.argv[:1] == ['-m'], platform.libc_ver(), _thp_mode())
  if environ is None:
    return
  try:
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], environ)
  except OSError:  # cannot re-execute: run as we are
    pass


if __name__ == '__main__':  # python -m experiments.host_memory: what this process runs with
  print(f'GLIBC_TUNABLES={os.environ.get("GLIBC_TUNABLES", "")!r} pid={os.getpid()}')
