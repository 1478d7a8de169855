"""Parameters -> static ParamSpec + per-fit packed arrays, and back.

Validation happens here, on the host, before anything is traced.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from ..params._bounds import to_external, to_internal
from ..params._expr import dependency_order, evaluate, parse


@dataclasses.dataclass(frozen=True)
class ParamSpec:
    """Hashable structure of a parameter set (names only, no values)."""

    names: tuple[str, ...]
    free: tuple[str, ...]
    fixed: tuple[str, ...]
    tied: tuple[tuple[str, str], ...]  # (name, expr) in dependency order

    @property
    def nfree(self) -> int:
        return len(self.free)


class Packed(NamedTuple):
    """Per-fit arrays, each with a leading batch axis B."""

    theta0: np.ndarray  # (B, nfree) internal starts
    init: np.ndarray  # (B, nfree) external starts
    lo: np.ndarray  # (B, nfree)
    hi: np.ndarray  # (B, nfree)
    fixed: np.ndarray  # (B, nfixed)
    tied_lo: np.ndarray  # (B, ntied)
    tied_hi: np.ndarray  # (B, ntied)


def make_spec(params) -> ParamSpec:
    """Classify parameters and order the ties; errors name the parameter."""
    check_parameters(params)
    if len(params) == 0:
        raise ValueError("params is empty: add at least one parameter")
    spec = make_spec_loose(params)
    if not spec.free:
        raise ValueError("no parameter varies: set vary=True on at least one parameter")
    return spec


def check_parameters(params):
    """A mapping of names to Parameter-like objects (batchfit's or lmfit's)."""
    if not callable(getattr(params, "items", None)):
        raise TypeError(f"params must be a batchfit Parameters, got {type(params).__name__}")
    for n, p in params.items():
        if not all(hasattr(p, a) for a in ("value", "vary", "min", "max", "expr")):
            raise TypeError(f"params[{n!r}] must be a Parameter, got {type(p).__name__} "
                            "(build params with batchfit.Parameters or Model.make_params)")
        if isinstance(p.vary, np.ndarray):
            raise TypeError(f"parameter {n!r} vary is an array of shape {p.vary.shape}: a vary per "
                            "dataset is only for the per-dataset parameters of shared-parameter "
                            "groups (Model.fit(..., shared=[...])); here one vary holds for every fit")
        if not isinstance(p.vary, (bool, np.bool_)):  # an lmfit Parameter's, or one set by hand
            raise TypeError(f"parameter {n!r} vary must be True or False, got {p.vary!r:.80}")


def batch_size_of(params) -> int | None:
    """The batch size implied by array-valued attributes, or None."""
    sizes = {}
    for n, p in params.items():
        for attr in ("value", "min", "max"):
            v = getattr(p, attr)
            if isinstance(v, np.ndarray) and v.ndim > 1:
                raise ValueError(
                    f"parameter {n!r} {attr} has shape {v.shape}; 2-D values are for "
                    "shared-parameter groups (fit(..., shared=[...])) only"
                )
            if isinstance(v, np.ndarray) and v.shape[0] == 0:
                raise ValueError(f"parameter {n!r} {attr} is an empty array: no fits to do (N = 0)")
            if isinstance(v, np.ndarray):
                sizes.setdefault(v.shape[0], f"parameter {n!r} {attr}")
    if len(sizes) > 1:
        desc = ", ".join(f"{w} has length {s}" for s, w in sizes.items())
        raise ValueError(f"parameter arrays disagree on the batch size: {desc}")
    return next(iter(sizes), None)


def _column(params, names, attr, B):
    cols = []
    for n in names:
        v = getattr(params[n], attr)
        if v is None:
            raise ValueError(f"parameter {n!r} has no value")
        a = np.asarray(v, dtype=float)
        if a.ndim == 1 and a.shape[0] != B:
            raise ValueError(f"parameter {n!r} {attr} has length {a.shape[0]}, expected {B}")
        cols.append(np.broadcast_to(a, (B,)))
    return np.stack(cols, axis=1) if cols else np.zeros((B, 0))


def _check_bounds(names, val, lo, hi, check_value=True):
    for j, n in enumerate(names):
        v, a, b = val[:, j], lo[:, j], hi[:, j]
        if np.any(np.isnan(a)) or np.any(np.isnan(b)):
            raise ValueError(f"parameter {n!r}: bounds must not be NaN")
        bad = np.nonzero(a == np.inf)[0]
        if bad.size:
            raise ValueError(f"parameter {n!r}: min is +inf: a lower bound of +inf leaves no feasible "
                             "value" + _at(bad, val))
        bad = np.nonzero(b == -np.inf)[0]
        if bad.size:
            raise ValueError(f"parameter {n!r}: max is -inf: an upper bound of -inf leaves no feasible "
                             "value" + _at(bad, val))
        bad = np.nonzero(a > b)[0]
        if bad.size:
            raise ValueError(f"parameter {n!r}: min > max ({a[bad[0]]} > {b[bad[0]]})" + _at(bad, val))
        bad = np.nonzero(a == b)[0]
        if bad.size:
            raise ValueError(
                f"parameter {n!r}: min == max ({a[bad[0]]}); use vary=False to fix it" + _at(bad, val)
            )
        if not check_value:
            continue
        bad = np.nonzero(~np.isfinite(v))[0]
        if bad.size:
            raise ValueError(f"parameter {n!r}: start value {v[bad[0]]} is not finite" + _at(bad, val))


def _at(bad, val):
    return f" (fit {bad[0]} of the batch)" if val.shape[0] > 1 else ""


def pack(params, spec: ParamSpec, B: int) -> Packed:
    """Validate values and bounds and pack them into (B, .) arrays."""
    init = _column(params, spec.free, "value", B)
    lo, hi = _column(params, spec.free, "min", B), _column(params, spec.free, "max", B)
    _check_bounds(spec.free, init, lo, hi, check_value=True)
    fixed = _column(params, spec.fixed, "value", B)
    flo, fhi = _column(params, spec.fixed, "min", B), _column(params, spec.fixed, "max", B)
    _check_bounds(spec.fixed, fixed, flo, fhi, check_value=True)
    # a value outside bounds set after it is clipped to them at the fit, as
    # lmfit reads it (curve_fit and the command line refuse such a start first)
    init, fixed = np.clip(init, lo, hi), np.clip(fixed, flo, fhi)
    tnames = [n for n, _ in spec.tied]
    tlo, thi = _column(params, tnames, "min", B), _column(params, tnames, "max", B)
    _check_bounds(tnames, np.zeros_like(tlo), tlo, thi, check_value=False)
    return Packed(to_internal(init, lo, hi), init, lo, hi, fixed, tlo, thi)


def values_from_external(spec: ParamSpec, v_free, fixed, tied_lo, tied_hi) -> dict:
    """Every parameter's value (jnp, one fit) from external free values."""
    env = {n: v_free[i] for i, n in enumerate(spec.free)}
    env.update({n: fixed[i] for i, n in enumerate(spec.fixed)})
    for k, (n, ex) in enumerate(spec.tied):
        tree, _ = parse(ex)
        env[n] = jnp.clip(evaluate(tree, env), tied_lo[k], tied_hi[k])
    return {n: env[n] for n in spec.names}


