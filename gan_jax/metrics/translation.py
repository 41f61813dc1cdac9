"""Metrics of image-to-image translation: outputs G(a) against their targets b (pix2pix).

All on pixels in [0, 1] (p = (x + 1) / 2 of the suite's [-1, 1] images), per image, then the
mean over the images:

  l1    mean |p_out - p_target|
  psnr  10 log10(1 / MSE(p_out, p_target)) dB, the MSE floored at 1e-10 (identical images:
        100 dB, not infinity)
  ssim  Wang et al. 2004 with the standard Gaussian window: 11x11, sigma 1.5, K1 = 0.01,
        K2 = 0.03, dynamic range L = 1; at every position where the window lies inside the
        image (skimage's structural_similarity(gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False, data_range=1), which crops the 5-pixel border),
          SSIM = (2 mu_x mu_y + C1)(2 s_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(s_x^2 + s_y^2 + C2)),
        C1 = (K1 L)^2, C2 = (K2 L)^2, mu, s the Gaussian-weighted means, (co)variances; the
        mean over positions and channels
  accuracy  the share of outputs the shipped MNIST classifier (metrics/mnist_classifier.py)
        labels as their pair's class (pix2pix's FCN-score, on digits); `target_accuracy` is the
        same classifier on the targets (the "ground truth" row). Images larger than 28x28 are
        cropped to their centre 28x28 (edges2mnist's 2-pixel border: the digit itself).
  classifier_fid  the distance of the outputs' distribution from the targets': FID (Heusel et
        al. 2017) and KID (Binkowski et al. 2018, metrics/kid.py: 100 subsets of up to 1,000)
        between the shipped MNIST classifier's 10 logits of the outputs and of the targets
        (cropped as for `accuracy`): the digit analogue of the FID of outputs against targets,
        at a cost of milliseconds where Inception's would be minutes on a CPU. Values
        `classifier_fid`, `classifier_kid` (not comparable with Inception FIDs).
"""

import numpy as np

SSIM_WINDOW, SSIM_SIGMA, SSIM_K1, SSIM_K2 = 11, 1.5, 0.01, 0.03
PSNR_MSE_FLOOR = 1e-10
MNIST_SIZE = 28


def to_unit(x) -> np.ndarray:
  """float64 pixels in [0, 1] of images in [-1, 1]."""
  return (np.asarray(x, np.float64) + 1.0) / 2.0


def l1(out, target) -> float:
  """Mean absolute difference on [0, 1] pixels (inputs in [-1, 1])."""
  return float(np.mean(np.abs(to_unit(out) - to_unit(target))))


def psnr(out, target) -> float:
  """Mean over images of 10 log10(1 / MSE) dB on [0, 1] pixels (inputs in [-1, 1])."""
  diff = to_unit(out) - to_unit(target)
  mse = np.mean(np.square(diff).reshape(len(diff), -1), axis=1)
  return float(np.mean(10.0 * np.log10(1.0 / np.maximum(mse, PSNR_MSE_FLOOR))))


def gaussian_window(size=SSIM_WINDOW, sigma=SSIM_SIGMA) -> np.ndarray:
  """The normalised 1D Gaussian of `size` taps (its outer product is the 2D window)."""
  r = np.arange(size, dtype=np.float64) - (size - 1) / 2
  w = np.exp(-(r**2) / (2 * sigma**2))
  return w / w.sum()


def _filter_valid(x, w):
  """Separable 'valid' correlation of (N, H, W, C) with the 1D window `w` along H and W."""
  k = len(w)
  h = sum(w[i] * x[:, i : x.shape[1] - k + 1 + i] for i in range(k))
  return sum(w[i] * h[:, :, i : x.shape[2] - k + 1 + i] for i in range(k))


def ssim_unit(x, y) -> np.ndarray:
  """Per-image SSIM (N,) of [0, 1] images (N, H, W, C), H, W >= 11 (module docstring)."""
  x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
  w = gaussian_window()
  mx, my = _filter_valid(x, w), _filter_valid(y, w)
  sxx = _filter_valid(x * x, w) - mx * mx
  syy = _filter_valid(y * y, w) - my * my
  sxy = _filter_valid(x * y, w) - mx * my
  c1, c2 = SSIM_K1**2, SSIM_K2**2
  s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
  return s.reshape(len(s), -1).mean(axis=1)


def ssim(out, target) -> float:
  """Mean SSIM of outputs against targets (inputs in [-1, 1])."""
  return float(np.mean(ssim_unit(to_unit(out), to_unit(target))))


def centre_crop(x, size=MNIST_SIZE) -> np.ndarray:
  """The centre size x size of (N, H, W, C) images."""
  top, left = (x.shape[1] - size) // 2, (x.shape[2] - size) // 2
  return np.asarray(x)[:, top : top + size, left : left + size]


def mnist_accuracy(out, target, labels) -> dict:
  """{'accuracy', 'target_accuracy'}: the shipped MNIST classifier's hits on outputs and on
  targets (module docstring)."""
  from gan_jax.metrics import mnist_classifier  # pylint: disable=g-import-not-at-top

  classify, labels = mnist_classifier.shipped_classify(), np.asarray(labels)
  hits = lambda x: float(np.mean(classify(centre_crop(x)) == labels))
  return {'accuracy': hits(out), 'target_accuracy': hits(target)}


def classifier_distances(out, target) -> dict:
  """{'classifier_fid', 'classifier_kid'} of outputs against targets in the MNIST classifier's
  logits (module docstring)."""
  from gan_jax.metrics import mnist_classifier  # pylint: disable=g-import-not-at-top
  from gan_jax.metrics.fid import fid  # pylint: disable=g-import-not-at-top
  from gan_jax.metrics.kid import kid  # pylint: disable=g-import-not-at-top

  params = mnist_classifier.shipped_params()  # not re-read at every evaluation
  feats = [mnist_classifier.classifier_logits(params, centre_crop(x)) for x in (out, target)]
  return {'classifier_fid': fid(*feats), 'classifier_kid': kid(*feats)['kid']}


def unavailable(data, need_labels=False):
  """Why translation metrics do not apply to `data` (None when they do): they need the test
  pairs of a translation run (an object with `targets`, and `labels` for the accuracy)."""
  if getattr(data, 'targets', None) is None:
    return 'needs a translation run (pix2pix): outputs are scored against their targets'
  if need_labels:
    labels, shape = getattr(data, 'labels', None), np.shape(data.targets)
    if labels is None:
      return 'needs the class labels of the test pairs'
    if shape[-1] != 1 or min(shape[1:3]) < MNIST_SIZE:
      return f'the MNIST classifier needs one-channel images of 28x28 or more, not {shape[1:]}'
  return None


def ssim_unavailable(data):
  """`unavailable`, and why SSIM cannot score images smaller than its 11x11 window."""
  why = unavailable(data)
  size = None if why else tuple(np.shape(data.targets)[1:3])
  if size and min(size) < SSIM_WINDOW:
    return f'its {SSIM_WINDOW}x{SSIM_WINDOW} window needs images of that size or more, not {size}'
  return why
