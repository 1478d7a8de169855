"""Ordered container of Parameters (lmfit's vocabulary)."""

from __future__ import annotations

import numpy as np

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
        from .._pack import evaluate_values

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
