"""The one transform of the discriminator's input, applied at every call of D.

  d_input(rng, x, step) = scale * pack(augment(noise(x))) + shift

in this fixed order, to real and fake examples alike, in D's update, in the inputs of D's
penalties and in G's update:
- instance noise (Sonderby et al. 2017; Arjovsky & Bottou 2017): x + N(0, sigma_t^2), sigma_t
  annealed linearly from `d_input.instance_noise` to 0 at `d_input.instance_noise_steps`
  (0: constant);
- DiffAugment (Zhao et al. 2020): `d_input.diffaugment`, differentiable augmentations of images
  (gan_jax/diffaugment.py);
- packing (PacGAN, Lin et al. 2018): `d_input.pack` consecutive examples concatenated along the
  last axis (features or channels), so D judges packs of samples (gan_jax/packing.py);
- an affine map of what D sees, `d_input.scale` * x + `d_input.shift` (1 and 0: off), a fixed
  first layer of D: Metz et al. 2017 (appendix A) scale D's input by 1/4 (scale 0.25); the 2014
  code's D reads pixels in [0, 1] (scale 0.5, shift 0.5 of our [-1, 1]).
With all four off it is the identity and uses no randomness.
"""

import dataclasses

import jax

from gan_jax import diffaugment, packing, regularizers


@dataclasses.dataclass(frozen=True)
class DInput:
  noise: float = 0.0  # instance noise's initial std (an array in a vectorized group)
  noise_steps: int = 0  # steps to anneal it to 0 (0: constant)
  augment: tuple = ()  # DiffAugment policy, e.g. ('color', 'translation', 'cutout')
  pack: int = 1
  has_noise: bool | None = None  # whether instance noise is on (None: noise > 0)
  scale: float = 1.0  # D sees scale * x + shift
  shift: float = 0.0

  @classmethod
  def from_config(cls, d_input, noise=None):
    """The transform a config's `d_input` section describes; `noise` replaces its
    instance_noise value (a traced array in a vectorized group), whether noise is on still
    decided by the section."""
    return cls(
        noise=float(d_input.instance_noise) if noise is None else noise,
        has_noise=float(d_input.instance_noise) > 0,
        noise_steps=int(d_input.instance_noise_steps),
        augment=diffaugment.parse_policy(d_input.diffaugment or ''),  # as validated
        pack=int(d_input.pack),
        scale=float(d_input.scale),
        shift=float(d_input.shift),
    )

  @property
  def noise_on(self):
    return self.noise > 0 if self.has_noise is None else self.has_noise

  @property
  def is_identity(self):
    return (
        not self.noise_on
        and not self.augment
        and self.pack == 1
        and (self.scale, self.shift) == (1.0, 0.0)
    )

  def __call__(self, rng, x, step):
    """x (B, ...) -> what D sees: (B / pack, ..., pack * last)."""
    if self.noise_on:
      std = regularizers.instance_noise_std(step, self.noise, self.noise_steps)
      x = regularizers.add_instance_noise(rng, x, std)
    if self.augment:
      x = diffaugment.augment(jax.random.fold_in(rng, 1), x, self.augment)
    if self.pack > 1:
      x = packing.pack(x, self.pack)
    if self.scale != 1:
      x = self.scale * x
    if self.shift != 0:
      x = x + self.shift
    return x
