"""Entry points re-execute themselves once with glibc's huge pages (experiments/host_memory.py)."""

import os
import subprocess
import sys

import pytest

from experiments import host_memory

GLIBC = ('glibc', '2.36')


@pytest.mark.parametrize(
    'environ, as_module, libc, thp, expected',
    [
        ({}, True, GLIBC, 'madvise', host_memory.TUNABLE),
        ({}, True, GLIBC, 'always', host_memory.TUNABLE),
        (
            {'GLIBC_TUNABLES': 'glibc.malloc.arena_max=2'},
            True,
            GLIBC,
            'madvise',
            'glibc.malloc.arena_max=2:' + host_memory.TUNABLE,
        ),
        ({}, False, GLIBC, 'madvise', None),  # imported, not started with -m: never
        ({}, True, GLIBC, 'never', None),
        ({}, True, GLIBC, None, None),
        ({}, True, ('glibc', '2.31'), 'madvise', None),  # no such tunable before 2.35
        ({}, True, ('', ''), 'madvise', None),  # musl
        ({'GAN_JAX_HUGE_PAGES': '0'}, True, GLIBC, 'madvise', None),  # turned off
        ({'GAN_JAX_HUGE_PAGES': '1'}, True, GLIBC, 'madvise', None),  # re-executed already
        ({'GLIBC_TUNABLES': 'glibc.malloc.hugetlb=0'}, True, GLIBC, 'madvise', None),
    ],
)
def test_when_the_environment_changes(environ, as_module, libc, thp, expected):
  new = host_memory.huge_pages_environ(environ, as_module, libc, thp)
  if expected is None:
    assert new is None
  else:
    assert new['GLIBC_TUNABLES'] == expected and new['GAN_JAX_HUGE_PAGES'] == '1'
    assert environ.get('GLIBC_TUNABLES') != expected  # the caller's dict is not changed


def _run(env):
  out = subprocess.run(
      [sys.executable, '-m', 'experiments.host_memory'],
      env=env,
      capture_output=True,
      text=True,
      timeout=60,
      check=True,
      cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
  )
  return out.stdout


def test_an_entry_point_runs_with_the_tunable_once():
  env = {k: v for k, v in os.environ.items() if k not in ('GLIBC_TUNABLES', 'GAN_JAX_HUGE_PAGES')}
  import platform  # pylint: disable=g-import-not-at-top

  if (
      host_memory.huge_pages_environ(env, True, platform.libc_ver(), host_memory._thp_mode())
      is None
  ):
    pytest.skip('no glibc >= 2.35 with transparent huge pages here')
  assert f"GLIBC_TUNABLES='{host_memory.TUNABLE}'" in _run(env)
  assert "GLIBC_TUNABLES=''" in _run({**env, 'GAN_JAX_HUGE_PAGES': '0'})
