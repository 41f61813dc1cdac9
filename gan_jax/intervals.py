"""When a periodic action is due: `Every(n, at_end)` and `AnyOf(parts)`, in the manner of
clu.periodic_actions. The host loop's cadence (gan_jax/loop.py) and the periodic metrics'
own intervals (gan_jax/metrics/evaluation.due) both ask them, so the rule is written once."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Every:
  """Due every `n` steps (never if `n` is 0) and at the last step: `at_end='always'`, only if
  the run is at least `n` steps long (`'if_reached'`: a short trial run skips a costly action),
  or `'never'`."""

  n: int
  at_end: str = 'always'

  def due(self, step, last_step) -> bool:
    if not self.n:
      return False
    if step % self.n == 0:
      return True
    if step != last_step:
      return False
    return self.at_end == 'always' or (self.at_end == 'if_reached' and last_step >= self.n)

  def next_due(self, step):
    """The first step after `step` that is a multiple of n (None if n is 0)."""
    return (step // self.n + 1) * self.n if self.n else None


@dataclasses.dataclass(frozen=True)
class AnyOf:
  """Due when any of `parts` (each with `due` and `next_due`) is due; never without parts."""

  parts: tuple = ()

  def due(self, step, last_step) -> bool:
    return any(p.due(step, last_step) for p in self.parts)

  def next_due(self, step):
    due = [d for p in self.parts if (d := p.next_due(step)) is not None]
    return min(due) if due else None
