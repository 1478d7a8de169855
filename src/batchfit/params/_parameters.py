"""Ordered container of Parameters (lmfit's vocabulary)."""

from __future__ import annotations

import numpy as np

from ._expr import dependency_order
from ._parameter import Parameter


class Parameters(dict):
    """An ordered mapping of name -> :class:`Parameter`.

    Example:
      >>> params = Parameters()
      >>> params.add("amp", value=10, min=0)
      >>> params.add("cen", value=1.0)
      >>> params.add("cen2", expr="cen + 0.5")
      >>> list(params)
      ['amp', 'cen', 'cen2']
      >>> params.valuesdict()["cen2"]
      1.5
    """

    def __init__(self, *args, **kwargs):
        super().__init__()
        self.update(*args, **kwargs)

    def add(self, name, value=None, vary=True, min=-np.inf, max=np.inf, expr=None):
        """Add a parameter (or a :class:`Parameter` instance)."""
        if isinstance(name, Parameter):
            self[name.name] = name
        else:
            self[name] = Parameter(name, value=value, vary=vary, min=min, max=max, expr=expr)

    def add_many(self, *specs):
        """Add several parameters: each a Parameter or a tuple
        ``(name, value, vary, min, max, expr)`` (trailing items optional)."""
        for s in specs:
            if isinstance(s, Parameter):
                self.add(s)
            else:
                self.add(*s)

    def __setitem__(self, key, par):
        self._check_item(key, par)
        super().__setitem__(key, par)

    @staticmethod
    def _check_item(key, par):
        if not isinstance(par, Parameter):
            raise TypeError(f"Parameters[{key!r}] must be a Parameter, got {type(par).__name__}")
        if key != par.name:
            raise ValueError(f"key {key!r} does not match the parameter's name {par.name!r}")

    def update(self, *args, **kwargs):
        """dict.update, with every item checked as in ``params[name] = par``.

        Nothing is added unless every item is valid.
        """
        if len(args) > 1:
            raise TypeError(f"update expected at most 1 positional argument, got {len(args)}")
        items = list(dict(*args, **kwargs).items())
        for key, par in items:
            self._check_item(key, par)
        for key, par in items:
            super().__setitem__(key, par)

    def setdefault(self, key, default=None):
        """dict.setdefault; a missing ``key`` needs a Parameter named ``key``."""
        if key not in self:
            self[key] = default
        return self[key]

    def __ior__(self, other):
        self.update(other)
        return self

    def __or__(self, other):
        if not isinstance(other, dict):
            return NotImplemented
        out = Parameters(self)
        out.update(other)
        return out

    def copy(self) -> "Parameters":
        out = Parameters()
        for k, p in self.items():
            dict.__setitem__(out, k, p.copy())
        return out

    __copy__ = copy

    def __deepcopy__(self, memo):
        return self.copy()

    def valuesdict(self) -> dict:
        """Name -> value, with tied values evaluated (needs numeric values)."""
        from ..problem._pack import evaluate_values

        return evaluate_values(self)

    def pretty_repr(self) -> str:
        lines = ["Parameters({"]
        lines += [f"    '{k}': {p!r}," for k, p in self.items()]
        lines.append("})")
        return "\n".join(lines)

    def __repr__(self):
        return self.pretty_repr()

    def pretty_print(self):
        print(self.pretty_repr())

    @classmethod
    def from_lmfit(cls, lmfit_params) -> "Parameters":
        """Parameters from an ``lmfit.Parameters``: value, min, max, vary,
        expr and stderr (where set) of each, in order.

        Example:
          >>> import lmfit
          >>> lp = lmfit.Parameters()
          >>> lp.add("amp", 2.0, min=0); lp.add("half", expr="amp / 2")
          >>> p = Parameters.from_lmfit(lp)
          >>> p["amp"].min, p["half"].expr, p.valuesdict()["half"]
          (0.0, 'amp / 2', 1.0)
        """
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

    def to_lmfit(self):
        """An ``lmfit.Parameters`` with the same value, min, max, vary, expr
        and stderr (where set). Scalar values only: for a batch, convert one
        fit (``result[i].params``).

        Example:
          >>> p = create_params(amp={"value": 2.0, "min": 0}, half={"expr": "amp / 2"})
          >>> lp = p.to_lmfit()
          >>> lp["amp"].min, lp["half"].expr, lp["half"].value
          (0.0, 'amp / 2', 1.0)
        """
        for name, p in self.items():
            for attr in ("value", "min", "max", "stderr", "vary"):
                v = getattr(p, attr)
                if isinstance(v, np.ndarray):
                    raise ValueError(
                        f"to_lmfit: parameter {name!r} {attr} is an array of shape {v.shape} (a batch); "
                        "lmfit holds one value per parameter: convert one fit, e.g. result[i].params"
                    )
        try:
            import lmfit
        except ImportError as err:
            raise ImportError("Parameters.to_lmfit needs lmfit: pip install lmfit") from err
        out = lmfit.Parameters()
        for name, p in self.items():
            out.add(name, value=p.value, vary=p.vary and p.expr is None, min=p.min, max=p.max)
        for name in dependency_order({n: p.expr for n, p in self.items() if p.expr is not None}, set(self)):
            out[name].set(expr=self[name].expr)
        for name, p in self.items():
            if p.stderr is not None:
                out[name].stderr = float(p.stderr)
        return out


def create_params(**kwargs) -> Parameters:
    """Build Parameters from keywords: a number or a dict of Parameter fields.

    Example:
      >>> p = create_params(a=1, b={"value": 2, "min": 0}, c={"expr": "2*b"})
      >>> p["b"].min, p["c"].expr
      (0.0, '2*b')
    """
    params = Parameters()
    for name, spec in kwargs.items():
        if isinstance(spec, dict):
            unknown = set(spec) - {"value", "vary", "min", "max", "expr"}
            if unknown:
                raise ValueError(f"create_params: parameter {name!r} has unknown field(s) {sorted(unknown)}")
            params.add(name, **spec)
        else:
            params.add(name, value=spec)
    return params
