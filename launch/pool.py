"""The local backend of launch.sweep: K jobs at a time on this machine, each in its own slot.

A slot is a share of the machine: `--gpus_per_run` GPUs (nvidia-smi), handed to the child through
CUDA_VISIBLE_DEVICES, or on a CPU a contiguous group of the cores this process may use (the
child is pinned to them, and the OpenMP/BLAS thread counts follow). `default_parallel` fills the
machine: one job per `gpus_per_run` GPUs, else one job per core (the small programs here use one
core well). Finished jobs are skipped; a failing one does not stop the others; Ctrl-C (SIGINT)
or SIGTERM is forwarded once to every running child (each saves a checkpoint of its step).
"""

import os
import shlex
import shutil
import signal
import subprocess
import time
import warnings

from gan_jax import workdir as run_folder
from gan_jax.errors import UserError

LOG_FILE = run_folder.LOG_FILE
THREAD_VARS = ('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS')


def gpu_count() -> int:
  """GPUs nvidia-smi lists (0 without it), limited to CUDA_VISIBLE_DEVICES if set."""
  visible = os.environ.get('CUDA_VISIBLE_DEVICES')
  if visible is not None:
    return len([d for d in visible.split(',') if d.strip()])
  if not shutil.which('nvidia-smi'):
    return 0
  try:
    out = subprocess.run(['nvidia-smi', '-L'], capture_output=True, text=True, timeout=30).stdout
  except (OSError, subprocess.SubprocessError):
    return 0
  return sum(1 for line in out.splitlines() if line.startswith('GPU '))


def gpu_ids():
  visible = os.environ.get('CUDA_VISIBLE_DEVICES')
  if visible is not None:
    return [d.strip() for d in visible.split(',') if d.strip()]
  return [str(i) for i in range(gpu_count())]


