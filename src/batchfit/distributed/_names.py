"""The fit parameters' names, read as xarray's curvefit reads them."""

from __future__ import annotations

import inspect

from ..fitting._model import Model


def param_names_of(func, param_names):
    """The fit parameters' names: ``param_names``, a Model's, or func's signature after x."""
    if isinstance(func, Model):
        names = list(param_names) if param_names else list(func.param_names)
        unknown = [p for p in names if p not in func.param_names]
        if unknown:
            raise ValueError(f"batchfit: param_names {unknown} are not parameters of "
                             f"{func!r}")
        return names, {}
    if not callable(func):
        raise TypeError(f"batchfit: func must be callable or a batchfit Model, got "
                        f"{type(func).__name__}")
    try:
        args = inspect.signature(func).parameters
    except (TypeError, ValueError):
        if not param_names:
            raise ValueError("batchfit: func's signature cannot be read; pass param_names") from None
        args = {}
    if param_names:
        return list(param_names), args
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in args.values()):
        raise ValueError("batchfit: func takes variable arguments: pass param_names")
    names = list(args)[1:]
    if not names:
        raise ValueError("batchfit: func takes no parameters after its independent variable")
    return names, args
