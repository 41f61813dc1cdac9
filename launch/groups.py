"""Vectorized groups of a sweep (`launch.sweep --vectorize`): which runs train as one program.

Runs whose configs differ only in `gan_jax.schema.VECTORIZABLE` fields (declared there, with
the fields: seed, learning rates, penalty weights, EMA decay, instance-noise scale, the
translation programs' loss weights) share one compiled step (a G/D GAN's, pix2pix's or
CycleGAN's); `plan` puts them in groups of at most `max_group`, in the sweep's order, and every
other difference (the loss, the data, a penalty switched on in one run and off in another, ...)
splits them. A group trains in one `experiments.train_group` process; its folder is
DIR/_groups/<id>/ (gan_jax/workdir.py), its id a digest of its runs' names (stable across reruns).

Runs already started keep how they started: a run linked to a group (its group.json) goes back to
that group, a run with checkpoints of its own trains alone.
"""

import dataclasses
import hashlib
import os
import shlex

from gan_jax import workdir as run_folder
from gan_jax.errors import UserError


@dataclasses.dataclass
class Group:
  """Runs of one program, trained together by experiments.train_group."""

  id: str
  runs: list  # launch.study.Run

  @property
  def name(self):  # its folder under the study's (the launcher's log goes there)
    return os.path.join(run_folder.GROUPS_DIR, self.id)

  def command(self, python, config_file, root):
    del config_file  # in runs.json
    return [python, '-m', 'experiments.train_group', f'--group={os.path.join(root, self.name)}']

  def finished(self, root):
    return all(r.finished(root) for r in self.runs)

  def record(self, config_file, root):
    """Its runs.json: what experiments.train_group trains. Per run: the config arg its child
    gets and the overrides it applies as --config.<field> flags would (gan_jax/run_config.py)."""
    return {
        'config_file': config_file,
        'runs': [
            {
                'name': r.name,
                'arg': r.child_arg,
                'overrides': r.flag_overrides,
                'workdir': os.path.join(root, r.name),
            }
            for r in self.runs
        ],
    }

  def write(self, config_file, root):
    path = os.path.join(root, self.name, run_folder.GROUP_RUNS_FILE)
    return run_folder.write_json(path, self.record(config_file, root))


def group_id(names) -> str:
  return 'g-' + hashlib.sha1('\n'.join(names).encode()).hexdigest()[:10]


def plan(runs, configs, root, max_group):
  """(jobs, split_by): the jobs to run, each a Run (alone) or a Group, in the sweep's order, and
  the non-vectorizable fields whose values differ between groups.

  `configs` are the runs' configs (same order). A group of one run is that run alone.
  """
  from gan_jax.config import program_key  # pylint: disable=g-import-not-at-top (JAX: only here)

  if max_group < 1:
    raise UserError(f'--max_group={max_group}: must be >= 1')
  keys = [program_key(c) for c in configs]
  buckets, order = {}, []
  for run, key in zip(runs, keys):
    old = run_folder.read_group_link(os.path.join(root, run.name))
    if old:
      bucket = ('linked', os.path.basename(os.path.normpath(old)))
    elif run_folder.checkpoint_steps(os.path.join(root, run.name)):
      bucket = ('alone', run.name)
    else:
      bucket = ('new', key)
    if bucket not in buckets:
      buckets[bucket] = []
      order.append(bucket)
    buckets[bucket].append(run)
  jobs = []
  for bucket in order:
    members = buckets[bucket]
    if bucket[0] == 'linked':
      chunks = [members]
    elif bucket[0] == 'alone':
      jobs.extend(members)
      continue
    else:
      chunks = [members[i : i + max_group] for i in range(0, len(members), max_group)]
    for chunk in chunks:
      jobs.append(Group(group_id([r.name for r in chunk]), chunk) if len(chunk) > 1 else chunk[0])
  distinct = [dict(k) for k in dict.fromkeys(keys)]
  split_by = sorted(
      f for f in set().union(*distinct) if len({repr(d.get(f)) for d in distinct}) > 1
  )
  return jobs, split_by


def check_memory(jobs, configs_by_name, limit=None):
  """UserError naming the first group that would not fit in memory (gan_jax.programs.group_memory)."""
  from gan_jax.config import program_key  # pylint: disable=g-import-not-at-top
  from gan_jax.group_train import group_parts  # pylint: disable=g-import-not-at-top
  from gan_jax.programs.group_memory import check_fits  # pylint: disable=g-import-not-at-top

  built = {}
  for job in jobs:
    if not isinstance(job, Group):
      continue
    config = configs_by_name[job.runs[0].name]
    key = program_key(config)  # the same program: the same memory per run
    if key not in built:
      built[key] = group_parts(config, num_devices=1)  # a GAN's Experiment or a translation's
    check_fits(built[key], len(job.runs), [r.name for r in job.runs], limit)


def describe(jobs, split_by, python, config_file, root):
  """The plan as --dry_run prints it: a summary line, then each job in order (a group with its
  runs above its command)."""
  groups = [j for j in jobs if isinstance(j, Group)]
  alone = [j for j in jobs if not isinstance(j, Group)]
  runs = sum(len(g.runs) for g in groups) + len(alone)
  lines = [
      f'# {runs} runs: {len(groups)} vectorized group(s), {len(alone)} run(s) alone'
      + (f'; groups split by {", ".join(split_by)}' if split_by else '')
  ]
  for job in jobs:
    done = '# finished: ' if job.finished(root) else ''
    if isinstance(job, Group):
      lines.append(f'# group {job.id}: {len(job.runs)} runs: {", ".join(r.name for r in job.runs)}')
    lines.append(done + shlex.join(job.command(python, config_file, root)))
  return lines
