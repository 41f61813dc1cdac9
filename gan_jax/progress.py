"""Progress lines for long loops: steps/s (or s/step) and the ETA."""

import time


def format_eta(seconds: float) -> str:
  seconds = int(max(seconds, 0))
  return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


class Progress:
  """Measures the rate between calls to `tick(step)`; `restart(step)` drops a warm-up."""

  def __init__(self, total: int, step: int):
    self.total = total
    self.restart(step)

  def restart(self, step: int) -> float:
    """Measures from `step` on; returns the seconds since the previous mark."""
    now = time.time()
    elapsed = now - getattr(self, '_time', now)
    self._time, self._step = now, step
    return elapsed

  def tick(self, step: int):
    """Steps per second since the last tick (None if no step was made)."""
    now = time.time()
    rate = (step - self._step) / max(now - self._time, 1e-9) if step > self._step else None
    self._time, self._step = now, step
    return rate

  def line(self, step: int, rate, fields: dict) -> str:
    shown = ' '.join(f'{k}={float(v):.4f}' for k, v in sorted(fields.items()))
    speed = ''
    if rate:
      per = f'{rate:.1f} steps/s' if rate >= 1 else f'{1 / rate:.1f} s/step'
      speed = f'{per} | ETA {format_eta((self.total - step) / rate)}'
    return f'step {step}/{self.total} {shown}' + (f' | {speed}' if speed else '')
