"""FastConv / FastConvTranspose equal nn.Conv / nn.ConvTranspose, with their first and second
derivatives, and keep every convolution of the gradient penalty's double backprop on XLA:CPU's
fast path (stride 1, no dilation, no window reversal)."""

import re

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import wgan_gp
from gan_jax.checks import FieldError
from gan_jax.data.source import ShapeOnlySource
from gan_jax.experiment import UserError, build_experiment
from gan_jax.models import build_models
from gan_jax.models.fast_conv import FastConv, FastConvTranspose, conv, kernel_grad
from gan_jax.regularizers import gradient_penalty

# Compilation is most of these tests' time. Hence: one jit per test where possible (op by op,
# JAX compiles every op); its data as arguments (XLA constant-folds a closed-over array's
# convolutions with its slow evaluator); the rbg PRNG (far faster to compile on CPU than
# threefry); data made outside jit from numpy.
KEY = jax.random.key(0, impl="rbg")


def _key(seed):
  return jax.random.key(seed, impl="rbg")


def _normal(seed, shape):
  return jnp.asarray(np.random.default_rng(seed).standard_normal(shape, np.float32))


RTOL = 1e-5  # of the reference's largest magnitude
MODEL_RTOL = 1e-4  # through 7 layers and a double backprop, with cancellations

