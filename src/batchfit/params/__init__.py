"""Parameters with bounds, vary flags and tied expressions."""

from ._expr import ExprError, ExprNameError, ExprSyntaxError
from ._parameter import Parameter
from ._parameters import Parameters, create_params

__all__ = ["ExprError", "ExprNameError", "ExprSyntaxError", "Parameter", "Parameters", "create_params"]
