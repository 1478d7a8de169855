"""One named fit parameter, lmfit style; its value may be a batch array."""

from __future__ import annotations

import keyword

import numpy as np

from ._expr import CONSTANTS, FUNCTIONS, parse
from ._numeric import NumberLike
from ._values import clip, tied_value


def _check_name(name):
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise ValueError(f"parameter name must be a Python identifier not starting with '_', got {name!r}")
    if keyword.iskeyword(name):
        raise ValueError(f"parameter name {name!r} is a Python keyword; choose another name")
    if name in CONSTANTS:
        raise ValueError(
            f"parameter name {name!r} is reserved: it is the constant {name} in tie expressions; "
            "choose another name"
        )
    if name in FUNCTIONS:
        raise ValueError(
            f"parameter name {name!r} is reserved: it is a function in tie expressions; "
            "choose another name"
        )


def _as_value(v, what):
    # np.array copies: the parameter owns its array (writable, not a view)
    try:
        a = np.array(v, dtype=float) if v is not None else None
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a number or an array of numbers, got {v!r:.80}") from None
    if a is not None and a.ndim > 2:
        raise ValueError(
            f"{what} must be a scalar, a 1-D array (one per fit) or, for shared-parameter groups, "
            f"a (G, K) array, got shape {a.shape}"
        )
    if a is not None and a.ndim == 0:
        return float(a)
    return a


def _as_vary(v, name):
    """``vary`` must be a bool (numpy's too): ``vary="no"`` would be True.

    A boolean array of shape (K,) or (G, K) is kept (a copy) for the
    per-dataset parameters of shared-parameter groups, where it freezes
    some datasets' copies; every other fit refuses it by name.
    """
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, np.ndarray) and v.ndim > 0 or isinstance(v, (list, tuple)):
        try:
            a = np.array(v)
        except ValueError:
            a = np.array(v, dtype=object)
        if a.dtype == bool and a.ndim in (1, 2) and a.size > 0:
            return a
        raise TypeError(f"parameter {name!r} vary must be True or False, got an array of shape "
                        f"{np.shape(a)} and dtype {a.dtype}: only a boolean array of shape (K,) or "
                        "(G, K) is accepted, to freeze some datasets of a per-dataset parameter in "
                        "shared-parameter groups")
    raise TypeError(f"parameter {name!r} vary must be True or False, got {v!r:.80}")


def _bad_bounds(name, lo, hi):
    """The message for bounds leaving no feasible value, or None (elementwise
    for per-fit arrays: names the first bad index)."""
    lo_a, hi_a = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    try:
        lo_b, hi_b = np.broadcast_arrays(lo_a, hi_a)
    except ValueError:
        return None  # shapes that disagree: reported at fit time with the batch size
    checks = (
        (lo_b == np.inf, lambda i: "min is +inf: a lower bound of +inf leaves no feasible value"),
        (hi_b == -np.inf, lambda i: "max is -inf: an upper bound of -inf leaves no feasible value"),
        (lo_b > hi_b, lambda i: f"min > max ({lo_b[i]} > {hi_b[i]})"),
        (lo_b == hi_b, lambda i: f"min == max ({lo_b[i]}); use vary=False to fix it"),
    )
    bad = np.logical_or.reduce([b for b, _ in checks])
    if not bad.any():
        return None
    idx = tuple(int(k) for k in np.argwhere(bad)[0])  # the first bad element, and what is wrong with it
    text = next(t for b, t in checks if b[idx])
    where = "" if not idx else (f" (fit {idx[0]} of the batch)" if len(idx) == 1 else f" (index {idx})")
    return f"parameter {name!r}: {text(idx)}{where}"


def _fmt(v):
    if v is None:
        return "None"
    a = np.asarray(v)
    if a.ndim == 0:
        return f"{float(a):.7g}"
    return f"array(shape={a.shape}, mean={np.nanmean(a):.5g})" if a.size else "array([])"


def _lm(v):
    """A number as lmfit's repr writes it (``repr``; numpy scalars as floats)."""
    if v is None or np.ndim(v):
        return _fmt(v)
    return repr(v) if type(v) in (int, float) else repr(float(v))


