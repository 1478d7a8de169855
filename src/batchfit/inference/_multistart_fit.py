"""The front doors' ``n_starts=``: expand every fit into k starts, fit the
N*k problems in one call, keep each fit's best start (see ``_multistart``)."""

from __future__ import annotations

import numpy as np

from ..problem._pack import batch_size_of, make_spec
from ..results._result import FitResult
from ._multistart import best_rows, check_n_starts, expand_params, select_extras


def select_result(res, B, k, template, batched) -> FitResult:
    """Each fit's best start out of a result of N*k fits."""
    idx, s, nbest, c = best_rows(res._a["chisqr"], res._a["status"], B, k)
    arrays = {key: v[idx] for key, v in res._a.items()}
    extras = select_extras(res.extras, idx, B * k)
    extras.update(nstarts_best=nbest, start_index=s, chisqr_starts=c, n_starts=k)
    return FitResult(spec=res._spec, template=template, method=res.method, batched=batched,
                     extras=extras, **arrays)


def _sizes(params, B):
    Bp = batch_size_of(params)
    if Bp is not None and Bp != B:
        raise ValueError(f"parameter arrays have length {Bp} but there are {B} fits")


def minimize_multistart(minimize, fcn, params, n_starts, seed, kwargs):
    """``minimize(fcn, params, **kwargs)`` with ``n_starts`` starts per fit."""
    k = check_n_starts(n_starts, seed)
    spec = make_spec(params)
    Bp = batch_size_of(params)
    B = Bp or 1
    big = expand_params(params, spec.free, B, k, seed)
    res = minimize(fcn, big, **kwargs)
    return select_result(res, B, k, params.copy(), Bp is not None)


def _ragged(a):
    return isinstance(a, (list, tuple)) and len(a) > 0 and all(np.ndim(v) == 1 for v in a) \
        and len({len(v) for v in a}) > 1


def _repeat(a, B, k, batched):
    """A per-fit array (leading axis B) repeated k times per fit; others as given."""
    if a is None:
        return None
    if _ragged(a):
        return [v for v in a for _ in range(k)]
    arr = np.asarray(a)
    if batched and arr.ndim == 2 and arr.shape[0] == B:
        return np.repeat(arr, k, axis=0)
    return a


def model_multistart(model, data, params, weights, n_starts, seed, indep, fit_kwargs):
    """``model.fit`` with ``n_starts`` starts per dataset (independent datasets)."""
    k = check_n_starts(n_starts, seed)
    spec = make_spec(params)
    if _ragged(data):
        B, batched = len(data), True
        big_data = [v for v in data for _ in range(k)]
    else:
        arr = np.asarray(data)
        if arr.ndim not in (1, 2):
            raise ValueError(f"data must have shape (m,) or (N, m), got {arr.shape}")
        batched = arr.ndim == 2
        B = arr.shape[0] if batched else 1
        big_data = np.repeat(arr, k, axis=0) if batched else np.broadcast_to(arr, (k,) + arr.shape).copy()
    _sizes(params, B)
    big = expand_params(params, spec.free, B, k, seed)
    big_w = _repeat(weights, B, k, batched)
    big_ind = {v: _repeat(a, B, k, batched) for v, a in indep.items()}
    res = model.fit(big_data, big, weights=big_w, **fit_kwargs, **big_ind)
    return select_result(res, B, k, params.copy(), batched)


def _group_params(params, free, shared, G, K, k, seed):
    """Group parameters with k starts per group: shared attributes (G,) ->
    (G k,), per-dataset ones (G, K) -> (G k, K), free values drawn."""
    from ._multistart import draw

    rng = np.random.default_rng(0 if seed is None else seed)
    out = params.copy()
    for name, p in out.items():
        if p.expr is not None:
            continue
        shape = (G,) if name in shared else (G, K)
        vals = {}
        for attr in ("value", "min", "max"):
            v = getattr(p, attr)
            if v is None:
                continue
            a = np.asarray(v, dtype=float)
            try:
                vals[attr] = np.broadcast_to(a, shape)
            except ValueError:
                raise ValueError(f"parameter {name!r}: {attr} has shape {a.shape}, expected a scalar "
                                 f"or {shape}") from None
        if name in free:
            n = int(np.prod(shape))
            lo = vals.get("min", np.full(shape, -np.inf)).reshape(n)
            hi = vals.get("max", np.full(shape, np.inf)).reshape(n)
            starts = draw(vals["value"].reshape(n), lo, hi, k, rng).reshape(shape + (k,))
        for attr in list(vals):
            rep = np.repeat(vals[attr][:, None], k, axis=1)  # (G, k) or (G, k, K)
            if attr == "value" and name in free:
                rep = np.moveaxis(starts, -1, 1)
            vals[attr] = rep.reshape((G * k,) + shape[1:])
        for attr in ("min", "max", "value"):
            if attr in vals:
                setattr(p, attr, vals[attr])
    return out


def group_multistart(model, data, params, weights, n_starts, seed, indep, fit_kwargs):
    """``model.fit(..., shared=...)`` with ``n_starts`` starts per group."""
    from ..groups._result import GroupFitResult

    k = check_n_starts(n_starts, seed)
    arr = np.asarray(data, dtype=float) if not isinstance(data, list) or not _ragged(data) else None
    if arr is None or arr.ndim not in (2, 3):
        raise ValueError("n_starts with shared=: data must be an array of shape (K, m) or (G, K, m)")
    grouped = arr.ndim == 3
    G, K = (arr.shape[0], arr.shape[1]) if grouped else (1, arr.shape[0])
    shared = tuple(fit_kwargs["shared"])
    free = [n for n, p in params.items() if np.any(p.vary) and p.expr is None]
    big = _group_params(params, free, shared, G, K, k, seed)

    def rep(a):
        if a is None or np.ndim(a) < 2:
            return a
        a = np.asarray(a)
        if grouped and a.ndim == 3 and a.shape[0] == G:
            return np.repeat(a, k, axis=0)
        return a

    big_data = np.repeat(arr, k, axis=0) if grouped else np.broadcast_to(arr, (k,) + arr.shape).copy()
    res = model.fit(big_data, big, weights=rep(weights), **fit_kwargs, **{v: rep(a) for v, a in indep.items()})
    idx, s, nbest, c = best_rows(res._stats["chisqr"], res._stats["status"], G, k)
    extras = select_extras(res.extras, idx, G * k)
    extras.update(nstarts_best=nbest, start_index=s, chisqr_starts=c, n_starts=k)
    flat = None
    if res.flat is not None:
        flat = FitResult(spec=res.flat._spec, template=res.flat._template, method=res.flat.method,
                         batched=grouped, extras=select_extras(res.flat.extras, idx, G * k),
                         **{key: v[idx] for key, v in res.flat._a.items()})

    def cut(d):
        return None if d is None else {key: v[idx] for key, v in d.items()}

    return GroupFitResult(
        layout=res._lay._replace(G=G, grouped=grouped), template=params.copy(), method=res.method,
        stats=cut(res._stats), values=cut(res._values), stderr=cut(res._stderr), init=cut(res._init),
        nvarys=res.nvarys, flat=flat,
        covar_shared=None if res._covar_shared is None else res._covar_shared[idx],
        covar=None if res._covar is None else res._covar[idx], var_names=res.var_names,
        solver=res.solver, extras=extras)
