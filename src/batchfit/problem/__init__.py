"""From user inputs to arrays: dtypes, data (masks, ragged rows), packed
parameters (ParamSpec), and the residual functions the solver calls."""

from ._compat import PrecisionWarning, resolve_dtype, warn_if_unresolved, x64_context
from ._data import ModelData, prepare
from ._pack import ParamSpec, Packed, host_arrays, make_spec, pack, packed_args
from ._residual import ResidualShapeError, ResidualTypeError, model_residual, objective_residual

__all__ = ["ModelData", "Packed", "ParamSpec", "PrecisionWarning", "ResidualShapeError", "ResidualTypeError", "host_arrays",
           "make_spec", "model_residual", "objective_residual", "pack", "packed_args", "prepare",
           "resolve_dtype", "warn_if_unresolved", "x64_context"]
