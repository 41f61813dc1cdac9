"""The errors the entry points turn into one `error:` line and an exit code.

- `UserError`: a mistake in the user's input (config, flags, paths, data); exit 2, nothing written.
- `RunFailed`: a run hit a fault it must not go past (a non-finite update, a failed save); exit 1.
- `FieldError`: a field holds a value the suite cannot run with ('<name>=<value>: <rule>');
  callers that know where the field lives prefix its path ('config.model.').
"""

EXIT_FAILED = 1
EXIT_USAGE = 2


class UserError(Exception):
  """A mistake in the user's input (config, flags, paths, data): one line, no traceback."""


class RunFailed(Exception):
  """Training hit a fault it must not go past (a non-finite update, a failed save): one line."""


class FieldError(ValueError):
  """A field holds a value the suite cannot run with."""
