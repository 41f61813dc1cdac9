"""Study files: each has get_config(arg) and sweep(add, arg); `paper_grid` is shared by the papers'
2D studies."""


def paper_grid(add, arg, *, data, variants, seeds, steps, full_steps):
  """add() one run per (dataset, variant, seed), the dataset and variant as presets of the config
  argument, evaluated and checkpointed every fifth of the run.

  `arg`: comma-separated datasets of `data` (default: all), optionally `full` for the paper's
  `full_steps` instead of the shortened `steps`. ValueError for anything else.
  """
  parts = [p for p in (arg or '').split(',') if p]
  chosen = [p for p in parts if p != 'full'] or list(data)
  if any(d not in data for d in chosen):
    raise ValueError(f'sweep arg {arg!r}: allowed: {", ".join(data)}, full')
  num_steps = full_steps if 'full' in parts else steps
  every = num_steps // 5
  length = {
      'train.num_steps': num_steps,
      'train.sample_every': every,
      'checkpoint.every_steps': every,
      'eval.every_steps': every,
  }
  for d in chosen:
    for variant in variants:
      for seed in seeds:
        add(config_arg=f'{d},{variant}', seed=seed, **length)
