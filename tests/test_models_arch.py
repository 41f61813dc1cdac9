"""Tests for the conditional models and the literature architectures (resnet, dcgan, SAGAN
attention): shapes, finiteness, parameter counts, projection, conditional BatchNorm, the
unconditional models' parameter trees, bad fields."""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.checks import FieldError
from gan_jax.models import MODELS, build_models
from gan_jax.models.conditioning import ConditionalBatchNorm

KEY = jax.random.key(0, impl="rbg")  # compiles faster on CPU than threefry
SMALL = {
    "sngan_cnn": dict(z_dim=8, width=4),
    "resnet": dict(z_dim=8, g_width=8, d_width=8),
    "dcgan": dict(z_dim=8, width=4),
    "mlp": dict(z_dim=8, g_hidden=(16,), d_hidden=(8,), maxout_pieces=2),
}
CNNS = ("sngan_cnn", "resnet", "dcgan")
SIZES = {28: (28, 28, 1), 32: (32, 32, 3), 64: (64, 64, 3)}
K = 10


def n_params(variables):
  return sum(math.prod(x.shape) for x in jax.tree.leaves(variables["params"]))


def run(G, D, z, y, eval_mode=True):
  """init G and D, then G and D in training (and inference) mode."""
  gv = G.init(KEY, z, y, train=False)
  x, _ = G.apply(gv, z, y, train=True, mutable=["batch_stats"])
  dv = D.init(KEY, x, y, train=False)
  out, _ = D.apply(dv, x, y, train=True, mutable=["batch_stats"])
  if not eval_mode:
    return gv, dv, x, out
  return gv, dv, x, G.apply(gv, z, y, train=False), out, D.apply(dv, x, y, train=False)


def variants(name, size):
  """(conditioning, attention fields, sn): unconditional plain, projection with attention and
  SN, ACGAN with SN on G only (attention only where the model has it)."""
  res = 14 if size == 28 else 8
  attn = {} if name == "dcgan" else {"attention_res": res, "attention_in": "both"}
  return [("none", {}, False), ("projection", attn, True), ("acgan", {}, "g")]


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("name", CNNS)
def test_shapes_every_variant(name, size):
  """Abstract evaluation (tracing, no compilation) of every conditioning x attention x SN."""
  shape = SIZES[size]
  for conditioning, attn, sn in variants(name, size):
    classes = 0 if conditioning == "none" else K
    G, D = build_models(
        name,
        shape,
        num_classes=classes,
        conditioning=conditioning,
        g_sn=bool(sn),
        d_sn=sn is True,
        **attn,
        **SMALL[name],
    )
    z = jax.ShapeDtypeStruct((3, G.z_dim), jnp.float32)
    y = jax.ShapeDtypeStruct((3,), jnp.int32) if classes else None
    gv, dv, x, x_eval, out, out_eval = jax.eval_shape(lambda z, y: run(G, D, z, y), z, y)
    assert x.shape == x_eval.shape == (3, *shape) and x.dtype == jnp.float32
    for o in (out, out_eval):
      if conditioning == "acgan":
        assert o[0].shape == (3,) and o[1].shape == (3, K), (name, size)
      else:
        assert o.shape == (3,) and o.dtype == jnp.float32
    assert ("attention" in gv["params"]) == bool(attn)
    assert ("attention" in dv["params"]) == bool(attn)


# Compiled runs, in numbers: one per model, the sizes rotated (spectral norm costs 7x the
# compile time and is traced in every variant above; its sigma is tested in test_models.py).
FINITE = [
    ("sngan_cnn", 28, "acgan", {"attention_res": 14}, False),
    ("resnet", 32, "projection", {"attention_res": 16, "attention_pool": True}, False),
    ("dcgan", 64, "none", {}, False),
]


