"""One batch through the pipeline: check the residual, solve, statistics, FitResult."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..problem._residual import ResidualShapeError, ResidualTypeError
from ..results._result import FitResult
from ..solver import RESULTS, bucket_size, solve
from ..solver._results import success_codes
from ..stats import _compute as _stats
from ..stats import _precision
from . import _saddle
from ._refit import Refit, attach


class ModelError(RuntimeError):
    """A model or objective function failed while being evaluated."""


_TRACING_ERRORS = (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError)
_TRACING_HINT = ("it is traced by JAX, so use jax.numpy (jnp) inside it, not numpy or math, and "
                 "no Python if/while on parameter values (use jnp.where).")


def check_residual(resid, theta0, per_fit, shared, m_expected, label):
    """Trace one fit abstractly (no compile) to validate the residual shape.

    ``theta0`` and ``per_fit`` are host arrays; only fit 0 is looked at.
    """
    one = jax.tree_util.tree_map(lambda a: a[0], per_fit)
    try:
        out = jax.eval_shape(resid, theta0[0], one, shared)
    except ResidualTypeError:
        raise
    except ResidualShapeError as err:  # the model's own output, not the residual's
        raise ResidualShapeError(f"{label} {err}") from None
    except Exception as err:  # the user's function failed while tracing
        msg = f"{label} raised {type(err).__name__} while being evaluated: {err}"
        if isinstance(err, _TRACING_ERRORS):
            msg = f"{label} raised {type(err).__name__} while being evaluated: {_TRACING_HINT}\n{err}"
        try:  # keep the exception type where it can carry a plain message
            new = type(err)(msg)
            str(new)
        except Exception:
            new = ModelError(msg)
        raise new from err
    if not jnp.issubdtype(out.dtype, jnp.floating):
        raise TypeError(f"{label} must return real floating residuals, got dtype {out.dtype}")
    if out.ndim != 1 or (m_expected is not None and out.shape[0] != m_expected):
        want = f"({m_expected},)" if m_expected is not None else "a 1-D array"
        raise ValueError(f"{label} returned shape {out.shape}, expected {want}")
    if out.shape[0] == 0:
        raise ValueError(f"{label} returned no residuals")
    return out.shape[0]


def check_enough_points(spec, ndata, label):
    """Raise unless some fit has at least as many valid points as free parameters."""
    if np.all(ndata < spec.nfree):
        raise ValueError(
            f"{label}: {spec.nfree} free parameters but at most {int(ndata.max())} valid data points"
        )


def run(resid, resid_ext, spec, template, packed, per_fit, shared, ndata, B, batched,
        cfg, dtype, method_label, scale_covar, label, m_expected=None, extras=None,
        points_checked=False, pad_to=None):
    """Solve, compute statistics and build the FitResult (inside x64 context).

    ``per_fit`` holds host arrays with a leading batch axis B; they are padded
    to the batch's bucket on the host and moved to the device once.
    ``points_checked``: the caller (a chunked run) already checked the whole
    batch with :func:`check_enough_points`. ``pad_to``: pad to the bucket of
    this many fits at least (a chunked run's short last chunk takes the
    compiled shape of the full ones); those extra lanes start at NaN, so
    they end at their first evaluation and cost next to nothing.
    """
    refit = Refit(resid, resid_ext, spec, per_fit, shared, cfg, dtype, scale_covar)
    theta0 = np.asarray(packed.theta0, dtype=dtype)
    m = check_residual(resid, theta0, per_fit, shared, m_expected, label)
    if ndata is None:
        if m < spec.nfree:
            raise ValueError(f"{label}: {spec.nfree} free parameters but only {m} residuals")
        ndata = np.full(B, m)
    elif not points_checked:
        check_enough_points(spec, ndata, label)
    cfg = cfg.resolved(dtype, spec.nfree)
    size = bucket_size(B)
    full = max(size, bucket_size(pad_to)) if pad_to else size
    if full != B:  # pad with copies of the last fit: one compiled shape per bucket
        idx = np.minimum(np.arange(full), B - 1)
        theta0, per_fit = jax.tree_util.tree_map(lambda a: a[idx], (theta0, per_fit))
        theta0[size:] = np.nan  # beyond B's own bucket: done at once (NONFINITE_START)
    size = full
    theta0, per_fit = jax.device_put((theta0, per_fit))  # not jnp.asarray: no copy program compiled per shape
    out = solve(resid, theta0, per_fit, shared, cfg)
    theta = jax.device_put(out.theta)
    st = _stats.compute(resid_ext, spec, theta, per_fit, shared, np.resize(ndata, size), scale_covar,
                        cfg.threads, n_real=B)
    if cfg.method == "lm" and cfg.restart:  # a success at a saddle is run again from both sides of it
        out, st = _saddle.escape(resid, resid_ext, spec, out, st, per_fit, shared, np.resize(ndata, size),
                                 scale_covar, cfg)
        theta = jax.device_put(out.theta)
    rounding = None
    if np.dtype(dtype) == np.float32:  # float32 never lies: its rounding against float64
        rounding = _precision.rounding_norm(resid_ext, theta, per_fit, shared, st.residual)[:B]
    out = jax.tree_util.tree_map(lambda a: a[:B], out)
    st = jax.tree_util.tree_map(lambda a: a[:B], st)
    status = out.status.copy()
    if rounding is not None:
        ratio = _precision.precision_ratio(spec, st.values, st.stderr, st.chisqr, ndata - spec.nfree,
                                           rounding, dtype)
        status[np.isin(status, success_codes()) & (ratio > _precision.LIMIT)] = RESULTS.PRECISION_LIMITED
    status[ndata == 0] = RESULTS.NO_DATA
    status[(ndata > 0) & (ndata < spec.nfree)] = RESULTS.TOO_FEW_POINTS
    # no point left, or fewer points than free parameters: no chi-square (not 0, and not
    # wherever an underdetermined fit's rounding happened to end it)
    chisqr = np.where(ndata < spec.nfree, np.nan, st.chisqr)
    redchi, aic, bic = _stats.info_criteria(chisqr, ndata, spec.nfree)
    return attach(FitResult(
        spec=spec, template=template, method=method_label, batched=batched, extras=extras,
        status=status, nfev=out.nfev, ndata=ndata, nfree=ndata - spec.nfree, chisqr=chisqr,
        redchi=redchi, aic=aic, bic=bic, covar=st.covar, init_vals=packed.init,
        errorbars=st.errorbars & np.isin(status, success_codes()),
        residual=st.residual, values_all=st.values, stderr_all=st.stderr,
    ), refit)
