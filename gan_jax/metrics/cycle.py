"""Metrics of unpaired translation (CycleGAN), on one direction's test images.

`data` is a translation direction's test set (gan_jax/programs/cyclegan.py's TestPairs): the
`inputs` (source domain), their true counterparts `targets` where the task knows them (None
else), `labels` where known. Pixels in [-1, 1]; scores on p = (x + 1) / 2 in [0, 1]:

  pixel_agreement  the share of pixels with |p_out - p_target| <= PIXEL_TOLERANCE (0.1, about
                   25 of 255 grey levels), over all pixels of all images (CoGAN's pixel
                   agreement on digits vs their negatives, with a stated tolerance)
  adaptation_accuracy  {'accuracy': the shipped MNIST classifier's share of outputs labelled
                   as their input's class, 'source_accuracy': the same on the untranslated
                   inputs} (CyCADA's pixel-level adaptation: does translating B -> A let an
                   A-domain classifier read B?). Both arrays are given as the classifier reads
                   them (the program maps each domain there: UnpairedSource.classifier_view);
                   images larger than 28x28 are cropped to their centre.
"""

import numpy as np

from gan_jax.metrics.translation import MNIST_SIZE, centre_crop, to_unit

PIXEL_TOLERANCE = 0.1


def pixel_agreement(out, target, tolerance=PIXEL_TOLERANCE) -> float:
  """Share of pixels within `tolerance` of the target's on [0, 1] (inputs in [-1, 1])."""
  return float(np.mean(np.abs(to_unit(out) - to_unit(target)) <= tolerance))


def adaptation_accuracy(out, inputs, labels) -> dict:
  """{'accuracy', 'source_accuracy'}: the MNIST classifier's hits on outputs and on the inputs
  they were translated from (module docstring)."""
  from gan_jax.metrics import mnist_classifier  # pylint: disable=g-import-not-at-top

  classify, labels = mnist_classifier.shipped_classify(), np.asarray(labels)
  hits = lambda x: float(np.mean(classify(centre_crop(x)) == labels))
  return {'accuracy': hits(out), 'source_accuracy': hits(inputs)}


def unavailable(data, need='targets'):
  """Why a cycle metric does not apply to `data` (None when it does): pixel scores need the
  true counterparts (`targets`), the accuracy labels and one-channel images of 28x28 or more."""
  if not hasattr(data, 'inputs'):
    return 'needs a translation run (cyclegan): outputs are scored per direction'
  if need == 'targets':
    return None if data.targets is not None else 'needs an aligned test split (true counterparts)'
  shape = np.shape(data.inputs)
  if getattr(data, 'labels', None) is None:
    return 'needs the class labels of the test images'
  if shape[-1] != 1 or min(shape[1:3]) < MNIST_SIZE:
    return f'the MNIST classifier needs one-channel images of 28x28 or more, not {shape[1:]}'
  return None
