"""Dense peak FLOP/s of accelerators, for model FLOPs utilization.

  MFU = achieved FLOP/s / (number of devices x one device's peak at the step's precision)

The peaks are the vendors' dense (no 2:4 sparsity) tensor-core / MXU numbers. The
precision is what the matmuls and convolutions compute in: 'bfloat16' where the model
computes in bfloat16 (`model.dtype`); for float32, JAX's default precision, which is
TF32 on NVIDIA GPUs since Ampere and bfloat16 passes on TPUs, unless
`jax_default_matmul_precision` asks for full float32. CPUs have no entry: their peak is
measured (`python -m benchmarks.matmul_peak`) and passed as `--peak_flops`.
"""

# (a substring of jax's device_kind, {precision: FLOP/s per device}); the first match wins.
_H100_SXM = {'float32': 66.9e12, 'tf32': 494.7e12, 'bfloat16': 989.4e12}
PEAK_FLOPS = (
    ('NVL', {}),  # H100 NVL / H200 NVL: other clocks, not listed
    ('H100 PCIe', {'float32': 51.2e12, 'tf32': 378e12, 'bfloat16': 756e12}),
    ('H100 80GB HBM3', _H100_SXM),
    ('H100 SXM', _H100_SXM),
    ('H200', _H100_SXM),  # the H100 SXM's compute with more memory
    ('A100', {'float32': 19.5e12, 'tf32': 156e12, 'bfloat16': 312e12}),
    ('TPU v4', {'bfloat16': 275e12}),
    ('TPU v5 lite', {'bfloat16': 197e12}),
    ('TPU v5', {'bfloat16': 459e12}),  # v5p
    ('TPU v6 lite', {'bfloat16': 918e12}),
)

_FULL_FLOAT32 = ('highest', 'float32', 'F32_F32_F32')


def compute_precision(platform, model_dtype, matmul_precision=None):
  """'bfloat16', 'tf32' or 'float32': what a step's matmuls and convolutions compute in.

  platform: jax's backend ('cpu', 'gpu', 'cuda', 'tpu'); model_dtype: the config's
  model.dtype (None: float32); matmul_precision: jax.config.jax_default_matmul_precision.
  """
  if str(model_dtype) == 'bfloat16':
    return 'bfloat16'
  if matmul_precision in _FULL_FLOAT32:
    return 'float32'
  return {'gpu': 'tf32', 'cuda': 'tf32', 'tpu': 'bfloat16'}.get(platform, 'float32')


def peak_flops(device_kind, precision):
  """One device's dense peak FLOP/s at `precision`, or None where this table has none."""
  for key, peaks in PEAK_FLOPS:
    if key in device_kind:
      return peaks.get(precision)
  return None
