"""Parameters to and from lmfit's Parameters."""

from __future__ import annotations

import numpy as np

from ._expr import dependency_order
from ._parameter import Parameter


def from_lmfit(cls, lmfit_params):
    """``cls`` (a Parameters class) from an ``lmfit.Parameters``."""
    out = cls()
    for name, lp in lmfit_params.items():
        p = Parameter(name, value=lp.value, vary=lp.vary, min=lp.min, max=lp.max)
        p.stderr = None if lp.stderr is None else float(lp.stderr)
        out[name] = p
    for name, lp in lmfit_params.items():
        if lp.expr is not None and str(lp.expr).strip():
            out[name].expr = lp.expr
    dependency_order({n: p.expr for n, p in out.items() if p.expr is not None}, set(out))
    return out


def to_lmfit(params):
    """An ``lmfit.Parameters`` from ours (scalar values only)."""
    for name, p in params.items():
        for attr in ("value", "min", "max", "stderr", "vary"):
            v = getattr(p, attr)
            if isinstance(v, np.ndarray):
                raise ValueError(  # noqa: TRY004 (as before: a value, not a type, is wrong)
                    f"to_lmfit: parameter {name!r} {attr} is an array of shape {v.shape} (a batch); "
                    "lmfit holds one value per parameter: convert one fit, e.g. result[i].params"
                )
    try:
        import lmfit
    except ImportError as err:
        raise ImportError("Parameters.to_lmfit needs lmfit: pip install lmfit") from err
    out = lmfit.Parameters()
    for name, p in params.items():
        out.add(name, value=p.value, vary=p.vary and p.expr is None, min=p.min, max=p.max)
    for name in dependency_order({n: p.expr for n, p in params.items() if p.expr is not None}, set(params)):
        out[name].set(expr=params[name].expr)
    for name, p in params.items():
        if p.stderr is not None:
            out[name].stderr = float(p.stderr)
    return out
