"""Checkpoint formats: the version each checkpoint states, and how an older one becomes today's.

Every checkpoint's metadata (gan_jax/checkpoint.py) holds 'format': FORMAT; one without the key
was written before formats existed and is format 1. What each format holds:

  1  no 'format' key: gan_jax before issue 25. If written before 0345c9c (2 Dec 2026), its
     state has no `ema_state` (the EMA of G's BatchNorm / spectral-norm statistics).
  2  'format': 2: the state of gan_jax/state.py, `ema_state` always there.

`MIGRATIONS[f]` makes a format-f state a format f+1 one, on the state's top-level fields as a
dict ({'step': ..., 'g_params': ..., ...}), in two halves: `saved_as(fields, saved)` gives the
fields that format saved (the restore target; `saved`: the names of the fields the checkpoint
holds) and `forward(fields)` turns them into the next format's, with a note for the user, or
None when nothing had to change. A format this version cannot read (newer than FORMAT, or
older than OLDEST, whose last reader `RETIRED` names) is one line saying which gan_jax reads it.
"""

import dataclasses
from typing import Callable

import jax

FORMAT = 2  # what `Checkpoints.save` writes
OLDEST = 1  # the oldest format this version reads
RETIRED = {}  # {format < OLDEST: (what wrote it, the last gan_jax that reads it)}


def format_of(metadata) -> int:
  """The format a checkpoint's metadata states (1 if it states none); -1 if not an int."""
  value = metadata.get('format', 1)
  return value if isinstance(value, int) and not isinstance(value, bool) else -1


def unreadable(fmt):
  """Why this version cannot read format `fmt` ('is format F, ...'), or None if it can."""
  if OLDEST <= fmt <= FORMAT:
    return None
  reads = f'this version reads formats {OLDEST} to {FORMAT}'
  if fmt > FORMAT:
    return f'is format {fmt}, written by a newer gan_jax; {reads} (use the gan_jax that wrote it)'
  if fmt in RETIRED:
    wrote, reader = RETIRED[fmt]
    return f'is format {fmt}, written by {wrote}; {reads} (use {reader} to sample or resume it)'
  return f'is format {fmt}, which no gan_jax wrote; {reads}'


@dataclasses.dataclass(frozen=True)
class Migration:
  """From one format to the next (module docstring)."""

  saved_as: Callable[[dict, frozenset], dict]
  forward: Callable[[dict], tuple[dict, str | None]]


def _without_ema_state(fields, saved):
  """The restore target of a format-1 checkpoint: without `ema_state` if it holds none."""
  return {k: v for k, v in fields.items() if k != 'ema_state' or 'ema_state' in saved}


def _ema_state_from_g_state(fields):
  """`ema_state` = a copy of `g_state` where missing: as `create_state` starts the EMA, and the
  statistics that version drew the EMA weights with (it sampled them with G's live ones). A note
  unless G has no statistics (nothing filled in)."""
  if 'ema_state' in fields or 'g_state' not in fields:
    return fields, None
  ema_state = jax.tree_util.tree_map(lambda x: x.copy(), fields['g_state'])  # no shared buffer
  note = (
      'written before state.ema_state existed (gan_jax before 0345c9c): the EMA statistics start '
      "as G's own, the ones that version drew EMA samples with"
  )
  return {**fields, 'ema_state': ema_state}, note if jax.tree_util.tree_leaves(ema_state) else None


MIGRATIONS = {1: Migration(_without_ema_state, _ema_state_from_g_state)}


def _top_fields(tree):
  """({name: child}, treedef) of a pytree's top level (a dataclass's fields, a dict's keys)."""
  children, treedef = jax.tree_util.tree_flatten_with_path(tree, is_leaf=lambda x: x is not tree)
  names = ['.'.join(str(getattr(k, 'name', getattr(k, 'key', k))) for k in p) for p, _ in children]
  return dict(zip(names, (c for _, c in children))), treedef


def as_saved(abstract_state, fmt, saved):
  """(target, rebuild) to restore a format-`fmt` checkpoint as `abstract_state`: restore `target`
  (the state as that format saved it), then `rebuild(restored)` -> (state, notes).

  `saved`: the names of the top-level fields the checkpoint holds.
  """
  if fmt == FORMAT:
    return abstract_state, lambda restored: (restored, [])
  fields, treedef = _top_fields(abstract_state)
  names, chain = list(fields), [MIGRATIONS[f] for f in range(fmt, FORMAT)]
  for migration in reversed(chain):
    fields = migration.saved_as(fields, frozenset(saved))

  def rebuild(restored):
    notes = []
    for migration in chain:
      restored, note = migration.forward(dict(restored))
      notes += [note] if note else []
    return treedef.unflatten([restored[n] for n in names]), notes

  return fields, rebuild
