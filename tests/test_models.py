"""Tests for gan_jax.models: shapes, parameter counts, spectral norm, maxout, dropout, BN."""

import inspect
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax.models import MODELS, build_models
from gan_jax.models.mlp import D_ACTIVATIONS

# The rbg PRNG compiles far faster on CPU than threefry (init dominates test time).
KEY = jax.random.key(0, impl="rbg")
SMALL = {
    "mlp": dict(z_dim=8, g_hidden=(16, 16), d_hidden=(8, 8), maxout_pieces=3),
    "sngan_cnn": dict(z_dim=8, width=8),
}
CASES = [
    ("mlp", (2,)),
    ("mlp", (28, 28, 1)),
    ("mlp", (32, 32, 3)),
    ("sngan_cnn", (28, 28, 1)),
    ("sngan_cnn", (32, 32, 3)),
    ("sngan_cnn", (64, 64, 3)),
]


def init(module, x):
  """Jitted `module.init` (one compilation instead of op-by-op dispatch)."""
  return jax.jit(lambda k, x: module.init(k, x, train=False))(KEY, x)


def n_params(variables):
  return sum(math.prod(x.shape) for x in jax.tree.leaves(variables["params"]))


def test_registry_and_signatures():
  assert set(MODELS) >= {"mlp", "sngan_cnn"}
  for builder in MODELS.values():
    params = list(inspect.signature(builder).parameters.values())
    assert params[0].kind in (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    )
    for p in params[1:]:
      assert p.kind is inspect.Parameter.KEYWORD_ONLY, p
      assert p.default is not inspect.Parameter.empty, p


@pytest.mark.parametrize("name,shape", CASES)
@pytest.mark.parametrize("sn", [False, True])
def test_shapes_and_dtypes(name, shape, sn):
  """Abstract evaluation (no compute) of init and train/eval applies."""
  G, D = build_models(name, shape, g_sn=sn, d_sn=sn, **SMALL[name])
  assert G.z_dim == 8
  z = jax.ShapeDtypeStruct((3, G.z_dim), jnp.float32)

  def run(z):
    gv = init(G, z)
    x, _ = G.apply(gv, z, train=True, mutable=["batch_stats"])
    dv = init(D, x)
    logits, _ = D.apply(dv, x, train=True, mutable=["batch_stats"])
    return gv, dv, x, G.apply(gv, z, train=False), logits, D.apply(dv, x, train=False)

  gv, dv, x, x_eval, logits, logits_eval = jax.eval_shape(run, z)
  for out in (x, x_eval):
    assert out.shape == (3, *shape) and out.dtype == jnp.float32
  for out in (logits, logits_eval):
    assert out.shape == (3,) and out.dtype == jnp.float32
  assert ("batch_stats" in dv) == sn
  assert ("batch_stats" in gv) == (sn or name == "sngan_cnn")


@pytest.mark.parametrize(
    "name,shape,fields", [("mlp", (2,), dict(g_batchnorm=True)), ("sngan_cnn", (32, 32, 3), {})]
)
def test_output_range_and_batchnorm_update(name, shape, fields):
  """G output lies in [-1, 1]; in train mode BatchNorm returns updated stats."""
  G, D = build_models(name, shape, **SMALL[name], **fields)
  z = 3.0 * jax.random.normal(KEY, (4, G.z_dim))
  v = init(G, z)
  x, upd = G.apply(v, z, train=True, mutable=["batch_stats"])
  assert x.shape == (4, *shape) and float(jnp.abs(x).max()) <= 1.0
  old, new = jax.tree.leaves(v["batch_stats"]), jax.tree.leaves(upd["batch_stats"])
  assert len(old) == len(new) > 0
  assert all(not np.allclose(o, n) for o, n in zip(old, new))
  logits = D.apply(init(D, x), x, train=False)
  assert logits.shape == (4,) and bool(jnp.isfinite(logits).all())


def test_sngan_cnn_param_counts():
  G, D = build_models("sngan_cnn", (32, 32, 3), z_dim=128, width=64)
  gv = jax.eval_shape(lambda: G.init(KEY, jnp.zeros((2, 128)), train=False))
  dv = jax.eval_shape(lambda: D.init(KEY, jnp.zeros((2, 32, 32, 3)), train=False))
  assert abs(n_params(gv) - 3.81e6) <= 0.01e6, n_params(gv)
  assert abs(n_params(dv) - 2.94e6) <= 0.01e6, n_params(dv)


def test_invalid_arguments():
  with pytest.raises(ValueError, match="maxout"):
    build_models("mlp", (2,), d_activation="tanh")
  with pytest.raises(ValueError):
    build_models("sngan_cnn", (32, 16, 3))
  with pytest.raises(ValueError):
    build_models("sngan_cnn", (30, 30, 3))
  assert D_ACTIVATIONS == ("maxout", "relu", "leaky_relu")


@pytest.mark.parametrize("name,shape", [("mlp", (2,)), ("sngan_cnn", (28, 28, 1))])
def test_spectral_norm_sigma_converges(name, shape):
  _, D = build_models(name, shape, d_sn=True, **SMALL[name])
  x = jax.random.normal(KEY, (2, *shape))
  v = init(D, x)

  @jax.jit
  def step(v):
    _, upd = D.apply(v, x, train=True, mutable=["batch_stats"])
    return {**v, **upd}

  for _ in range(40):
    v = step(v)
  checked = 0
  for sn_name, stats in v["batch_stats"].items():
    assert sn_name.startswith("SpectralNorm_")
    for key, sigma in stats.items():
      if not key.endswith("/kernel/sigma"):
        continue
      kernel = np.asarray(v["params"][key.split("/")[0]]["kernel"])
      true = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
      assert abs(float(sigma) - true) <= 0.02 * true, (key, float(sigma), true)
      checked += 1
  assert checked == len(v["params"])  # every layer is normalized


def test_maxout_takes_max_over_pieces():
  _, D = build_models("mlp", (2,), d_hidden=(1,), maxout_pieces=3)
  x = jnp.array([[1.0, 2.0], [-3.0, 0.5], [0.2, -4.0]])
  v = init(D, x)
  assert v["params"]["Dense_0"]["kernel"].shape == (2, 3)
  params = {
      "Dense_0": {"kernel": jnp.array([[1.0, 0.0, -1.0], [0.0, 1.0, 0.0]]), "bias": jnp.zeros(3)},
      "Dense_1": {"kernel": jnp.ones((1, 1)), "bias": jnp.zeros(1)},
  }
  out = D.apply({"params": params}, x, train=False)
  expected = np.max(np.stack([x[:, 0], x[:, 1], -x[:, 0]], -1), -1)
  np.testing.assert_allclose(out, expected)


def test_dropout_only_in_train():
  _, D = build_models("mlp", (2,), d_hidden=(32,), maxout_pieces=2, d_dropout=0.5)
  x = jax.random.normal(KEY, (4, 2))
  v = init(D, x)
  a = D.apply(v, x, train=True, rngs={"dropout": jax.random.key(1, impl="rbg")})
  b = D.apply(v, x, train=True, rngs={"dropout": jax.random.key(2, impl="rbg")})
  assert not np.allclose(a, b)
  np.testing.assert_array_equal(D.apply(v, x, train=False), D.apply(v, x, train=False))
