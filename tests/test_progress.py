"""Progress lines: rate, seconds per step for slow loops, ETA."""

import io

import jax
import jax.numpy as jnp
import pytest

from gan_jax.progress import Counter, Progress, compile_seconds, format_eta, merge_span


def test_format_eta():
  assert format_eta(0) == '0:00:00'
  assert format_eta(3725.9) == '1:02:05'
  assert format_eta(-3) == '0:00:00'


def test_lines_show_rate_or_seconds_per_step_and_eta():
  p = Progress(total=1000, step=0)
  assert (
      p.line(500, 50.0, {'g_loss': 1.0})
      == 'step 500/1000 g_loss=1.0000 | 50.0 steps/s | ETA 0:00:10'
  )
  assert p.line(990, 0.25, {}) == 'step 990/1000  | 4.0 s/step | ETA 0:00:40'
  assert p.line(1, None, {'d_loss': 2}) == 'step 1/1000 d_loss=2.0000'  # no rate yet


def test_tick_measures_steps_since_the_last_tick():
  p = Progress(total=10, step=3)
  assert p.tick(3) is None
  assert p.tick(5) > 0


class FakeClock:

  def __init__(self):
    self.now = 0.0

  def __call__(self):
    return self.now


def test_the_rate_is_averaged_over_a_window_so_one_slow_tick_does_not_make_the_eta_jump():
  clock = FakeClock()
  p = Progress(total=10_000, step=0, window=10, clock=clock)
  for step in range(100, 1100, 100):  # 100 steps/s
    clock.now += 1.0
    assert p.tick(step) == pytest.approx(100.0)
  clock.now += 11.0  # a checkpoint: 10 s on top of one second of steps
  assert p.tick(1100) == pytest.approx(1000 / 20)  # the last 10 ticks: 1,000 steps in 20 s
  last_tick_only = 100 / 11
  assert p.tick(1100) > 5 * last_tick_only
  for step in range(1200, 2300, 100):
    clock.now += 1.0
    p.tick(step)
  assert p.tick(2200) == pytest.approx(100.0)  # the slow tick has left the window


def test_the_first_tick_has_a_rate_without_compilation():
  """With steps_per_call > 1 the first log step can be the end of the first (compiling) call:
  its line has a rate all the same, on the clock that leaves compilation out."""
  clock = FakeClock()
  p = Progress(total=1000, step=0, clock=clock)
  clock.now += 0.5  # what is left of the first call once its compilation is taken out
  assert p.tick(100) == pytest.approx(200.0)
  assert 'steps/s | ETA 0:00:04' in p.line(100, p.tick(100), {})


def test_compilation_spans_merge_so_nested_ones_count_once():
  spans = merge_span([], 10.0, 20.0)
  spans = merge_span(spans, 12.0, 15.0)  # a jit traced inside another
  assert spans == [(10.0, 20.0)]
  spans = merge_span(spans, 30.0, 31.0)
  assert spans == [(10.0, 20.0), (30.0, 31.0)]
  assert merge_span(spans, 19.0, 30.5) == [(10.0, 31.0)]


def test_compile_seconds_sees_a_real_compilation():
  before = compile_seconds()
  jax.jit(lambda x: jnp.sin(x) * 3.0 + jnp.cos(x)).lower(jnp.ones(7)).compile()
  assert compile_seconds() > before


def test_counters_are_silent_for_short_jobs_and_report_long_ones():
  clock, out = FakeClock(), io.StringIO()
  quick = Counter('Sampling', 1000, unit='samples', stream=out, clock=clock)
  clock.now += 1.0
  quick(1000)
  assert out.getvalue() == ''

  report = Counter('features of the samples', 10_000, stream=out, every_s=10, clock=clock)
  for done in range(500, 10_500, 500):
    clock.now += 1.0
    report(done)
  report(10_000)  # a repeated last call prints nothing more
  lines = out.getvalue().splitlines()
  assert lines[0] == 'features of the samples: 2500/10000 | 500.0 images/s | ETA 0:00:15'
  assert lines[-1] == 'features of the samples: 10000/10000 | 500.0 images/s | took 0:00:20'
  assert len(lines) == 3  # after 5 s, 10 s later, then at the end (20 s)
