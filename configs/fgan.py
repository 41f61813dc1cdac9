"""f-GAN (Nowozin et al. 2016): D maximises E_P[g_f(V(x))] - E_Q[f*(g_f(V(G(z))))], a variational
lower bound on the f-divergence D_f(P || Q); G by default maximises E_Q[g_f(V(G(z)))] (section 3.2).

  python -m experiments.main --config=configs/fgan.py:reverse_kl --workdir=runs/fgan_rkl
  python -m experiments.main --config=configs/fgan.py:grid25,pearson --workdir=runs/fgan_pearson_2d
  python -m experiments.main --config=configs/fgan.py:kl,loss.g_loss=saturating --workdir=...
Args: a divergence (kl, the default; reverse_kl, pearson, squared_hellinger, jensen_shannon, gan),
data (mnist5k, the default, with the base MLP pair and Adam 2e-4 of configs/nsgan.py; grid25 or
ring8 with the plain 2D setting of configs/plain_2d.py; folder: your images,
--config.data.data_dir=DIR, 32x32, with the MLP pair), then key=value pairs of dotted fields.
"""

from configs import common, plain_2d
from gan_jax.registries import DIVERGENCE_NAMES


def _divergence(name):
  def preset(c):
    c.loss.divergence = name

  return preset


def _data_2d(name):
  def preset(c):
    plain_2d.setting_2d(c)
    plain_2d.PRESETS[name](c)

  return preset


# Two groups of presets: one divergence and one dataset at most.
DIVERGENCE_PRESETS = {name: _divergence(name) for name in DIVERGENCE_NAMES}
DATA_PRESETS = {
    'mnist5k': lambda c: None,
    'grid25': _data_2d('grid25'),
    'ring8': _data_2d('ring8'),
    'folder': common.folder(),
}


def get_config(arg=None):
  return common.with_arg(common.base('f_gan'), arg, (DIVERGENCE_PRESETS, DATA_PRESETS))
