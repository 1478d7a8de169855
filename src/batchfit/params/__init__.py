"""Parameters with bounds, vary flags and tied expressions."""

from ._expr import ExprError
from ._parameter import Parameter
from ._parameters import Parameters, create_params

__all__ = ["ExprError", "Parameter", "Parameters", "create_params"]
