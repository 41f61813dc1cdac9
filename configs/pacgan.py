"""PacGAN (Lin et al. 2018): D judges `d_input.pack` samples at once, real packs against fake packs.

  python -m experiments.main --config=configs/pacgan.py:grid25 --workdir=runs/pacgan2_grid25
  python -m experiments.main --config=configs/pacgan.py:ring8,pack4 --workdir=runs/pac4_ring8
The plain 2D setting of configs/plain_2d.py (mixture_2d's 3x128 MLPs, non-saturating loss, no R1,
no EMA, Adam 5e-4, batch 128) with pack 2: the k samples are concatenated along the features (D's
input is 2k-dimensional); G and everything else are unchanged, as in the paper. Args: grid25
(default) or ring8, pack2 / pack4, then key=value pairs of dotted fields.
"""

from configs import common, plain_2d


def _pack(k):
  def preset(c):
    c.d_input.pack = k

  return preset


PACKS = {'pack2': _pack(2), 'pack4': _pack(4)}


def get_config(arg=None):
  c = plain_2d.setting_2d(common.base('non_saturating'))
  c.d_input.pack = 2
  return common.with_arg(c, arg, (plain_2d.PRESETS, PACKS), default='grid25')
