"""Class conditioning shared by the models: label checks, conditional BatchNorm, projection,
the auxiliary classifier head and self-attention.

Conditioning methods (`conditioning` field of every builder; `num_classes=0` = unconditional,
the label is then ignored and the model is exactly the unconditional one):
- 'concat'     (Mirza & Osindero 2014): one-hot(y) concatenated to z and to D's input (MLPs).
- 'embed'      like 'concat' with a learned embedding (`embed_dim` wide) instead of one-hot.
- 'projection' (Miyato & Koyama 2018): D's logit = psi(phi(x)) + <V[y], phi(x)>, with V a
               learned (num_classes, dim phi) matrix; CNN generators use conditional BatchNorm
               (de Vries et al. 2017 / Dumoulin et al. 2017): BN without affine parameters,
               then gamma[y] * x_hat + beta[y], gamma initialised to 1 and beta to 0.
- 'acgan'      (Odena et al. 2017): G conditioned as the model's default (concat for MLPs,
               conditional BatchNorm for CNNs); D returns (logits (B,), class_logits (B, K)).
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.checks import FieldError, check_number

CONDITIONINGS = ('none', 'concat', 'embed', 'projection', 'acgan')


def check_conditioning(model, num_classes, conditioning, allowed):
  """Validates (num_classes, conditioning) for a builder supporting `allowed` methods.

  'none' is always allowed; a conditional method needs num_classes >= 2 (build_experiment
  fills it from the data), and num_classes > 0 needs a conditioning other than 'none'.
  """
  check_number('num_classes', num_classes, integer=True, low=0)
  allowed = ('none', *allowed)
  if conditioning not in allowed:
    raise FieldError(f'conditioning={conditioning!r}: {model} allows: {", ".join(allowed)}')
  if conditioning != 'none' and num_classes < 2:
    raise FieldError(
        f'num_classes={num_classes!r}: conditioning={conditioning!r} needs >= 2 classes'
    )
  if conditioning == 'none' and num_classes:
    raise FieldError(f'num_classes={num_classes!r}: needs a conditioning other than none')


def labels(module: nn.Module, y, batch: int):
  """int32 (B,) class labels of a conditional module. At init a missing `y` is all zeros (the
  parameters do not depend on it); otherwise a conditional model refuses to run without one."""
  if y is None:
    if module.is_initializing():
      return jnp.zeros((batch,), jnp.int32)
    raise ValueError(f'{type(module).__name__} is class-conditional: pass labels y (B,)')
  y = jnp.asarray(y)
  if y.shape != (batch,):
    raise ValueError(f'labels of shape {y.shape} for a batch of {batch}')
  return y.astype(jnp.int32)


def one_hot(y, num_classes, dtype=jnp.float32):
  return jax.nn.one_hot(y, num_classes, dtype=dtype)


def apply_sn(layer: nn.Module, x, sn: bool, train: bool):
  """`layer(x)`, spectrally normalised (u/sigma in batch_stats, updated when training) if sn."""
  if sn:
    return nn.SpectralNorm(layer)(x, update_stats=train)
  return layer(x)


class ConditionalBatchNorm(nn.Module):
  """y_out = gamma[y] * (x - mean) / sqrt(var + eps) + beta[y] over the batch (running averages
  when not training); gamma (K, C) starts at 1, beta (K, C) at 0 (each class starts as plain BN).
  """

  num_classes: int
  momentum: float = 0.9
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x, y, train: bool):
    channels = x.shape[-1]
    x = nn.BatchNorm(
        use_running_average=not train,
        momentum=self.momentum,
        use_scale=False,
        use_bias=False,
        dtype=self.dtype,
        name='bn',
    )(x)
    gamma = self.param('gamma', nn.initializers.ones, (self.num_classes, channels))
    beta = self.param('beta', nn.initializers.zeros, (self.num_classes, channels))
    shape = (x.shape[0],) + (1,) * (x.ndim - 2) + (channels,)
    g, b = gamma[y].reshape(shape), beta[y].reshape(shape)
    return (x * g.astype(x.dtype) + b.astype(x.dtype)).astype(x.dtype)


def batchnorm(module, num_classes, y, train, dtype=None, name=None):
  """A BatchNorm layer function: plain nn.BatchNorm (momentum 0.9) when `num_classes` is 0 (its
  default name, as the unconditional models always had), else ConditionalBatchNorm on `y`."""
  del module
  if not num_classes:
    return lambda x: nn.BatchNorm(use_running_average=not train, momentum=0.9, dtype=dtype)(x)
  return lambda x: ConditionalBatchNorm(num_classes, dtype=dtype, name=name)(x, y, train)


def head(
    phi, y, *, num_classes=0, conditioning='none', sn=False, train=False, use_bias=True, dtype=None
):
  """The last layer of a discriminator on features phi (B, F), called inside the parent's
  compact method (so that psi keeps the auto name the unconditional models always had):

  - unconditional / concat / embed: psi(phi) = Dense(1)(phi), logits (B,);
  - projection: psi(phi) + sum_f V[y, f] phi[f], V (K, F) a Dense on one-hot(y) ('projection');
  - acgan: (psi(phi), Dense(K)(phi) named 'class_head').
  """
  out = apply_sn(nn.Dense(1, use_bias=use_bias, dtype=dtype), phi, sn, train)
  logits = out[:, 0].astype(jnp.float32)
  if not num_classes:
    return logits
  if conditioning == 'projection':
    embed = nn.Dense(phi.shape[-1], use_bias=False, dtype=dtype, name='projection')
    v = apply_sn(embed, one_hot(y, num_classes, phi.dtype), sn, train)
    return logits + jnp.sum(v * phi, axis=-1).astype(jnp.float32)
  if conditioning == 'acgan':
    class_head = nn.Dense(num_classes, dtype=dtype, name='class_head')
    return logits, apply_sn(class_head, phi, sn, train).astype(jnp.float32)
  return logits


class SelfAttention(nn.Module):
  """SAGAN self-attention (Zhang et al. 2019) on x (B, H, W, C):

  f = x W_f, g = x W_g, h = x W_h (1x1 convolutions to C/8 channels; g and h 2x2 max-pooled
  when `pool`, as in BigGAN's block), beta = softmax_j(f_i . g_j) (N x N' attention map),
  o = (beta h) W_v (1x1 back to C), out = x + gamma * o, gamma a scalar initialised to 0
  (the block starts as the identity).
  """

  sn: bool = False
  pool: bool = False
  dtype: jnp.dtype | None = None

  @nn.compact
  def __call__(self, x, train: bool):
    b, h, w, c = x.shape
    inner = max(c // 8, 1)

    def dense(n, name):
      layer = nn.Dense(n, use_bias=False, dtype=self.dtype, name=name)
      return lambda v: apply_sn(layer, v, self.sn, train)

    f = dense(inner, 'f')(x)
    g = dense(inner, 'g')(x)
    v = dense(inner, 'h')(x)
    if self.pool and h % 2 == 0 and w % 2 == 0:
      g = nn.max_pool(g, (2, 2), strides=(2, 2))
      v = nn.max_pool(v, (2, 2), strides=(2, 2))
    f = f.reshape(b, h * w, inner)
    g = g.reshape(b, -1, inner)
    v = v.reshape(b, -1, inner)
    beta = jax.nn.softmax(jnp.einsum('bic,bjc->bij', f, g).astype(jnp.float32), axis=-1)
    o = jnp.einsum('bij,bjc->bic', beta.astype(v.dtype), v).reshape(b, h, w, inner)
    o = dense(c, 'v')(o)
    gamma = self.param('gamma', nn.initializers.zeros, ())
    return x + gamma.astype(x.dtype) * o


ATTENTION_IN = ('g', 'd', 'both')


def attention_where(attention_res, attention_in, g_resolutions, d_resolutions, model):
  """(in G?, in D?) for the attention fields; FieldError for a resolution a network lacks.

  `attention_res` 0 = no attention; `attention_in` in ATTENTION_IN.
  """
  check_number('attention_res', attention_res, integer=True, low=0)
  if attention_in not in ATTENTION_IN:
    raise FieldError(f'attention_in={attention_in!r}: allowed: {", ".join(ATTENTION_IN)}')
  if not attention_res:
    return False, False
  in_g, in_d = attention_in in ('g', 'both'), attention_in in ('d', 'both')
  for used, net, resolutions in ((in_g, 'G', g_resolutions), (in_d, 'D', d_resolutions)):
    if used and attention_res not in resolutions:
      allowed = ', '.join(map(str, sorted(set(resolutions))))
      raise FieldError(
          f'attention_res={attention_res}: {model} {net} has no such resolution; allowed: {allowed}'
      )
  return in_g, in_d
