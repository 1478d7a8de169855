"""Orchestration: parameters -> packed arrays -> solver -> statistics -> result."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from . import _stats
from ._compat import resolve_dtype, x64_context
from ._pack import batch_size_of, make_spec, pack
from ._problem import ResidualShapeError, ResidualTypeError, objective_residual
from ._result import FitResult
from .solver import RESULTS, LMConfig, bucket_size, solve


class ModelError(RuntimeError):
    """A model or objective function failed while being evaluated."""


METHOD_ALIASES = {"leastsq": "lm", "lm": "lm", "levenberg_marquardt": "lm", "gauss_newton": "gauss_newton"}


def make_config(method, config, **kw) -> LMConfig:
    if method not in METHOD_ALIASES:
        raise ValueError(f"method must be one of {sorted(METHOD_ALIASES)}, got {method!r}")
    opts = {k: v for k, v in kw.items() if v is not None}
    base = config if config is not None else LMConfig()
    return dataclasses.replace(base, method=METHOD_ALIASES[method], **opts)


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
        points_checked=False):
    """Solve, compute statistics and build the FitResult (inside x64 context).

    ``per_fit`` holds host arrays with a leading batch axis B; they are padded
    to the batch's bucket on the host and moved to the device once.
    ``points_checked``: the caller (a chunked run) already checked the whole
    batch with :func:`check_enough_points`.
    """
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
    if size != B:  # pad with copies of the last fit: one compiled shape per bucket
        idx = np.minimum(np.arange(size), B - 1)
        theta0, per_fit = jax.tree_util.tree_map(lambda a: a[idx], (theta0, per_fit))
    theta0, per_fit = jax.device_put((theta0, per_fit))  # not jnp.asarray: no copy program compiled per shape
    out = solve(resid, theta0, per_fit, shared, cfg)
    st = _stats.compute(resid_ext, spec, jax.device_put(out.theta), per_fit, shared,
                        np.resize(ndata, size), scale_covar, cfg.threads)
    out = jax.tree_util.tree_map(lambda a: a[:B], out)
    st = jax.tree_util.tree_map(lambda a: a[:B], st)
    status = out.status.copy()
    status[ndata == 0] = RESULTS.NO_DATA
    status[(ndata > 0) & (ndata < spec.nfree)] = RESULTS.TOO_FEW_POINTS
    redchi, aic, bic = _stats.info_criteria(st.chisqr, ndata, spec.nfree)
    return FitResult(
        spec=spec, template=template, method=method_label, batched=batched, extras=extras,
        status=status, nfev=out.nfev, ndata=ndata, nfree=ndata - spec.nfree, chisqr=st.chisqr,
        redchi=redchi, aic=aic, bic=bic, covar=st.covar, init_vals=packed.init,
        errorbars=st.errorbars & np.isin(status, [int(r) for r in RESULTS if r.success]),
        residual=st.residual, values=st.values, stderr_all=st.stderr,
    )


def _shared_tree(args, kws, dtype):
    def conv(path, a):
        arr = np.asarray(a)
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"minimize: argument {jax.tree_util.keystr(path)} has dtype {arr.dtype}; "
                "only numeric arrays can be passed (bind other values with functools.partial)"
            )
        return jnp.asarray(arr, dtype=dtype if arr.dtype.kind == "f" else None)

    return jax.tree_util.tree_map_with_path(conv, (tuple(args), dict(kws or {})))


def minimize(fcn, params, args=(), kws=None, method="leastsq", *, scale_covar=True,
             max_nfev=None, ftol=None, xtol=None, gtol=None, dtype=None, config=None,
             chunk_size=None, checkpoint=None, progress=None):
    """Minimise the sum of squares of ``fcn(params, *args, **kws)``.

    lmfit-compatible: ``fcn`` receives a mapping from parameter name to a JAX
    scalar and returns the residual array (any shape; it is flattened).
    Parameter values given as arrays of shape (N,) fit N problems at once,
    one per start (or per bound set), sharing ``args``.

    Args:
      fcn: objective, traceable by JAX (use ``jnp`` inside).
      params: :class:`~batchfit.Parameters`.
      args, kws: extra arguments for ``fcn`` (numeric arrays).
      method: ``"leastsq"``/``"lm"`` (Levenberg-Marquardt) or ``"gauss_newton"``.
      scale_covar: scale the covariance by the reduced chi-square.
      max_nfev, ftol, xtol, gtol: solver tolerances (see :class:`LMConfig`).
      dtype: ``"float32"`` or ``"float64"``; by default float64 unless every
        floating input array is float32.
      config: an :class:`LMConfig` for further options.
      chunk_size: fit a batch (parameter arrays of shape (N,)) in chunks of
        this many problems; the result equals the unchunked fit's. ``None``
        (default): in one piece unless that would not fit in the devices'
        memory, then streamed in the largest chunks that do.
      checkpoint: a directory where each finished chunk is saved; a rerun
        with the same inputs loads those chunks instead of refitting them.
      progress: ``None`` (a tqdm bar when there is more than one chunk and
        tqdm is installed), ``True``, ``False``, or ``progress(done, total)``
        called after each chunk.

    Returns:
      :class:`~batchfit.FitResult`.

    Example:
      >>> import jax.numpy as jnp, numpy as np
      >>> from batchfit import Parameters, minimize
      >>> x = np.linspace(0, 1, 11); y = 2.0 * x + 1.0
      >>> p = Parameters(); p.add("a", 1.0); p.add("b", 0.0)
      >>> res = minimize(lambda p, x, y: p["a"] * x + p["b"] - y, p, args=(x, y))
      >>> round(float(res.params["a"].value), 6), bool(res.success)
      (2.0, True)
    """
    if not callable(fcn):
        raise TypeError("fcn must be callable")
    cfg = make_config(method, config, max_nfev=max_nfev, ftol=ftol, xtol=xtol, gtol=gtol)
    spec = make_spec(params)
    Bp = batch_size_of(params)
    B = Bp or 1
    leaves = jax.tree_util.tree_leaves((tuple(args), dict(kws or {})))
    dt = resolve_dtype(dtype, *leaves)
    packed = pack(params, spec, B)
    with x64_context(dt):
        shared = _shared_tree(args, kws, dt)
        per_fit = packed_args(packed, dt)
        label = f"objective {getattr(fcn, '__name__', repr(fcn))!r}"
        from ._chunked import run as run_chunked

        return run_chunked(objective_residual(fcn, spec), objective_residual(fcn, spec, True), spec,
                           params.copy(), packed, per_fit, shared, None, B, Bp is not None, cfg, dt,
                           method, scale_covar, label, chunk_size=chunk_size,
                           checkpoint=checkpoint, progress=progress)
