"""Host-side values of parameters, ties evaluated as lmfit does on access.

Ties are evaluated with numpy in float64 (whatever JAX's x64 setting),
with IEEE semantics and no warnings, and clipped to the tied parameter's
bounds, as a fit computes them. Array values broadcast by their leading
axes (a shared parameter of G groups, shape (G,), against a per-dataset
one, (G, K)), so a tie over a group result means the same as in the fit.
"""

from __future__ import annotations

import numpy as np

from ._expr import ExprError, ExprNameError, evaluate, parse


def clip(value, lo, hi):
    """``value`` clipped to ``[lo, hi]`` (elementwise; NaN kept; shapes that
    do not broadcast are left alone: the fit reports them)."""
    if value is None:
        return None
    try:
        out = np.clip(value, lo, hi)
    except ValueError:
        return value
    if np.shape(out) != np.shape(value):
        return value
    return float(out) if np.ndim(out) == 0 else out


def _left_aligned(vals):
    """Pad each array with trailing axes to the largest ndim."""
    nd = max((np.ndim(v) for v in vals.values()), default=0)
    return {k: np.reshape(v, np.shape(v) + (1,) * (nd - np.ndim(v))) for k, v in vals.items()}


def _resolve(params, name, env, stack, strict):
    if name in env:
        return env[name]
    p = params[name]
    if p.expr is None:
        v = p._value
        env[name] = v if not isinstance(v, np.ndarray) else v.copy()
        return env[name]
    if name in stack:
        cyc = " -> ".join(stack[stack.index(name):] + (name,))
        raise ExprError(f"parameter {name!r}: cyclic expression dependency: {cyc}")
    tree, used = parse(p.expr, f"parameter {name!r} expr {p.expr!r}")
    unknown = sorted(u for u in used if u not in params)
    if unknown:
        raise ExprNameError(f"parameter {name!r}: expr {p.expr!r} uses unknown name(s) "
                            f"{', '.join(map(repr, unknown))}")
    deps = {u: _resolve(params, u, env, stack + (name,), strict) for u in sorted(used)}
    missing = sorted(u for u, v in deps.items() if v is None)
    if missing:
        if strict:
            raise ValueError(f"parameter {name!r}: expr {p.expr!r} uses parameter(s) "
                             f"{', '.join(map(repr, missing))} without a value; set a value first")
        env[name] = None
        return None
    with np.errstate(all="ignore"):
        val = evaluate(tree, _left_aligned({k: np.asarray(v, dtype=float) for k, v in deps.items()}),
                       xp=np)
        val = np.array(val, dtype=float)
        lo, hi = np.asarray(p.min, dtype=float), np.asarray(p.max, dtype=float)
        if val.ndim > lo.ndim and lo.ndim:  # per-fit bounds also broadcast by leading axes
            lo, hi = (np.reshape(b, b.shape + (1,) * (val.ndim - b.ndim)) for b in (lo, hi))
        val = clip(val, lo, hi)
    env[name] = float(val) if np.ndim(val) == 0 else val
    return env[name]


def tied_value(params, name):
    """The value of tied parameter ``name`` of ``params``: its expression
    evaluated from the others' values and clipped to its bounds; None where
    a parameter it uses has no value."""
    return _resolve(params, name, {}, (), strict=False)


def evaluate_values(params) -> dict:
    """Name -> value for every parameter, ties evaluated (``valuesdict``).

    Raises:
      ExprError: an unknown name (an :class:`ExprNameError`) or a cycle.
      ValueError: a tie using a parameter that has no value.
    """
    env = {}
    for n in params:
        _resolve(params, n, env, (), strict=True)
    return {n: env[n] for n in params}