@pytest.mark.parametrize("name,size,conditioning,attn,sn", FINITE)
def test_finite_outputs(name, size, conditioning, attn, sn):
  shape = SIZES[size]
  classes = 0 if conditioning == "none" else K
  G, D = build_models(
      name,
      shape,
      num_classes=classes,
      conditioning=conditioning,
      g_sn=sn,
      d_sn=sn,
      **attn,
      **SMALL[name],
  )
  z = 2.0 * jax.random.normal(KEY, (4, G.z_dim))
  y = jnp.array([0, 3, 9, 3]) if classes else None
  _, _, x, out = jax.jit(lambda z, y: run(G, D, z, y, eval_mode=False))(z, y)
  assert x.shape == (4, *shape) and float(jnp.abs(x).max()) <= 1.0
  for leaf in jax.tree.leaves((x, out)):
    assert bool(jnp.isfinite(leaf).all())


def counts(name, shape, **fields):
  G, D = build_models(name, shape, **fields)
  y = jnp.zeros((2,), jnp.int32)
  gv = jax.eval_shape(lambda: G.init(KEY, jnp.zeros((2, G.z_dim)), y, train=False))
  dv = jax.eval_shape(lambda: D.init(KEY, jnp.zeros((2, *shape)), y, train=False))
  return n_params(gv), n_params(dv)


def test_param_counts_32x32x3():
  """Parameter counts at 32x32x3 (the README sets them beside the published ones)."""
  assert counts("sngan_cnn", (32, 32, 3)) == (3_813_379, 2_935_873)  # z 128, width 64
  assert counts("resnet", (32, 32, 3)) == (1_204_483, 1_053_825)  # WGAN-GP: 128 / 128
  assert counts("resnet", (32, 32, 3), g_width=256) == (4_276_739, 1_053_825)  # SNGAN CIFAR
  # cBN: + 2 x 10 x 256 per BN (6 BNs); projection: + 10 x 128; acgan: + 128 x 10 + 10
  proj = counts("resnet", (32, 32, 3), g_width=256, num_classes=10, conditioning="projection")
  assert proj == (4_276_739 + 6 * 2 * 10 * 256 - 6 * 2 * 256, 1_053_825 + 10 * 128)
  acgan = counts("resnet", (32, 32, 3), g_width=256, num_classes=10, conditioning="acgan")
  assert acgan == (proj[0], 1_053_825 + 128 * 10 + 10)
  assert counts("dcgan", (32, 32, 3)) == (1_068_928, 663_296)
  assert counts("dcgan", (64, 64, 3)) == (3_576_704, 2_765_568)  # = PyTorch's DCGAN example
  # SAGAN block at 16x16 (C = 128): f, g, h (C x C/8 each), v (C/8 x C), gamma
  assert counts("resnet", (32, 32, 3), attention_res=16) == (
      1_204_483 + 4 * 128 * 16 + 1,
      1_053_825 + 4 * 128 * 16 + 1,
  )


def _d_variables(D, x, y):
  return jax.jit(lambda x, y: D.init(KEY, x, y, train=False))(x, y)


@pytest.mark.parametrize("name", ["resnet", "mlp"])
def test_projection_is_unconditional_plus_inner_product(name):
  """D(x, y) = psi(phi(x)) + <V[y], phi(x)>: changes with y, and equals the unconditional D
  with the same parameters plus the projection term."""
  shape = (32, 32, 3) if name == "resnet" else (28, 28, 1)
  _, D = build_models(name, shape, num_classes=K, conditioning="projection", **SMALL[name])
  _, D0 = build_models(name, shape, **SMALL[name])
  x = jax.random.normal(KEY, (4, *shape))
  y = jnp.array([1, 2, 3, 4])
  v = _d_variables(D, x, y)
  v = {**v, "params": dict(v["params"])}
  kernel_shape = v["params"]["projection"]["kernel"].shape
  v["params"]["projection"] = {"kernel": jax.random.normal(KEY, kernel_shape)}
  params0 = {k: p for k, p in v["params"].items() if k != "projection"}
  last = sorted(k for k in params0 if k.startswith("Dense_"))[-1]

  @jax.jit
  def outputs(v, x, y):
    v0 = {**v, "params": params0}
    return (
        D.apply(v, x, y, train=False),
        D.apply(v, x, (y + 5) % K, train=False),
        D0.apply(v0, x, train=False),
        _features(D0, v0, x, last),
    )

  out, out_other, plain, phi = outputs(v, x, y)
  assert not np.allclose(out, out_other)
  np.testing.assert_allclose(
      plain, (phi @ params0[last]["kernel"])[:, 0] + params0[last]["bias"], rtol=1e-5, atol=1e-5
  )
  projection = jnp.sum(v["params"]["projection"]["kernel"][y] * phi, axis=-1)
  np.testing.assert_allclose(out, plain + projection, rtol=1e-5, atol=1e-4)


