"""Value checks shared by the config validator and the registry builders.

A failed check raises `FieldError('<name>=<value>: <rule>')`; callers that know
where the field lives prefix its path (`config.model.`).
"""

from gan_jax.errors import FieldError  # re-exported: `from gan_jax.checks import FieldError` works


def check_number(name, value, *, integer=False, low=None, low_open=False, high_open=None):
  """`value` if it is a number (an int if `integer`) within the bounds, else FieldError."""
  kind = int if integer else (int, float)
  if isinstance(value, bool) or not isinstance(value, kind):
    raise FieldError(f'{name}={value!r}: must be {"an integer" if integer else "a number"}')
  if low is not None and (value <= low if low_open else value < low):
    raise FieldError(f'{name}={value!r}: must be {">" if low_open else ">="} {low}')
  if high_open is not None and value >= high_open:
    raise FieldError(f'{name}={value!r}: must be < {high_open}')
  return value


def check_widths(name, widths):
  """A sequence of layer widths, each an integer >= 1."""
  if isinstance(widths, (str, bytes)) or not hasattr(widths, '__iter__'):
    raise FieldError(f'{name}={widths!r}: must be a tuple of integers')
  for i, width in enumerate(widths):
    check_number(f'{name}[{i}]', width, integer=True, low=1)
  return tuple(widths)


def check_choice(name, value, allowed):
  """`value` if it is one of `allowed`, else FieldError listing them."""
  if isinstance(value, str) and value in allowed:
    return value
  raise FieldError(f'{name}={value!r}: allowed: {", ".join(allowed)}')
