"""Progress lines: rate, seconds per step for slow loops, ETA."""

from gan_jax.progress import Progress, format_eta


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