def values_from_internal(spec: ParamSpec, theta, p) -> dict:
    """Every parameter's value (jnp, one fit) from internal free values."""
    v_free = to_external(theta, p["lo"], p["hi"])
    return values_from_external(spec, v_free, p["fixed"], p["tied_lo"], p["tied_hi"])


def evaluate_values(params) -> dict:
    """Host-side values of all parameters, ties evaluated (for valuesdict).

    Ties are evaluated with numpy in float64 (whatever JAX's x64 setting),
    with IEEE semantics and no warnings, as a fit would compute them.
    """
    spec = make_spec_loose(params)
    env = {}
    for n in spec.names:
        if params[n].expr is None:
            v = params[n].value
            env[n] = v if not isinstance(v, np.ndarray) else v.copy()
    for n, ex in spec.tied:
        tree, used = parse(ex)
        missing = sorted(u for u in used if env[u] is None)
        if missing:
            raise ValueError(
                f"parameter {n!r}: expr {ex!r} uses parameter(s) "
                f"{', '.join(map(repr, missing))} without a value; set a value first"
            )
        with np.errstate(all="ignore"):
            val = evaluate(tree, {k: np.asarray(env[k], dtype=float) for k in used}, xp=np)
        val = np.array(val, dtype=float)
        env[n] = float(val) if val.ndim == 0 else val
    return {n: env[n] for n in spec.names}


def make_spec_loose(params) -> ParamSpec:
    """Like make_spec but allows no varying parameter."""
    names = tuple(params)
    exprs = {n: p.expr for n, p in params.items() if p.expr is not None}
    order = dependency_order(exprs, set(names))
    free = tuple(n for n in names if params[n].vary and params[n].expr is None)
    fixed = tuple(n for n in names if not params[n].vary and params[n].expr is None)
    return ParamSpec(names, free, fixed, tuple((n, exprs[n]) for n in order))


def host_arrays(arrays: dict, dtype) -> dict:
    """Floating arrays cast to the working dtype (host numpy; other kinds kept)."""
    return {k: (np.asarray(v, dtype=dtype) if np.asarray(v).dtype.kind == "f" else np.asarray(v))
            for k, v in arrays.items()}


def packed_args(packed, dtype) -> dict:
    """The per-fit parameter arrays the residual functions read (host numpy)."""
    return host_arrays({
        "lo": packed.lo, "hi": packed.hi, "fixed": packed.fixed,
        "tied_lo": packed.tied_lo, "tied_hi": packed.tied_hi,
    }, dtype)


def device_args(packed, md, dtype):
    """``(per_fit, shared)`` of a prepared problem (``problem._data``), as the
    solver takes them: the packed parameters, data and independent
    variables of each fit, and the data common to all fits."""
    import jax

    per_fit = packed_args(packed, dtype)
    per_fit["data"] = host_arrays(md.per_fit, dtype)
    per_fit["indep"] = host_arrays(md.indep_fit, dtype)
    shared = jax.tree_util.tree_map(jnp.asarray, {
        "data": host_arrays(md.shared, dtype), "indep": host_arrays(md.indep_shared, dtype)})
    return per_fit, shared
