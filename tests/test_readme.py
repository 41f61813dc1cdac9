"""The README's pictures come from commands in the repo: none can drift in unlisted."""

import os
import re

from launch import readme_figures
from tests.conftest import ROOT


def _readme():
  with open(os.path.join(ROOT, 'README.md')) as f:
    return f.read()


def test_every_picture_the_readme_shows_is_made_by_a_listed_command():
  shown = set(re.findall(r'!\[[^\]]*\]\(docs/([^)]+)\)', _readme()))
  made = {doc for _, files in readme_figures.FIGURES.values() for doc in files}
  assert shown, 'no pictures found'
  missing = shown - made - set(readme_figures.MADE_ELSEWHERE)
  assert not missing, f'README pictures with no command in launch/readme_figures.py: {missing}'
  for doc in shown:
    assert os.path.getsize(os.path.join(ROOT, 'docs', doc)) > 0


def test_the_readme_prints_the_commands_that_make_its_pictures():
  text = _readme()
  for name, (commands, files) in readme_figures.FIGURES.items():
    if not any(f'docs/{doc}' in text for doc in files):
      continue  # not shown (yet)
    for command in commands:
      module, *args = command.split()
      flags = [a.split('=')[0] for a in args if not a.startswith('--workdir') and '{w}' not in a]
      assert f'python -m {module}' in text, (name, command)
      for flag in flags:
        assert flag in text, (name, command, flag)
