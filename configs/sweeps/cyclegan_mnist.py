"""CycleGAN's ablation (Zhu et al. 2017, table 4) on the two offline unpaired tasks of
configs/cyclegan.py, seeds 0-2, each run the preset's 1,000 steps of 8 images per domain, scored
on the test split (pixel agreement, L1, PSNR, SSIM per direction on mnist2negative; the MNIST
classifier's accuracy on the translations against the untranslated inputs) every 500 steps.

  python -m launch.sweep --config=configs/sweeps/cyclegan_mnist.py --workdir=runs/cyclegan_mnist \\
      --parallel=2
  python -m launch.report --workdir=runs/cyclegan_mnist

Arms: the full objective (GAN + both cycles + identity, the default), `cycle` (the cycle terms
alone), `gan` (the GAN terms alone), `gan_forward` (GAN + A -> B -> A), `gan_backward` (GAN +
B -> A -> B), and `no_identity` (the full objective without the identity term). The reference
scales each identity term by its direction's cycle weight, so `gan` has none, and the other arms
keep the identity term the reference's default trains with; the paper's table 4 (Cityscapes)
trained without it, so `cycle`, `gan_forward` and `gan_backward` also run with `no_identity`:
with `no_identity` and `gan`, the paper's own setting of every row.
Sweep arg: `mnist2negative` or `mnist2digits` (one task; default both). With `--vectorize` each
task's arms with the identity term train as one group (seeds and loss weights are vectorizable:
gan_jax/programs/translation_group.py), its arms without it as another.

Cost: the two default runs took 7 to 10 minutes each on this shared 2-core VM (README,
CycleGAN), so the 54 runs are ~7 hours with --parallel=2 (on 2026-12-07 the first 12 took 70 minutes).
"""

from configs import cyclegan

SEEDS = range(3)
TASKS = ('mnist2negative', 'mnist2digits')
ARMS = (None, 'cycle', 'gan', 'gan_forward', 'gan_backward', 'no_identity')  # None: full
PAPER_ARMS = ('cycle,no_identity', 'gan_forward,no_identity', 'gan_backward,no_identity')


def get_config(arg=None):
  return cyclegan.get_config(arg)


def sweep(add, arg=None):
  tasks = (arg,) if arg else TASKS
  if any(t not in TASKS for t in tasks):
    raise ValueError(f'sweep arg {arg!r}: allowed: {", ".join(TASKS)}')
  for seed in SEEDS:
    for task in tasks:
      for arm in ARMS + PAPER_ARMS:
        add(config_arg=task + (f',{arm}' if arm else ''), seed=seed)
