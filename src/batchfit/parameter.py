"""lmfit's ``parameter`` module names (``lmfit.parameter.Parameters``)."""

from .params import Parameter, Parameters, create_params

__all__ = ["Parameter", "Parameters", "create_params"]
