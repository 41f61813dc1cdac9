"""Times `model.conv='xla'` against `'fast'` (gan_jax/models/fast_conv.py) on this machine.

  python -m benchmarks.fast_conv --what=layers   # each sngan_cnn conv layer at full size
  python -m benchmarks.fast_conv --what=step     # the WGAN-GP iteration of wgan_gp.py:cifar10

`layers`: every conv layer of the 32x32 standard CNN (D at batch 128 = real + fake, G at 64),
fastest of `--iters` calls (xla and fast take turns, fair under a varying load), in ms: fwd
(the layer), bwd (grad wrt params and input of <act(y), r>, fwd included) and gp (grad wrt
params of ||grad_x <act(y), r>||^2: the gradient penalty's double backprop); act is D's
LeakyReLU(0.1) or G's ReLU. benchmarks/torch_conv_layers.py times the same in PyTorch.
`step`: the jitted train step of configs/wgan_gp.py:cifar10 on random uint8 images: compile
time, then `--warmup` untimed and `--iters` timed iterations (each 5 D steps at batch 64 and
one G step); samples/s = iterations x d_steps x batch / time. XLA_FLAGS is read at import:
compare `XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=` (convolutions on Eigen, not
YNNPACK) by running twice.
"""

import os
import time

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags

from configs import wgan_gp
from gan_jax import rng
from gan_jax.cli import parse_flags
from gan_jax.data.source import ArraySource
from gan_jax.experiment import build_experiment
from gan_jax.models.sngan_cnn import CONV_LAYERS
from gan_jax.step import build_train_step

flags.DEFINE_enum('what', 'step', ['layers', 'step'], 'What to time.')
flags.DEFINE_list('conv', ['xla', 'fast'], 'model.conv values to compare.')
flags.DEFINE_integer('iters', 5, 'Timed iterations (step) / calls (layers).')
flags.DEFINE_integer('warmup', 3, 'Untimed iterations after compiling.')
FLAGS = flags.FLAGS

# (name, transposed, in channels, out channels, kernel, stride, padding, batch, input size)
LAYERS = [
    *[
        (f'D{i} {k}x{k}/{s}', False, cin, cout, k, s, ((1, 1), (1, 1)), 128, size)
        for i, (cin, cout, k, s, size) in enumerate(
            [
                (3, 64, 3, 1, 32),
                (64, 64, 4, 2, 32),
                (64, 128, 3, 1, 16),
                (128, 128, 4, 2, 16),
                (128, 256, 3, 1, 8),
                (256, 256, 4, 2, 8),
                (256, 512, 3, 1, 4),
            ]
        )
    ],
    ('G0 4x4/2 T', True, 512, 256, 4, 2, 'SAME', 64, 4),
    ('G1 4x4/2 T', True, 256, 128, 4, 2, 'SAME', 64, 8),
    ('G2 4x4/2 T', True, 128, 64, 4, 2, 'SAME', 64, 16),
    ('G3 3x3/1', False, 64, 3, 3, 1, 'SAME', 64, 32),
]


def _best_ms(fns, args, calls):
  """{name: fastest of `calls` timed calls, ms}; the functions take turns (fair under load)."""
  for fn in fns.values():
    jax.block_until_ready(fn(*args[id(fn)]))
  times = {name: [] for name in fns}
  for _ in range(calls):
    for name, fn in fns.items():
      start = time.perf_counter()
      jax.block_until_ready(fn(*args[id(fn)]))
      times[name].append(time.perf_counter() - start)
  return {name: 1e3 * min(t) for name, t in times.items()}


def time_layers(convs, calls):
  """fwd: the layer; bwd: grad wrt (params, x) of <act(layer(x)), r>; gp: grad wrt params of
  ||grad_x <act(layer(x)), r>||^2 (act: LeakyReLU(0.1) in D, ReLU in G, as in the model)."""
  kinds = ('fwd', 'bwd', 'gp')
  print(f'{"layer":12s}' + ''.join(f'{c + " " + k:>11s}' for k in kinds for c in convs) + '  (ms)')
  for name, transposed, cin, cout, k, s, pad, batch, size in LAYERS:
    x = jax.random.normal(rng.key(0), (batch, size, size, cin))
    act = nn.relu if name.startswith('G') else lambda y: nn.leaky_relu(y, 0.1)
    fns, args = {}, {}
    for conv in convs:
      layer = CONV_LAYERS[conv][transposed](cout, (k, k), strides=s, padding=pad)
      params = layer.init(rng.key(1), x)
      r = jax.random.normal(rng.key(2), layer.apply(params, x).shape)
      inner = lambda p, x, r, layer=layer: jnp.vdot(act(layer.apply(p, x)), r)
      gp = lambda p, x, r, inner=inner: jnp.sum(jnp.square(jax.grad(inner, 1)(p, x, r)))
      for kind, fn in (
          ('fwd', lambda p, x, r, layer=layer: layer.apply(p, x)),
          ('bwd', jax.grad(inner, (0, 1))),
          ('gp', jax.grad(gp)),
      ):
        fns[conv, kind] = jax.jit(fn)
        args[id(fns[conv, kind])] = (params, x, r)
    best = _best_ms(fns, args, calls)
    print(f'{name:12s}' + ''.join(f'{best[c, k]:11.1f}' for k in kinds for c in convs), flush=True)


def time_step(conv, iters, warmup):
  config = wgan_gp.get_config('cifar10')
  config.model.conv = conv
  images = np.random.default_rng(0).integers(0, 256, (1024, 32, 32, 3), dtype=np.uint8)
  exp = build_experiment(config, source=ArraySource(images))
  step = build_train_step(exp)
  d_steps, batch = config.train.d_steps, config.train.batch_size
  state = exp.init_state(rng.key(0))
  batches = [
      np.stack([exp.source.batch(0, i * d_steps + j, batch) for j in range(d_steps)])[None]
      for i in range(warmup + iters + 1)
  ]
  key = rng.key(1)
  start = time.perf_counter()
  compiled = step.lower(state, batches[0], key).compile()
  compile_s = time.perf_counter() - start
  for b in batches[:warmup]:
    state, metrics = compiled(state, b, key)
  jax.block_until_ready(state)
  start = time.perf_counter()
  for b in batches[warmup : warmup + iters]:
    state, metrics = compiled(state, b, key)
  jax.block_until_ready((state, metrics))
  seconds = time.perf_counter() - start
  print(
      f'conv={conv}: compile {compile_s:.1f} s, {iters} iterations in {seconds:.2f} s: '
      f'{iters / seconds:.3f} it/s, {iters * d_steps * batch / seconds:.1f} samples/s '
      f'(d_loss {float(metrics["d_loss"]):.3f})',
      flush=True,
  )


def main(argv):
  del argv
  for conv in FLAGS.conv:
    if conv not in CONV_LAYERS:
      raise app.UsageError(f'--conv={conv}: allowed: {", ".join(CONV_LAYERS)}')
  flags_env = os.environ.get('XLA_FLAGS', '')
  print(f'jax {jax.__version__}, {jax.devices()[0].device_kind}, XLA_FLAGS={flags_env!r}')
  if FLAGS.what == 'layers':
    time_layers(FLAGS.conv, FLAGS.iters)
  else:
    for conv in FLAGS.conv:
      time_step(conv, FLAGS.iters, FLAGS.warmup)


if __name__ == '__main__':
  app.run(main, flags_parser=parse_flags)
