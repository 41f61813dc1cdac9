"""FastConv / FastConvTranspose equal nn.Conv / nn.ConvTranspose, with their first and second
derivatives, and keep every convolution of the gradient penalty's double backprop on XLA:CPU's
fast path (stride 1, no dilation, no window reversal)."""

import re

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.checks import FieldError
from gan_jax.models import build_models
from gan_jax.models.fast_conv import FastConv, FastConvTranspose, conv, kernel_grad
from gan_jax.regularizers import gradient_penalty

KEY = jax.random.key(0, impl="rbg")
RTOL = 1e-5  # of the reference's largest magnitude

# (transposed, kernel, strides, padding, input size): sngan_cnn's layers (D: 3x3/1 and 4x4/2
# pad 1; G: 4x4/2 transposed SAME from an even or odd size, 7 -> 14 in the 28x28 model; 3x3
# SAME), then other strides, kernels and paddings.
LAYERS = [
    (False, (3, 3), (1, 1), ((1, 1), (1, 1)), 8),
    (False, (4, 4), (2, 2), ((1, 1), (1, 1)), 8),
    (False, (3, 3), (1, 1), "SAME", 7),
    (True, (4, 4), (2, 2), "SAME", 4),
    (True, (4, 4), (2, 2), "SAME", 7),
    (False, (3, 3), (2, 2), "SAME", 7),
    (True, (4, 3), (2, 1), ((1, 2), (0, 3)), 5),
]


def _close(actual, expected, rtol=RTOL):
  """Equal up to rtol times each leaf's largest magnitude (the tree's, for a leaf that is
  exactly 0, such as a bias gradient the loss cancels; the tree's must not vanish)."""
  assert jax.tree.structure(actual) == jax.tree.structure(expected)
  scales = [float(jnp.max(jnp.abs(e))) for e in jax.tree.leaves(expected)]
  assert max(scales) > 0  # a vanishing reference would prove nothing
  for (path, a), e, scale in zip(
      jax.tree_util.tree_leaves_with_path(actual), jax.tree.leaves(expected), scales
  ):
    assert a.shape == e.shape and a.dtype == e.dtype, path
    atol = rtol * (scale or max(scales))
    np.testing.assert_allclose(a, e, rtol=0, atol=atol, err_msg=str(path))


def _same(actual, expected):
  assert jax.tree.structure(actual) == jax.tree.structure(expected)
  for a, e in zip(jax.tree.leaves(actual), jax.tree.leaves(expected)):
    np.testing.assert_array_equal(a, e, strict=True)


def _pair(transposed, kernel, strides, padding, features=5, **kw):
  fast, ref = (FastConvTranspose, nn.ConvTranspose) if transposed else (FastConv, nn.Conv)
  return [cls(features, kernel, strides=strides, padding=padding, **kw) for cls in (fast, ref)]


