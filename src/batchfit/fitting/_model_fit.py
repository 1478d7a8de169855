"""Model.fit of independent datasets: data and parameters -> packed arrays -> engine -> FitResult."""

from __future__ import annotations

import numpy as np

from ..engine import _chunked
from ..problem._compat import resolve_dtype, warn_unresolved_data, x64_context
from ..problem._data import prepare, shape_hint
from ..problem._estimator import CHI2, check_counts
from ..problem._pack import batch_size_of, device_args, make_spec, pack
from ..problem._residual import ResidualShapeError, model_residual
from ..results._lazy import LazyRows
from ..stats import _estimated


def fit_data(model, data, params, indep, weights, cfg, dtype, method, nan_policy, scale_covar,
             chunk_size, checkpoint, progress, est=CHI2):
    """Fit ``data`` (one dataset or N) with ``model``; the arguments are
    :meth:`Model.fit`'s, checked and resolved (``cfg`` an :class:`LMConfig`,
    ``est`` the statistic and loss, see ``problem/_estimator``)."""
    spec = make_spec(params)
    dt = resolve_dtype(dtype, np.asarray(data) if not isinstance(data, list) else np.asarray(data[0]))
    md = prepare(data, indep, weights, nan_policy, dt)
    warn_unresolved_data(md, dt, f"Model {model._name!r}")
    if est.statistic == "cstat":
        check_counts(md.per_fit["y"], f"Model {model._name!r}.fit")
    Bp = batch_size_of(params)
    if Bp is not None and Bp != md.B:
        raise ValueError(f"parameter arrays have length {Bp} but data holds {md.B} datasets")
    if Bp is not None and not md.batched:
        raise ValueError("parameter arrays need data of shape (N, m)")
    packed = pack(params, spec, md.B)
    resid = model_residual(model.eval_fn, spec, tuple(model.param_names), tuple(model.independent_vars),
                           est=est)
    resid_ext = model_residual(model.eval_fn, spec, tuple(model.param_names),
                               tuple(model.independent_vars), True, est=est, stats=True)
    with x64_context(dt):
        per_fit, shared = device_args(packed, md, dt)
        try:
            result = _chunked.run(resid, resid_ext, spec, params, packed, per_fit, shared, md.ndata,
                                  md.B, md.batched, cfg, dt, method, scale_covar, f"Model {model._name!r}",
                                  m_expected=md.m, chunk_size=chunk_size, checkpoint=checkpoint,
                                  progress=progress)
        except ResidualShapeError as err:  # name the independent variables of unusual shapes
            raise ResidualShapeError(f"{err}{shape_hint(md)}") from None
    y = md.per_fit["y"]
    w = md.per_fit.get("weights", md.shared.get("weights"))
    if est.plain:
        best = lazy_best_fit(result._a, y, w, md.per_fit.get("mask"))
    else:
        vals = {n: result._a["values_all"][:, spec.names.index(n)] for n in model.param_names}
        best = _estimated.finish(result, est, model.eval_fn, vals, md.indep_fit, md.indep_shared, y,
                                 md.per_fit.get("mask"), dt, spec.nfree)
    indep_arrays = {v: md.indep_fit.get(v, md.indep_shared.get(v)) for v in model.independent_vars}
    wfit = None if w is None else np.broadcast_to(w, y.shape)  # per fit, like data (a view, no copy)
    result.extras.update(best_fit=best, data=y, weights=wfit, model=model, indep=indep_arrays,
                         mask=md.per_fit.get("mask"), nan_policy=nan_policy, scale_covar=bool(scale_covar),
                         max_nfev=cfg.resolved(dt, spec.nfree).max_nfev)
    return result


def lazy_best_fit(arrays, y, w, mask, block=1 << 14) -> LazyRows:
    """``best_fit`` computed when read: :func:`_best_fit` of the residual in
    ``arrays`` (a result's LazyDict, itself perhaps pending), ``block``
    datasets at a time, for the rows read only."""
    dtype = np.result_type(arrays.raw("residual").dtype, y.dtype)

    def rows(a, b):
        out = np.empty((b - a,) + y.shape[1:], dtype=dtype)
        for i in range(a, b, block):
            j = min(i + block, b)
            out[i - a:j - a] = _best_fit(arrays.rows("residual", i, j), y[i:j],
                                         w if w is None or w.ndim < 2 else w[i:j],
                                         None if mask is None else mask[i:j])
        return out

    return LazyRows(rows, 0, y.shape[0], y.shape[1:], dtype)


def _best_fit(residual, y, w, mask, rows=1 << 14):
    """The model at the solution, ``residual / w + y`` (NaN where a point is
    masked or has weight 0), computed in row blocks: no (N, m) temporaries."""
    best = np.empty(y.shape, dtype=np.result_type(residual, y))
    for i in range(0, y.shape[0], rows):
        s = slice(i, i + rows)
        r, yy = residual[s], y[s]
        if w is None:
            b = r + yy
        else:
            ww = np.broadcast_to(w if w.ndim == 1 else w[s], yy.shape)
            with np.errstate(divide="ignore", invalid="ignore"):
                b = np.where(ww != 0, r / np.where(ww != 0, ww, 1) + yy, np.nan)
        if mask is not None:
            b = np.where(mask[s], b, np.nan)
        best[s] = b
    return best