def _features(D, variables, x, last):
  """The input of D's last dense layer `last` (phi(x))."""
  captured = {}

  def interceptor(next_fun, args, kwargs, context):
    if context.module.name == last and context.method_name == "__call__":
      captured["phi"] = args[0]
    return next_fun(*args, **kwargs)

  with nn.intercept_methods(interceptor):
    D.apply(variables, x, train=False)
  return captured["phi"]


def test_conditional_batchnorm_uses_the_rows_class():
  """y_out[i] = gamma[y_i] * x_hat[i] + beta[y_i], x_hat normalised over the batch."""
  bn = ConditionalBatchNorm(3)
  x = jax.random.normal(KEY, (4, 2, 2, 5)) * 3 + 1
  y = jnp.array([2, 0, 2, 1])
  v = jax.jit(lambda x, y: bn.init(KEY, x, y, train=False))(x, y)
  assert np.array_equal(v["params"]["gamma"], np.ones((3, 5)))
  assert np.array_equal(v["params"]["beta"], np.zeros((3, 5)))
  gamma = jax.random.normal(jax.random.key(1), (3, 5))
  beta = jax.random.normal(jax.random.key(2), (3, 5))
  apply = jax.jit(lambda v, x, y: bn.apply(v, x, y, train=True, mutable=["batch_stats"])[0])
  out = apply({**v, "params": {"gamma": gamma, "beta": beta}}, x, y)
  mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
  x_hat = (x - mean) / jnp.sqrt(var + 1e-5)
  expected = gamma[y][:, None, None, :] * x_hat + beta[y][:, None, None, :]
  np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["sngan_cnn", "resnet", "dcgan"])
def test_generator_output_depends_on_label(name):
  """With the cBN shifts moved off their init (beta = 0), the label changes G's output; the
  same noise and label give the same sample (inference mode: running statistics)."""
  G, _ = build_models(name, (28, 28, 1), num_classes=K, conditioning="projection", **SMALL[name])
  z = jax.random.normal(KEY, (2, G.z_dim))
  z = jnp.concatenate([z, z])
  y = jnp.array([0, 0, 0, 5])

  @jax.jit
  def samples(z, y):
    v = G.init(KEY, z, train=False)
    params = jax.tree_util.tree_map_with_path(
        lambda p, a: a + 0.5 * jax.random.normal(KEY, a.shape)
        if getattr(p[-1], "key", None) == "beta"
        else a,
        v["params"],
    )
    return G.apply({**v, "params": params}, z, y, train=False)

  x = samples(z, y)
  np.testing.assert_array_equal(x[0], x[2])
  assert not np.allclose(x[1], x[3])