def _tree_vdot(a, b):
  return sum(jnp.vdot(x, y) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def _random_params(variables):
  leaves, tree = jax.tree.flatten(variables)
  keys = jax.random.split(jax.random.key(1), len(leaves))
  return tree.unflatten([jax.random.normal(k, x.shape, x.dtype) for k, x in zip(keys, leaves)])


@pytest.mark.parametrize("transposed,kernel,strides,padding,size", LAYERS)
def test_layer_equals_flax_with_first_and_second_derivatives(
    transposed, kernel, strides, padding, size
):
  fast, ref = _pair(transposed, kernel, strides, padding)
  x = jax.random.normal(jax.random.key(2), (2, size, size + 1, 3))
  variables = fast.init(KEY, x)
  _same(variables, ref.init(KEY, x))  # the same parameters and initialisation
  params = _random_params(variables)  # a random bias too
  y = ref.apply(params, x)
  _close(fast.apply(params, x), y)
  r = jax.random.normal(jax.random.key(3), y.shape)

  def gp_structure(layer):
    """<tanh(layer(x)), r> -> ||d/dx||^2: the gradient penalty's double backprop."""
    inner = lambda p, x: jnp.vdot(jnp.tanh(layer.apply(p, x)), r)
    outer = lambda p, x: jnp.sum(jnp.square(jax.grad(inner, 1)(p, x)))
    return inner, outer

  (f_inner, f_outer), (r_inner, r_outer) = gp_structure(fast), gp_structure(ref)
  grads = jax.jit(lambda p, x: (jax.grad(f_inner, (0, 1))(p, x), jax.grad(f_outer, (0, 1))(p, x)))
  expected = jax.jit(
      lambda p, x: (jax.grad(r_inner, (0, 1))(p, x), jax.grad(r_outer, (0, 1))(p, x))
  )
  _close(grads(params, x), expected(params, x))


def test_hessian_vector_products_match_forward_over_reverse():
  """Reverse-over-reverse H v of the fast 4x4/2 conv (and its third derivative) against the
  reference's forward-over-reverse (jvp of grad, which custom VJPs do not support)."""
  fast, ref = _pair(False, (4, 4), (2, 2), ((1, 1), (1, 1)))
  x = jax.random.normal(jax.random.key(2), (2, 8, 8, 3))
  params = _random_params(fast.init(KEY, x))
  v = _random_params(params)
  loss = lambda layer: lambda p: jnp.sum(jnp.sin(layer.apply(p, x)) ** 2)

  hvp_rev = jax.grad(lambda p: _tree_vdot(jax.grad(loss(fast))(p), v))
  hvp_fwd = lambda p: jax.jvp(jax.grad(loss(ref)), (p,), (v,))[1]
  _close(jax.jit(hvp_rev)(params), jax.jit(hvp_fwd)(params))
  third = lambda hvp: jax.grad(lambda p: _tree_vdot(hvp(p), hvp(p)))
  _close(jax.jit(third(hvp_rev))(params), jax.jit(third(hvp_fwd))(params))
  with pytest.raises(TypeError, match="custom_vjp"):
    jax.jvp(loss(fast), (params,), (v,))


def test_conv_primitives_match_lax_with_negative_padding():
  """conv / kernel_grad with crops (negative pads) equal lax and their VJPs equal lax's."""
  x = jax.random.normal(jax.random.key(4), (2, 7, 6, 3))
  k = jax.random.normal(jax.random.key(5), (3, 2, 3, 4))
  pad = ((2, -1), (-2, 1))
  lax_conv = lambda x, k: jax.lax.conv_general_dilated(
      x[:, :-1, 2:], k, (1, 1), ((2, 0), (0, 1)), dimension_numbers=("NHWC", "HWIO", "NHWC")
  )
  dy = jax.random.normal(jax.random.key(6), (2, 6, 4, 4))

  @jax.jit
  def fast_and_reference():
    vjp = lambda f, *args: jax.vjp(f, *args)[1](dy)
    fast = conv(x, k, pad), vjp(lambda x, k: conv(x, k, pad), x, k), kernel_grad(x, dy, pad)
    return fast, (lax_conv(x, k), vjp(lax_conv, x, k), vjp(lambda k: lax_conv(x, k), k)[0])

  _close(*fast_and_reference())


def test_bfloat16_compute_matches_flax():
  fast, ref = _pair(True, (4, 4), (2, 2), "SAME", dtype=jnp.bfloat16)
  x = jax.random.normal(jax.random.key(2), (2, 4, 4, 8))
  params = _random_params(fast.init(KEY, x))
  y, expected = jax.jit(lambda p: (fast.apply(p, x), ref.apply(p, x)))(params)
  assert y.dtype == jnp.bfloat16 and params["params"]["kernel"].dtype == jnp.float32
  _close(y.astype(jnp.float32), expected.astype(jnp.float32), rtol=2e-2)


@pytest.mark.parametrize(
    "layer,shape,message",
    [
        (
            FastConv(4, (3, 3), padding="CIRCULAR"),
            (1, 5, 5, 2),
            "padding='CIRCULAR' is not supported",
        ),
        (
            FastConv(4, (3, 3), padding=(1, 2, 3)),
            (1, 5, 5, 2),
            r"padding=\(1, 2, 3\) is not supported",
        ),
        (FastConvTranspose(4, (4, 4), strides=0), (1, 5, 5, 2), "strides=.*positive integers"),
        (FastConv(4, (3,)), (1, 5, 5, 2), "kernel_size=.*2 positive integers"),
        (FastConv(4, (3, 3)), (5, 5, 2), "NHWC inputs"),
    ],
)
def test_unsupported_arguments_are_clear_errors(layer, shape, message):
  with pytest.raises(ValueError, match=message):
    layer.init(KEY, jnp.zeros(shape))


def _models(conv_kind, shape, **fields):
  return build_models("sngan_cnn", shape, z_dim=8, width=8, conv=conv_kind, **fields)


def _d_objective(d, real, fake, d_state):
  """WGAN critic loss + 10 GP, as gan_jax/step.py builds it (train mode, GP in eval mode)."""

  def objective(params):
    logits, _ = d.apply(
        {"params": params, **d_state},
        jnp.concatenate([real, fake]),
        train=True,
        mutable=list(d_state),
    )
    d_fn = lambda x: d.apply({"params": params, **d_state}, x, train=False)
    real_logits, fake_logits = jnp.split(logits, 2)
    gp = gradient_penalty(d_fn, params, real, fake, jax.random.key(7))
    return jnp.mean(fake_logits) - jnp.mean(real_logits) + 10.0 * gp

  return objective


def _slow_convolutions(hlo_text):
  """The compiled HLO's convolutions that miss XLA:CPU's fast path (strided, dilated,
  window-reversed or not NHWC x HWIO)."""
  convs = [line for line in hlo_text.splitlines() if re.search(r"= \S+ convolution\(", line)]
  assert convs
  return [
      line
      for line in convs
      if re.search(r"stride=|lhs_dilate=|rhs_dilate=|rhs_reversal=", line)
      or "dim_labels=b01f_01io->b01f" not in line
  ]


# (32, 32, 3) without SN takes the same paths plus one more upsampling: ~1.5x the time on CPU.
@pytest.mark.parametrize("shape,sn", [((28, 28, 1), True)])
def test_sngan_cnn_fast_equals_xla_and_compiles_to_fast_path_convolutions(shape, sn):
  """conv='fast' and 'xla' share parameters and agree on outputs and on the gradients of the
  WGAN-GP D loss (double backprop) and of the G loss. The speed property, guarded without
  timing: the compiled fast gradients hold no strided, dilated or window-reversed convolution
  (the xla ones do)."""
  z = jax.random.normal(jax.random.key(8), (4, 8))
  results = {}
  for conv_kind in ("fast", "xla"):
    g, d = _models(conv_kind, shape, d_sn=sn)
    g_vars = jax.jit(lambda k: g.init(k, z, train=False))(KEY)
    fake = jax.jit(lambda v: g.apply(v, z, train=True, mutable=["batch_stats"])[0])(g_vars)
    real = jax.random.uniform(jax.random.key(9), fake.shape, minval=-1, maxval=1)
    d_vars = jax.jit(lambda k: d.init(k, real, train=False))(KEY)
    d_state = {k: v for k, v in d_vars.items() if k != "params"}
    g_state = {"batch_stats": g_vars["batch_stats"]}
    fake_of = lambda p: g.apply({"params": p, **g_state}, z, train=False)
    g_loss = lambda p: -jnp.mean(d.apply(d_vars, fake_of(p), train=False))
    d_grad = jax.jit(jax.grad(_d_objective(d, real, fake, d_state))).lower(d_vars["params"])
    g_grad = jax.jit(jax.grad(g_loss)).lower(g_vars["params"])
    d_grad, g_grad = d_grad.compile(), g_grad.compile()
    results[conv_kind] = dict(
        variables=(g_vars, d_vars),
        outputs=(fake, jax.jit(lambda v: d.apply(v, real, train=False))(d_vars)),
        grads=(d_grad(d_vars["params"]), g_grad(g_vars["params"])),
        slow=[_slow_convolutions(f.as_text()) for f in (d_grad, g_grad)],
    )
  fast, xla = results["fast"], results["xla"]
  _same(fast["variables"], xla["variables"])
  _close(fast["outputs"], xla["outputs"])
  _close(fast["grads"], xla["grads"])
  assert fast["slow"] == [[], []], fast["slow"]
  assert all(xla["slow"])  # the check sees what it guards against


def test_conv_and_dtype_fields_are_validated():
  with pytest.raises(FieldError, match=r"conv='cudnn': allowed: fast, xla"):
    _models("cudnn", (32, 32, 3))
  with pytest.raises(FieldError, match=r"dtype='float16': allowed: float32, bfloat16"):
    _models("fast", (32, 32, 3), dtype="float16")


def test_bfloat16_models_keep_float32_params_and_outputs():
  z = jax.random.normal(jax.random.key(8), (2, 8))

  def run(dtype):
    g, d = _models("fast", (28, 28, 1), dtype=dtype)

    def f(key):
      g_vars = g.init(key, z, train=False)
      x = g.apply(g_vars, z, train=False)
      d_vars = d.init(key, x, train=False)
      return (g_vars, d_vars), (x, d.apply(d_vars, x, train=False))

    return jax.jit(f)(KEY)

  (variables, outputs), (variables32, outputs32) = run("bfloat16"), run("float32")
  _same(variables, variables32)
  assert all(x.dtype == jnp.float32 for x in outputs)
  _close(outputs, outputs32, rtol=5e-2)
