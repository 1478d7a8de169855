"""lmfit's method names: case-insensitive (lmfit lowercases ``method``)."""

from __future__ import annotations

from ._scalar import SCALAR_METHODS

#: least-squares method names -> LMConfig.method; ``least_squares`` (lmfit's
#: scipy.optimize.least_squares) is solved by the same Levenberg-Marquardt
#: solver as ``leastsq`` (the same minimum; exact Jacobians either way)
METHOD_ALIASES = {"leastsq": "lm", "lm": "lm", "levenberg_marquardt": "lm", "least_squares": "lm",
                  "gauss_newton": "gauss_newton"}


def canonical_method(method):
    """``method`` lowercased when that is a name batchfit knows, as lmfit
    reads ``"L-BFGS-B"`` or ``"LeastSq"``; anything else is returned as it
    is (the caller's error then names it)."""
    if isinstance(method, str):
        m = method.lower()
        if m in METHOD_ALIASES or m in SCALAR_METHODS:
            return m
    return method
