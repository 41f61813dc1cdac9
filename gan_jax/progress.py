"""Progress lines for long loops: rate (steps/s or s/step) over a window, and the ETA.

Rates are measured on a clock that leaves out the time JAX spends compiling (tracing,
lowering, XLA compilation, as `jax.monitoring` reports their spans; nested spans count
once): the first call of a step, or a new shape after a checkpoint, does not make the
rate or the ETA jump. `Progress` averages over the last `window` ticks, so the time of a
checkpoint or a sample grid is spread over them. `Counter` reports a count of items
(images through Inception, samples drawn) to a stream, only when it takes long.
"""

import collections
import sys
import threading
import time

import jax

_lock = threading.Lock()
_spans = []  # disjoint (start, end) of compilation, time.time() seconds, sorted


def merge_span(spans, start, end) -> list:
  """Sorted disjoint spans with [start, end] added: the spans it overlaps become one."""
  apart = [(a, b) for a, b in spans if b < start or a > end]
  overlapping = [(a, b) for a, b in spans if not (b < start or a > end)]
  lo = min([start, *(a for a, _ in overlapping)])
  hi = max([end, *(b for _, b in overlapping)])
  return sorted([*apart, (lo, hi)])


def _on_span(event, start, end, **kwargs):
  """Adds one compilation span to `_spans` (a span nested in another adds nothing)."""
  del kwargs
  if event.startswith('/jax/core/compile/'):
    with _lock:
      _spans[:] = merge_span(_spans, start, end)


jax.monitoring.register_event_time_span_listener(_on_span)


def compile_seconds(since: float = 0.0) -> float:
  """Seconds spent compiling since the time.time() `since`."""
  with _lock:
    return sum(b - max(a, since) for a, b in _spans if b > since)


def clock() -> float:
  """time.time() less the compilation time so far (the clock rates are measured on)."""
  return time.time() - compile_seconds()


def format_eta(seconds: float) -> str:
  seconds = int(max(seconds, 0))
  return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


def format_rate(rate: float, unit: str = 'steps') -> str:
  """'12.3 steps/s', or '4.0 s/step' when slower than one per second."""
  return f'{rate:.1f} {unit}/s' if rate >= 1 else f'{1 / rate:.1f} s/{unit.rstrip("s")}'


class Progress:
  """Steps per second over the last `window` ticks, on the compile-free `clock`."""

  def __init__(self, total: int, step: int, window: int = 10, clock=clock):
    self.total, self._clock = total, clock
    self._marks = collections.deque([(step, clock())], maxlen=window + 1)
    self._start = time.time()

  def first_call(self) -> tuple[float, float]:
    """(wall seconds since construction, of which compiling): for the line after the first
    call of a compiled step. The window keeps that call's steps, so the first progress line
    has a rate even when the first log step is the end of the first call."""
    return time.time() - self._start, compile_seconds(self._start)

  def seconds(self) -> float:
    """Wall seconds since construction (compiling included): this process's training time so
    far (a resumed run counts from its restart)."""
    return time.time() - self._start

  def tick(self, step: int):
    """Steps per second over the window ending now (None if no step was made in it)."""
    self._marks.append((step, self._clock()))
    (s0, t0), (s1, t1) = self._marks[0], self._marks[-1]
    return (s1 - s0) / max(t1 - t0, 1e-9) if s1 > s0 else None

  def line(self, step: int, rate, fields: dict) -> str:
    shown = ' '.join(f'{k}={float(v):.4f}' for k, v in sorted(fields.items()))
    speed = ''
    if rate:
      speed = f'{format_rate(rate)} | ETA {format_eta((self.total - step) / rate)}'
    return f'step {step}/{self.total} {shown}' + (f' | {speed}' if speed else '')


class Counter:
  """`counter(done)` prints 'label: done/total | rate | ETA' to `stream` every `every_s`
  seconds, once `after_s` seconds have passed (short jobs print nothing), and a last line
  at `total` if it printed any. Rates are on the compile-free `clock`."""

  def __init__(
      self, label, total, unit='images', stream=None, every_s=10.0, after_s=5.0, clock=clock
  ):
    self.label, self.total, self.unit = label, total, unit
    self.stream = stream or sys.stderr
    self.every_s, self.after_s, self._clock = every_s, after_s, clock
    self._start = clock()
    self._printed = None  # clock of the last line
    self._finished = False

  def __call__(self, done: int) -> None:
    now = self._clock()
    elapsed = now - self._start
    finished = done >= self.total
    due = elapsed >= self.after_s and (self._printed is None or now - self._printed >= self.every_s)
    if self._finished or not (due or (finished and self._printed is not None)):
      return
    self._printed, self._finished = now, finished
    line = f'{self.label}: {done}/{self.total}'
    if done and elapsed > 0:
      rate = done / elapsed
      eta = format_eta((self.total - done) / rate)
      left = f'took {format_eta(elapsed)}' if finished else f'ETA {eta}'
      line += f' | {format_rate(rate, self.unit)} | {left}'
    print(line, file=self.stream, flush=True)
