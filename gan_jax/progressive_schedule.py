"""Progressive growing's schedule: images shown -> (stage, alpha) (Karras et al. 2018).

Stage 0 (4x4) trains for `stable_images`; each later stage s >= 1 first fades in over
`fade_images` (alpha rising linearly from 0 to 1), then stabilizes for `stable_images` (alpha 1);
after the last stage's fade, training stays there with alpha 1 however long it runs. Stage s >= 1
begins at start(s) = stable + (s - 1) (fade + stable) images, and at `images` shown
  alpha = clip((images - start(s)) / fade, 0, 1)   (1 at stage 0, and with fade_images 0).
The schedule depends on images shown only (not on train.num_steps); a step of B images sees
images = step B at its start, so a stage's first step is ceil(start(s) / B).

`first_stage` f > 0 starts training at stage f instead of 0 (stage f plays stage 0's part: alpha
1, `stable_images` long; the stages below it never train); f = num_stages - 1 is the same final
networks trained at their full resolution from the start (the fixed-resolution baseline).
"""

import dataclasses

import jax.numpy as jnp

from gan_jax.checks import check_number


@dataclasses.dataclass(frozen=True)
class Schedule:
  num_stages: int
  fade_images: int
  stable_images: int
  first_stage: int = 0

  def __post_init__(self):
    check_number('num_stages', self.num_stages, integer=True, low=1)
    check_number('fade_images', self.fade_images, integer=True, low=0)
    check_number('stable_images', self.stable_images, integer=True, low=1)
    check_number('first_stage', self.first_stage, integer=True, low=0, high_open=self.num_stages)

  def start(self, stage: int) -> int:
    """Images shown when stage `stage` begins (its fade); 0 up to the first stage."""
    s = stage - self.first_stage
    if s <= 0:
      return 0
    return self.stable_images + (s - 1) * (self.fade_images + self.stable_images)

  def stage(self, images: int) -> int:
    """The stage at `images` shown (a host int)."""
    s = self.first_stage
    while s + 1 < self.num_stages and images >= self.start(s + 1):
      s += 1
    return s

  def alpha(self, images, stage: int):
    """alpha of `stage` at `images` shown: a host float for a host int, traced for a traced one."""
    if stage <= self.first_stage or self.fade_images == 0:
      return jnp.ones((), jnp.float32) if hasattr(images, 'dtype') else 1.0
    t = (images - self.start(stage)) / self.fade_images
    if hasattr(images, 'dtype'):
      return jnp.clip(jnp.asarray(t, jnp.float32), 0.0, 1.0)
    return min(max(float(t), 0.0), 1.0)

  def at(self, images: int) -> tuple[int, float]:
    """(stage, alpha) at `images` shown."""
    stage = self.stage(images)
    return stage, self.alpha(images, stage)

  def first_step(self, stage: int, batch_size: int) -> int:
    """The first step of `stage` with `batch_size` images a step: ceil(start / B)."""
    return -(-self.start(stage) // batch_size)

  def stage_of_step(self, step: int, batch_size: int) -> int:
    return self.stage(step * batch_size)

  def boundaries(self, batch_size: int) -> list[int]:
    """The first step of each stage after the first (where a compiled call must end)."""
    return [self.first_step(s, batch_size) for s in range(self.first_stage + 1, self.num_stages)]

  def images_to_grow(self) -> int:
    """Images shown when the last stage's fade ends (alpha 1 at the final resolution)."""
    if self.num_stages == 1 + self.first_stage:
      return 0
    return self.start(self.num_stages - 1) + self.fade_images