def default_parallel(gpus_per_run):
  """(K, why): the jobs that fill this machine: one per `gpus_per_run` GPUs, else one per core
  this process may use."""
  gpus = gpu_ids()
  if gpus and gpus_per_run:
    per = gpus_per_run
    return max(len(gpus) // per, 1), 'one per GPU' if per == 1 else f'one per {per} GPUs'
  return len(os.sched_getaffinity(0)), 'one per core'


def slots(parallel, gpus_per_run):
  """One dict per slot: {'cpus': [...]} on a CPU, {'gpus': [...]} with GPUs.

  With GPUs (and gpus_per_run > 0), K is capped by the GPUs there are. On a CPU, or with
  gpus_per_run=0, the cores are split into K contiguous groups (when K exceeds the cores, slots
  share them round-robin).
  """
  gpus = gpu_ids()
  if gpus and gpus_per_run:
    k = min(parallel, len(gpus) // gpus_per_run)
    if k < 1:
      raise UserError(f'--gpus_per_run={gpus_per_run}: only {len(gpus)} GPUs here')
    return [{'gpus': gpus[i * gpus_per_run : (i + 1) * gpus_per_run]} for i in range(k)]
  cores = sorted(os.sched_getaffinity(0))
  if parallel >= len(cores):
    return [{'cpus': [cores[i % len(cores)]]} for i in range(parallel)]
  return [
      {'cpus': cores[i * len(cores) // parallel : (i + 1) * len(cores) // parallel]}
      for i in range(parallel)
  ]


def slot_env(slot, environ=None):
  """The environment of a child in `slot`: its GPUs, or thread counts sized to its cores."""
  env = dict(os.environ if environ is None else environ)
  env['PYTHONUNBUFFERED'] = '1'
  if 'gpus' in slot:
    env['CUDA_VISIBLE_DEVICES'] = ','.join(slot['gpus'])
  else:
    for var in THREAD_VARS:
      env[var] = str(len(slot['cpus']))
  return env


class Child:
  """A running child process of one job (experiments.main or experiments.train_group)."""

  def __init__(self, run, command, slot, root):
    self.run, self.slot = run, slot
    self.log_path = os.path.join(root, run.name, LOG_FILE)
    os.makedirs(os.path.dirname(self.log_path), exist_ok=True)
    self.log = open(self.log_path, 'a')
    self.log.write(f'\n=== {time.strftime("%Y-%m-%d %H:%M:%S")} {shlex.join(command)}\n')
    self.log.flush()
    cpus = slot.get('cpus')
    self.start = time.time()
    with warnings.catch_warnings():
      # --vectorize's memory check starts JAX in this process, whose fork hook then warns on
      # every Popen; the child only pins its CPUs and execs, so the warning does not apply.
      warnings.filterwarnings('ignore', message='os.fork', category=RuntimeWarning)
      self.proc = subprocess.Popen(
          command,
          stdout=self.log,
          stderr=subprocess.STDOUT,
          env=slot_env(slot),
          start_new_session=True,  # a terminal's Ctrl-C reaches the launcher only; it forwards once
          preexec_fn=(lambda: os.sched_setaffinity(0, cpus)) if cpus else None,
      )

  def poll(self):
    code = self.proc.poll()
    if code is not None:
      self.log.close()
    return code


def log_tail(path, lines=15):
  try:
    with open(path, errors='replace') as f:
      text = f.read().splitlines()
  except OSError:
    return '(no log)'
  return '\n'.join('    ' + l for l in text[-lines:])


def format_eta(seconds):
  seconds = int(max(seconds, 0))
  return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


def _say(text):
  print(f'[sweep] {text}', flush=True)


class LocalPool:
  """Trains jobs K at a time: a queue, the running children, the free slots and the tally."""

  def __init__(self, jobs, total, slots_, config_file, root, python):
    self.queue, self.total, self.free = list(jobs), total, slots_
    self.config_file, self.root, self.python = config_file, root, python
    self.skipped = total - len(jobs)
    self.running, self.done, self.failed, self.durations, self.received = [], [], [], [], []
    self.started = time.time()

  def on_signal(self, signum, frame):
    del frame
    if self.received:
      return  # the children have it already; they save and stop
    self.received.append(signum)
    _say(f'signal {signum}: stopping the {len(self.running)} running runs (they save a checkpoint)')
    for child in self.running:
      try:
        os.killpg(child.proc.pid, signum)
      except ProcessLookupError:
        pass

  def progress(self):
    line = (
        f'{len(self.done) + self.skipped}/{self.total} done, {len(self.running)} running, '
        f'{len(self.failed)} failed, {len(self.queue)} queued'
    )
    left = len(self.queue) + len(self.running)
    if self.durations and left:
      per = sum(self.durations) / len(self.durations)
      width = max(1, min(len(self.free) + len(self.running), left))
      elapsed = sum(min(time.time() - c.start, per) for c in self.running)
      line += f' | ETA {format_eta((left * per - elapsed) / width)}'
    elif not left:
      line += f' | took {format_eta(time.time() - self.started)}'
    _say(line)

  def start_ready(self):
    while self.queue and self.free and not self.received:
      job = self.queue.pop(0)
      command = job.command(self.python, self.config_file, self.root)
      self.running.append(Child(job, command, self.free.pop(0), self.root))
      _say(f'start {job.name}')

  def finish(self, child, code):
    self.running.remove(child)
    self.free.append(child.slot)
    name = child.run.name
    if code == 0:
      self.done.append(name)
      self.durations.append(time.time() - child.start)
      _say(f'finished {name} in {format_eta(self.durations[-1])}')
    elif self.received and code in (128 + self.received[0], -self.received[0]):
      _say(f'stopped {name} (checkpoint saved)')
    else:
      self.failed.append((name, code, child.log_path))
      _say(f'FAILED {name} (exit {code})')
    self.progress()

  def loop(self, progress_every):
    last = time.time()
    while self.running or (self.queue and not self.received):
      self.start_ready()
      for child in list(self.running):
        code = child.poll()
        if code is not None:
          self.finish(child, code)
          last = time.time()
      if time.time() - last > progress_every:
        self.progress()
        last = time.time()
      time.sleep(0.2)

  def summary(self):
    """The exit code: 0, 1 (some job failed) or 128 + the signal; the failures' log tails."""
    for name, code, log in self.failed:
      _say(f'failed: {name} (exit {code}), {log}:\n{log_tail(log)}')
    if self.received:
      _say('interrupted: rerun the same command to resume')
      return 128 + self.received[0]
    return 1 if self.failed else 0


def run_local(runs, config_file, root, parallel, gpus_per_run, python, progress_every=30.0):
  """Trains `runs` (jobs: a Run, or a launch.groups.Group of runs) K at a time; returns the exit
  code (0, 1, or 128 + signal)."""
  todo = [r for r in runs if not r.finished(root)]
  unit = 'runs' if all(not hasattr(r, 'runs') for r in runs) else 'jobs'
  if len(runs) > len(todo):
    _say(f'{len(runs) - len(todo)} of {len(runs)} {unit} already finished: skipped')
  pool = LocalPool(todo, len(runs), slots(parallel, gpus_per_run), config_file, root, python)
  previous = {s: signal.signal(s, pool.on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
  try:
    pool.loop(progress_every)
  finally:
    for sig, handler in previous.items():
      signal.signal(sig, handler)
  return pool.summary()