# (transposed, kernel, strides, padding, features, input size): sngan_cnn's layers (D: 3x3/1
# and 4x4/2 pad 1; G: 4x4/2 transposed SAME, from the odd 7 of the 28x28 model; 3x3 SAME to an
# image's 3 channels, a GEMM), then other kernels, strides and paddings.
LAYERS = [
    (False, (3, 3), (1, 1), ((1, 1), (1, 1)), 5, 8),
    (False, (4, 4), (2, 2), ((1, 1), (1, 1)), 5, 8),
    (True, (4, 4), (2, 2), "SAME", 5, 7),
    (False, (3, 3), (1, 1), "SAME", 3, 7),
    (False, (5, 2), (3, 1), ((2, 0), (1, 3)), 5, 9),
    (True, (5, 4), (3, 2), "VALID", 5, 4),
    (True, (4, 3), (2, 1), ((1, 2), (0, 3)), 5, 5),
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


def _random_params(variables, key):
  leaves, tree = jax.tree.flatten(variables)
  keys = jax.random.split(key, len(leaves))
  return tree.unflatten([jax.random.normal(k, x.shape, x.dtype) for k, x in zip(keys, leaves)])


@pytest.mark.parametrize("transposed,kernel,strides,padding,features,size", LAYERS)
def test_layer_equals_flax_with_first_and_second_derivatives(
    transposed, kernel, strides, padding, features, size
):
  fast, ref = _pair(transposed, kernel, strides, padding, features)
  x = _normal(2, (2, size, size + 1, 3))

  @jax.jit
  def run(x, key):
    variables = fast.init(key, x), ref.init(key, x)
    params = _random_params(variables[0], jax.random.fold_in(key, 1))  # a random bias too
    r = jax.random.normal(jax.random.fold_in(key, 2), ref.apply(params, x).shape)

    def outputs_and_derivatives(layer):
      """y, d<tanh(y), r>/d(params, x) and d||d<tanh(y), r>/dx||^2/d(params, x): the
      gradient penalty's double backprop."""
      inner = lambda p, x: jnp.vdot(jnp.tanh(layer.apply(p, x)), r)
      outer = lambda p, x: jnp.sum(jnp.square(jax.grad(inner, 1)(p, x)))
      return (
          layer.apply(params, x),
          jax.grad(inner, (0, 1))(params, x),
          jax.grad(outer, (0, 1))(params, x),
      )

    return variables, outputs_and_derivatives(fast), outputs_and_derivatives(ref)

  variables, fast_results, ref_results = run(x, KEY)
  _same(*variables)  # the same parameters and initialisation
  _close(fast_results, ref_results)


def test_hessian_vector_products_match_forward_over_reverse():
  """Reverse-over-reverse H v of the fast 4x4/2 conv (and its third derivative) against the
  reference's forward-over-reverse (jvp of grad, which custom VJPs do not support)."""
  fast, ref = _pair(False, (4, 4), (2, 2), ((1, 1), (1, 1)))
  x = _normal(2, (2, 8, 8, 3))
  loss = lambda layer, x: lambda p: jnp.sum(jnp.sin(layer.apply(p, x)) ** 2)

  @jax.jit
  def run(x, key):
    params = _random_params(fast.init(key, x), jax.random.fold_in(key, 1))
    v = _random_params(params, jax.random.fold_in(key, 2))
    hvp_rev = jax.grad(lambda p: _tree_vdot(jax.grad(loss(fast, x))(p), v))
    hvp_fwd = lambda p: jax.jvp(jax.grad(loss(ref, x)), (p,), (v,))[1]
    third = lambda hvp: jax.grad(lambda p: _tree_vdot(hvp(p), hvp(p)))(params)
    return (hvp_rev(params), third(hvp_rev)), (hvp_fwd(params), third(hvp_fwd))

  _close(*run(x, KEY))
  params = jax.jit(fast.init)(KEY, x)
  with pytest.raises(TypeError, match="custom_vjp"):
    jax.jvp(loss(fast, x), (params,), (params,))


@pytest.mark.parametrize("features", [4, 6])  # a GEMM, a convolution
def test_conv_primitives_match_lax_with_negative_padding(features):
  """conv / kernel_grad with crops (negative pads) equal lax and their VJPs equal lax's."""
  x = _normal(4, (2, 7, 6, 3))
  k = _normal(5, (3, 2, 3, features))
  pad = ((2, -1), (-2, 1))
  lax_conv = lambda x, k: jax.lax.conv_general_dilated(
      x[:, :-1, 2:], k, (1, 1), ((2, 0), (0, 1)), dimension_numbers=("NHWC", "HWIO", "NHWC")
  )
  dy = _normal(6, (2, 6, 4, features))

  @jax.jit
  def fast_and_reference(x, k, dy):
    vjp = lambda f, *args: jax.vjp(f, *args)[1](dy)
    fast = conv(x, k, pad), vjp(lambda x, k: conv(x, k, pad), x, k), kernel_grad(x, dy, pad)
    return fast, (lax_conv(x, k), vjp(lax_conv, x, k), vjp(lambda k: lax_conv(x, k), k)[0])

  _close(*fast_and_reference(x, k, dy))


def test_bfloat16_compute_matches_flax():
  fast, ref = _pair(True, (4, 4), (2, 2), "SAME", dtype=jnp.bfloat16)
  x = _normal(2, (2, 4, 4, 8))

  @jax.jit
  def run(x, key):
    params = _random_params(fast.init(key, x), jax.random.fold_in(key, 1))
    return params, fast.apply(params, x), ref.apply(params, x)

  params, y, expected = run(x, KEY)
  assert y.dtype == jnp.bfloat16 and params["params"]["kernel"].dtype == jnp.float32
  _close(y.astype(jnp.float32), expected.astype(jnp.float32), rtol=2e-2)


@pytest.mark.parametrize(
    "layer,shape,message",
    [
        (FastConv(4, (3, 3), padding="CIRCULAR"), (1, 5, 5, 2), "'CIRCULAR' is not supported"),
        (FastConv(4, (3, 3), padding=(1, 2, 3)), (1, 5, 5, 2), r"\(1, 2, 3\) is not supported"),
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


def _d_objective(d, d_state):
  """WGAN critic loss + 10 GP of (params, real, fake, key), as gan_jax/step.py builds it
  (train mode, GP in eval mode)."""

  def objective(params, real, fake, key):
    logits, _ = d.apply(
        {"params": params, **d_state},
        jnp.concatenate([real, fake]),
        train=True,
        mutable=list(d_state),
    )
    d_fn = lambda x: d.apply({"params": params, **d_state}, x, train=False)
    real_logits, fake_logits = jnp.split(logits, 2)
    gp = gradient_penalty(d_fn, params, real, fake, key)
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


def _abstract_variables(module, x):
  """init's variables as ShapeDtypeStructs (traced, not compiled): names, shapes, dtypes."""
  return jax.eval_shape(lambda x: module.init(KEY, x, train=False), x)


def _gradients(g, d):
  """grad of the WGAN-GP D loss (double backprop) wrt D's params and of the G loss wrt G's."""

  def g_loss(g_params, g_state, d_vars, z):
    fake = g.apply({"params": g_params, **g_state}, z, train=False)
    return -jnp.mean(d.apply(d_vars, fake, train=False))

  return jax.grad(_d_objective(d, {})), jax.grad(g_loss)


# the whole SNGAN CNN both ways; the layer-by-layer equalities above stay in CI
@pytest.mark.slow
def test_sngan_cnn_fast_equals_xla():
  """conv='fast' and 'xla' have the same variables and agree on G's and D's outputs and on
  the gradients of the WGAN-GP D loss and of the G loss (28x28: G goes 7 -> 14 -> 28); the
  compiled fast gradients hold no strided, dilated or window-reversed convolution (the xla
  ones do)."""
  z = _normal(8, (2, 8))
  models = {c: _models(c, (28, 28, 1)) for c in ("fast", "xla")}
  x = jax.ShapeDtypeStruct((2, 28, 28, 1), jnp.float32)
  (g, d), (g_xla, d_xla) = models["fast"], models["xla"]
  assert _abstract_variables(g, z) == _abstract_variables(g_xla, z)
  assert _abstract_variables(d, x) == _abstract_variables(d_xla, x)

  @jax.jit
  def setup(z, key):
    g_vars = g.init(key, z, train=False)
    fake = g.apply(g_vars, z, train=True, mutable=["batch_stats"])[0]
    real = jax.random.uniform(jax.random.fold_in(key, 1), fake.shape, minval=-1, maxval=1)
    return g_vars, d.init(key, real, train=False), real, fake

  g_vars, d_vars, real, fake = setup(z, KEY)
  d_args = (d_vars["params"], real, fake, _key(7))
  g_args = (g_vars["params"], {"batch_stats": g_vars["batch_stats"]}, d_vars, z)
  results = {}
  for conv_kind, (g, d) in models.items():
    grads = [jax.jit(f).lower(*a).compile() for f, a in zip(_gradients(g, d), (d_args, g_args))]
    outputs = jax.jit(
        lambda: (g.apply(g_vars, z, train=False), d.apply(d_vars, real, train=False))
    )()
    values = [f(*a) for f, a in zip(grads, (d_args, g_args))]
    results[conv_kind] = outputs, values, [_slow_convolutions(f.as_text()) for f in grads]
  (fast_out, fast_grads, fast_slow), (xla_out, xla_grads, xla_slow) = results.values()
  _close(fast_out, xla_out, rtol=MODEL_RTOL)
  _close(fast_grads, xla_grads, rtol=MODEL_RTOL)
  assert fast_slow == [[], []], fast_slow
  assert all(xla_slow)  # the check sees what it guards against


def test_cifar10_gp_gradient_compiles_to_fast_path_convolutions_only():
  """Guards the speed property without timing: at 32x32x3 the compiled WGAN-GP D gradient
  (double backprop) of conv='fast' holds no strided, dilated or window-reversed convolution."""
  _, d = _models("fast", (32, 32, 3))
  x = jax.ShapeDtypeStruct((2, 32, 32, 3), jnp.float32)
  args = (_abstract_variables(d, x)["params"], x, x, _key(7))
  d_grad = jax.jit(_gradients(None, d)[0]).lower(*args).compile()
  assert _slow_convolutions(d_grad.as_text()) == []


def test_spectral_norm_wraps_fast_layers_like_flax_ones():
  """The same variables (params, spectral-norm stats) in sngan_cnn, and a spectral-normed
  4x4/2 FastConv equals nn.Conv's, outputs and updated stats."""
  z = jax.ShapeDtypeStruct((2, 8), jnp.float32)
  x = jax.ShapeDtypeStruct((2, 28, 28, 1), jnp.float32)
  (g, d), (g_xla, d_xla) = (_models(c, (28, 28, 1), g_sn=True, d_sn=True) for c in ("fast", "xla"))
  assert _abstract_variables(g, z) == _abstract_variables(g_xla, z)
  assert _abstract_variables(d, x) == _abstract_variables(d_xla, x)
  assert "Conv_1/kernel/u" in _abstract_variables(d, x)["batch_stats"]["SpectralNorm_1"]
  layers = [nn.SpectralNorm(c) for c in _pair(False, (4, 4), (2, 2), ((1, 1), (1, 1)))]

  @jax.jit
  def run(x, key):
    variables = [layer.init(key, x, update_stats=False) for layer in layers]
    return variables, [
        layer.apply(variables[0], x, update_stats=True, mutable=["batch_stats"]) for layer in layers
    ]

  (fast_vars, xla_vars), (fast_out, xla_out) = run(_normal(2, (2, 8, 8, 3)), KEY)
  _same(fast_vars, xla_vars)
  _close(fast_out, xla_out)


def test_conv_and_dtype_fields_are_validated():
  with pytest.raises(FieldError, match=r"conv='cudnn': allowed: fast, xla"):
    _models("cudnn", (32, 32, 3))
  with pytest.raises(FieldError, match=r"dtype='float16': allowed: float32, bfloat16"):
    _models("fast", (32, 32, 3), dtype="float16")
  config = wgan_gp.get_config("cifar10")
  assert (config.model.conv, config.model.dtype) == ("fast", "float32")  # the defaults
  config.model.conv = "cudnn"
  with pytest.raises(UserError, match=r"^config.model.conv='cudnn': allowed: fast, xla$"):
    build_experiment(config, source=ShapeOnlySource((32, 32, 3), is_image=True))


def test_bfloat16_models_compute_in_bfloat16_with_float32_params_and_outputs():
  z = jax.ShapeDtypeStruct((2, 8), jnp.float32)
  g, d = _models("fast", (28, 28, 1), dtype="bfloat16")

  def run(z):
    g_vars = g.init(KEY, z, train=False)
    x = g.apply(g_vars, z, train=False)
    d_vars = d.init(KEY, x, train=False)
    return (g_vars, d_vars), (x, d.apply(d_vars, x, train=False))

  variables, outputs = jax.eval_shape(run, z)
  assert all(v.dtype == jnp.float32 for v in jax.tree.leaves((variables, outputs)))
  jaxpr = str(jax.make_jaxpr(run)(jnp.zeros(z.shape)))
  products = re.findall(r":(\w+)\[[\d,]*\] = (conv_general_dilated|dot_general)\[", jaxpr)
  assert {op for _, op in products} == {"conv_general_dilated", "dot_general"}
  assert {dtype for dtype, _ in products} == {"bf16"}, products