@pytest.mark.parametrize("conditioning", ["concat", "embed", "projection", "acgan"])
def test_mlp_conditionings(conditioning):
  G, D = build_models("mlp", (28, 28, 1), num_classes=K, conditioning=conditioning, **SMALL["mlp"])
  z = jax.random.normal(KEY, (3, 8))
  y = jnp.array([0, 1, 2])
  _, _, x, _, out, _ = jax.jit(lambda z, y: run(G, D, z, y))(z, y)
  assert x.shape == (3, 28, 28, 1)
  if conditioning == "acgan":
    assert out[0].shape == (3,) and out[1].shape == (3, K)
  else:
    assert out.shape == (3,)
  gv = jax.eval_shape(lambda: G.init(KEY, z, y, train=False))
  dense0 = gv["params"]["Dense_0"]["kernel"].shape
  extra = 10 if conditioning == "embed" else K  # embed_dim defaults to 10
  assert dense0 == (8 + extra, 16)
  assert ("embed_y" in gv["params"]) == (conditioning == "embed")


def test_conditional_model_needs_labels_after_init():
  G, D = build_models("mlp", (2,), num_classes=K, conditioning="concat", **SMALL["mlp"])
  z = jnp.zeros((2, 8))
  v = G.init(KEY, z, train=False)  # init without labels: zeros
  with pytest.raises(ValueError, match="pass labels"):
    G.apply(v, z, train=False)


# The unconditional parameter trees (names and shapes) of the models that existed before
# conditioning: runs and checkpoints made before it must load and compute the same. (Values were
# compared bitwise with the previous code at a fixed key when conditioning was added.)
UNCONDITIONAL_TREES = {
    "mlp": {
        "Dense_0": {"bias": (16,), "kernel": (8, 16)},
        "Dense_1": {"bias": (784,), "kernel": (16, 784)},
    },
    "sngan_cnn": {
        "BatchNorm_0": {"bias": (16,), "scale": (16,)},
        "BatchNorm_1": {"bias": (8,), "scale": (8,)},
        "BatchNorm_2": {"bias": (4,), "scale": (4,)},
        "ConvTranspose_0": {"bias": (8,), "kernel": (4, 4, 16, 8)},
        "ConvTranspose_1": {"bias": (4,), "kernel": (4, 4, 8, 4)},
        "Conv_0": {"bias": (1,), "kernel": (3, 3, 4, 1)},
        "Dense_0": {"bias": (7 * 7 * 16,), "kernel": (8, 7 * 7 * 16)},
    },
}


@pytest.mark.parametrize("name", sorted(UNCONDITIONAL_TREES))
def test_unconditional_trees_unchanged(name):
  G, D = build_models(name, (28, 28, 1), **SMALL[name])
  gv = jax.eval_shape(lambda: G.init(KEY, jnp.zeros((2, 8)), train=False))
  shapes = jax.tree.map(lambda a: a.shape, gv["params"])
  assert shapes == UNCONDITIONAL_TREES[name]
  dv = jax.eval_shape(lambda: D.init(KEY, jnp.zeros((2, 28, 28, 1)), train=False))
  last = "Dense_1" if name == "mlp" else "Dense_0"
  assert dv["params"][last]["kernel"].shape[-1] == 1 and "projection" not in dv["params"]


def test_bad_fields():
  with pytest.raises(FieldError, match="allows: none, projection, acgan"):
    build_models("resnet", (32, 32, 3), num_classes=10, conditioning="concat")
  with pytest.raises(FieldError, match="allows: none, concat, embed, projection, acgan"):
    build_models("mlp", (2,), num_classes=10, conditioning="film")
  with pytest.raises(FieldError, match="needs >= 2 classes"):
    build_models("dcgan", (64, 64, 3), conditioning="acgan")
  with pytest.raises(FieldError, match="attention_res=12: resnet G has no such resolution"):
    build_models("resnet", (32, 32, 3), attention_res=12)
  with pytest.raises(FieldError, match="sngan_cnn D has no such resolution"):
    build_models("sngan_cnn", (32, 32, 3), attention_res=32 * 2, attention_in="d")
  with pytest.raises(FieldError, match="attention_in"):
    build_models("resnet", (32, 32, 3), attention_res=16, attention_in="gd")
  with pytest.raises(ValueError):
    build_models("dcgan", (30, 30, 3))
  for name in MODELS:
    G, D = build_models(name, (28, 28, 1))
    assert G.z_dim > 0
