"""Ordered container of Parameters (lmfit's vocabulary)."""

from __future__ import annotations

import numpy as np

from . import _convert, _json
from ._expr import dependency_order, evaluate, parse
from ._parameter import Parameter
from ._pretty import COLUMNS, pretty_lines
from ._values import evaluate_values


class NotAParameterError(TypeError, ValueError):
    """Something other than a Parameter put into Parameters (lmfit raises ValueError)."""


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

    def add(self, name, value=None, vary=None, min=-np.inf, max=np.inf, expr=None,
            brute_step=None, user_data=None):
        """Add a parameter, as lmfit does: ``name`` a string (a new
        Parameter) or a :class:`Parameter` (added itself; the other
        arguments fill in what it lacks), or ``value`` a Parameter (a copy
        named ``name``)."""
        if isinstance(name, Parameter) or isinstance(value, Parameter):
            par = name if isinstance(name, Parameter) else value.copy()
            if not isinstance(name, Parameter):
                par.name = name
            elif value is not None and par._value is None:
                par.value = value
            if par.expr is None and expr is not None:
                par.expr = expr
            if np.all(np.isneginf(par.min)) and (min is not None and np.any(np.asarray(min) != -np.inf)):
                par.min = min
            if np.all(np.isposinf(par.max)) and (max is not None and np.any(np.asarray(max) != np.inf)):
                par.max = max
            if par.brute_step is None:
                par.brute_step = brute_step
            if par.user_data is None:
                par.user_data = user_data
            if vary is not None:
                par.vary = vary
            self[par.name] = par
        else:
            par = Parameter(name, value=value, vary=True if vary is None else vary, min=min,
                            max=max, expr=expr, brute_step=brute_step, user_data=user_data)
            self[name] = par

    def add_many(self, *specs):
        """Add several parameters: each a Parameter or lmfit's tuple
        ``(name, value, vary, min, max, expr, brute_step)`` (trailing items
        optional; None bounds mean none)."""
        for s in specs:
            if isinstance(s, Parameter):
                self.add(s)
            else:
                if not isinstance(s, (tuple, list)) or not 1 <= len(s) <= 7:
                    raise TypeError(f"add_many: each item must be a Parameter or a tuple (name, value, "
                                    f"vary, min, max, expr, brute_step), got {s!r:.80}")
                self[s[0]] = Parameter(*s)

    def set(self, **kws):
        """Set values or attributes by name (lmfit's ``Parameters.set``):
        ``params.set(a=0.8, b={"value": 3, "min": 0})``; a new name is added."""
        for name, val in kws.items():
            if name not in self:
                self.add(name)
            self[name].set(**(dict(val) if isinstance(val, dict) else {"value": val}))

    def __setitem__(self, key, par):
        self._check_item(key, par)
        super().__setitem__(key, par)
        par._params = self

    def __add__(self, other):
        """A new Parameters with copies of both sides' parameters (lmfit's ``+``)."""
        if not isinstance(other, Parameters):
            raise ValueError(f"'{other!s:.60}' is not a Parameters object")  # noqa: TRY004 (lmfit's type)
        out = self.copy()
        for n, p in other.items():
            out[n] = p._raw_copy()
        return out

    def __iadd__(self, other):
        if not isinstance(other, Parameters):
            raise ValueError(f"'{other!s:.60}' is not a Parameters object")  # noqa: TRY004 (lmfit's type)
        self.update({k: p._raw_copy() for k, p in other.items()})
        return self

    def __eq__(self, other):
        """Equal names, values (ties evaluated), bounds, vary, expr and stderr."""
        if not isinstance(other, dict):
            return NotImplemented
        if set(self) != set(other):
            return False
        return all(_same_parameter(p, other[n]) for n, p in self.items())

    def __ne__(self, other):
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = None

    def __array__(self, dtype=None, copy=None):
        """The values as an array (lmfit's ``np.array(params)``)."""
        return np.array([np.asarray(p.value, dtype=float) for p in self.values()], dtype=dtype or float)

    def eval(self, expr):
        """Evaluate an expression of the parameters' values (lmfit's
        ``Parameters.eval``), with the tie whitelist."""
        tree, used = parse(expr, "Parameters.eval")
        unknown = sorted(u for u in used if u not in self)
        if unknown:
            from ._expr import ExprNameError

            raise ExprNameError(f"Parameters.eval: {expr!r} uses unknown name(s) "
                                f"{', '.join(map(repr, unknown))}")
        vals = self.valuesdict()
        with np.errstate(all="ignore"):
            out = evaluate(tree, {u: np.asarray(vals[u], dtype=float) for u in used}, xp=np)
        out = np.asarray(out, dtype=float)
        return float(out) if out.ndim == 0 else out

    def update_constraints(self):
        """Check the ties (lmfit's; values of ties are evaluated on access)."""
        dependency_order({n: p.expr for n, p in self.items() if p.expr is not None}, set(self))

    def dumps(self, **kws) -> str:
        """JSON in lmfit's layout (``lmfit.Parameters().loads`` reads it)."""
        return _json.dumps(self, **kws)

    def loads(self, s, **kws) -> Parameters:
        """Replace the contents with JSON from :meth:`dumps` (or lmfit's)."""
        return _json.loads(self, s, **kws)

    def dump(self, fp, **kws) -> int:
        return fp.write(self.dumps(**kws))

    def load(self, fp, **kws) -> Parameters:
        return self.loads(fp.read(), **kws)

    @staticmethod
    def _check_item(key, par):
        if not (isinstance(key, str) and key.isidentifier()):
            raise KeyError(f"'{key!s:.60}' is not a valid Parameters name")
        if not isinstance(par, Parameter):
            raise NotAParameterError(f"'{par!s:.60}' is not a Parameter: Parameters[{key!r}] must be a "
                                     f"Parameter, got {type(par).__name__}")
        if key != par.name:
            raise ValueError(f"key {key!r} does not match the parameter's name {par.name!r}")

    def update(self, *args, **kwargs):
        """dict.update, with every item checked as in ``params[name] = par``.

        Nothing is added unless every item is valid.
        """
        if len(args) > 1:
            raise TypeError(f"update expected at most 1 positional argument, got {len(args)}")
        if args and (isinstance(args[0], str) or not hasattr(args[0], "__iter__")):
            raise ValueError(f"'{args[0]!s:.60}' is not a Parameters object")  # noqa: TRY004 (lmfit's type)
        items = list(dict(*args, **kwargs).items())
        for key, par in items:
            self._check_item(key, par)
        for key, par in items:
            super().__setitem__(key, par)
            par._params = self
        return self  # lmfit's update returns the Parameters

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
        out = self.copy()
        out.update({k: p._raw_copy() for k, p in other.items()})
        return out

    def copy(self) -> Parameters:
        """An independent copy (of the same class); ties are evaluated in it."""
        out = type(self).__new__(type(self))
        dict.__init__(out)
        out.__dict__.update(self.__dict__)
        for k, p in self.items():
            q = p._raw_copy()
            dict.__setitem__(out, k, q)
            q._params = out
        return out

    __copy__ = copy

    def __deepcopy__(self, memo):
        return self.copy()

    def valuesdict(self) -> dict:
        """Name -> value, with tied values evaluated (needs numeric values)."""
        return evaluate_values(self)

    def pretty_repr(self, oneline=False) -> str:
        """lmfit's: one line ``Parameters([('a', <Parameter ...>), ...])``
        with ``oneline=True``, else one parameter a line."""
        if oneline:
            return "Parameters([" + ", ".join(f"('{k}', {p!r})" for k, p in self.items()) + "])"
        lines = ["Parameters({"]
        lines += [f"    '{k}': {p!r}, " for k, p in self.items()]
        lines.append("    })")
        return "\n".join(lines) + "\n"

    def __repr__(self):
        return self.pretty_repr().rstrip("\n")

    def pretty_print(self, oneline=False, colwidth=8, precision=4, fmt="g", columns=COLUMNS):
        """Print lmfit's table: one line per parameter, sorted by name."""
        if oneline:
            print(self.pretty_repr(oneline=True))
            return
        print("\n".join(pretty_lines(self, colwidth, precision, fmt, columns)))

    @classmethod
    def from_lmfit(cls, lmfit_params) -> Parameters:
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
        return _convert.from_lmfit(cls, lmfit_params)

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
        return _convert.to_lmfit(self)


def _same(a, b):
    if a is None or b is None:
        return a is None and b is None
    return np.shape(a) == np.shape(b) and bool(np.array_equal(a, b, equal_nan=True))


def _same_parameter(p, q):
    if not all(hasattr(q, a) for a in ("value", "min", "max", "vary", "expr")):
        return False
    return (p.name == q.name and _same(p.vary, q.vary) and (p.expr or None) == (q.expr or None)
            and all(_same(getattr(p, a), getattr(q, a, None)) for a in ("value", "min", "max", "stderr")))


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
            unknown = set(spec) - {"value", "vary", "min", "max", "expr", "brute_step", "user_data"}
            if unknown:
                raise ValueError(f"create_params: parameter {name!r} has unknown field(s) {sorted(unknown)}")
            params.add(name, **spec)
        else:
            params.add(name, value=spec)
    return params