class Parameter(NumberLike):
    """A fit parameter: name, value, bounds, whether it varies, or a tie.

    Args:
      name: a valid Python identifier, not a keyword and not a name that tie
        expressions reserve (``pi``, ``e`` and the functions such as ``exp``).
      value: starting value; a scalar, or an array of shape (N,) giving one
        start per fit of a batch of N. As in lmfit it is clipped to
        ``[min, max]`` when set.
      min, max: bounds (scalars or (N,) arrays); ``-inf``/``inf`` for none.
      vary: whether the fit varies it; ``vary=True`` removes a tie.
      expr: a tie such as ``"2*sigma_1 + 0.5"``; the parameter then follows
        the expression and is not varied. In a :class:`Parameters` its
        ``value`` is the expression evaluated from the others' values (and
        clipped to its bounds) whenever it is read, as in lmfit.
      brute_step, user_data: kept for lmfit compatibility (unused by fits).

    After a fit, ``stderr``, ``init_value`` and ``correl`` are filled in.
    A Parameter works as its value (lmfit's operator overloads):
    ``float(p)``, ``2 * p``, ``p > 1``, ``np.asarray(p)``; elementwise for a
    batch.

    Example:
      >>> p = Parameter("amp", 3.0, min=0)
      >>> p.value, p.min, p.vary
      (3.0, 0.0, True)
      >>> Parameter("frac", 1.5, max=1.0).value, float(2 * p)
      (1.0, 6.0)
    """

    def __init__(self, name, value=None, vary=True, min=-np.inf, max=np.inf, expr=None,
                 brute_step=None, user_data=None):
        _check_name(name)
        self.name = name
        self._params = None  # the Parameters holding it: where a tie is evaluated
        self._value = None
        self.vary = vary
        self._set_bounds(min, max)
        self.value = value
        self._expr = None
        self.expr = expr
        self.brute_step = brute_step
        self.user_data = user_data
        self.stderr = None
        self.init_value = None
        self.correl = None

    @property
    def value(self):
        if self._expr is not None and self._params is not None and self._params.get(self.name) is self:
            return tied_value(self._params, self.name)
        return self._value

    @value.setter
    def value(self, v):
        self._value = clip(_as_value(v, f"parameter {self.name!r} value"), self._min, self._max)

    @property
    def vary(self):
        return self._vary

    @vary.setter
    def vary(self, v):
        self._vary = _as_vary(v, self.name)
        if not isinstance(self._vary, np.ndarray) and self._vary and getattr(self, "_expr", None) is not None:
            try:  # lmfit: vary=True removes a tie, keeping its last value as the start
                last = self.value
            except Exception:  # noqa: BLE001 (a tie that cannot be evaluated leaves the old value)
                last = None
            self._expr = None
            if last is not None:
                self._value = last

    @property
    def min(self):
        return self._min

    @min.setter
    def min(self, v):
        self._set_bounds(v, self._max)

    @property
    def max(self):
        return self._max

    @max.setter
    def max(self, v):
        self._set_bounds(self._min, v)

    def _set_bounds(self, lo, hi):
        """Set both bounds, or neither: ``min < max`` is checked where the
        parameter is made or changed, elementwise for per-fit arrays. The
        value is not clipped to new bounds (lmfit's rule): a start outside
        them is reported by the fit."""
        lo = _as_value(-np.inf if lo is None else lo, f"parameter {self.name!r} min")
        hi = _as_value(np.inf if hi is None else hi, f"parameter {self.name!r} max")
        msg = _bad_bounds(self.name, lo, hi)
        if msg is not None:
            raise ValueError(msg)
        self._min, self._max = lo, hi

    @property
    def expr(self):
        return self._expr

    @expr.setter
    def expr(self, ex):
        if ex is not None:
            if isinstance(ex, str) and not ex.strip():
                ex = None
            else:
                parse(ex, f"parameter {self.name!r} expr")
        if ex is None and getattr(self, "_expr", None) is not None:
            last = self._safe_value()  # a removed tie leaves its last value (lmfit)
            self._expr = None
            if last is not None:
                self._value = last
        self._expr = ex
        if ex is not None:
            self._vary = False

    def set(self, value=None, vary=None, min=None, max=None, expr=None, brute_step=None,
            is_init_value=True):
        """Update some attributes (lmfit's ``Parameter.set``): bounds first,
        then the value (clipped to them); setting a value or ``vary=True``
        removes a tie, and ``expr=""`` does too. ``is_init_value`` is
        accepted for lmfit compatibility."""
        if vary is not None:
            self.vary = vary
        if min is not None or max is not None:  # both at once: no transient min > max
            self._set_bounds(self._min if min is None else min, self._max if max is None else max)
        if value is not None:
            self.value = value
            self._expr = None
        if expr is not None:
            self.expr = expr
        if brute_step is not None:
            self.brute_step = None if brute_step == 0 else brute_step
        return self

    def _raw_copy(self):
        """A copy with the stored attributes, outside any Parameters."""
        p = type(self).__new__(type(self))
        p.__dict__.update({k: (v.copy() if isinstance(v, (np.ndarray, dict)) else v)
                           for k, v in self.__dict__.items() if k != "_params"})
        p._params = None
        return p

    def copy(self) -> Parameter:
        """An independent copy (of the same class). A copy of a tied
        parameter holds the tie's current value until it is put in a
        :class:`Parameters`."""
        p = self._raw_copy()
        if self._expr is not None:
            v = self._safe_value()
            p._value = v.copy() if isinstance(v, np.ndarray) else v
        return p

    __copy__ = copy

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_params"] = None  # the Parameters holding it links it again when it is added
        if self._expr is not None:
            state["_value"] = self._safe_value()
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __deepcopy__(self, memo):
        return self.copy()

    def _safe_value(self):
        try:
            return self.value
        except (ValueError, TypeError):
            return self._value

    def __repr__(self):
        """lmfit's repr (``value=10.0 +/- 0.1``, ``(fixed)``, ``brute_step=``);
        a batch's arrays are summarised by shape and mean."""
        sval = f"value={_lm(self._safe_value())}"
        parts = []
        if isinstance(self.vary, np.ndarray):
            parts.append(f"vary per dataset ({int(self.vary.sum())} of {self.vary.size} free)")
        elif not self.vary and self.expr is None:
            sval += " (fixed)"
        elif self.stderr is not None:
            sval += f" +/- {self.stderr:.3g}" if np.ndim(self.stderr) == 0 else f" +/- {_fmt(self.stderr)}"
        parts.insert(0, sval)
        parts.append(f"bounds=[{_lm(self.min)}:{_lm(self.max)}]")
        if self.expr is not None:
            parts.append(f"expr='{self.expr}'")
        if self.brute_step is not None:
            parts.append(f"brute_step={self.brute_step}")
        return f"<Parameter '{self.name}', {', '.join(parts)}>"
