"""minimize(): lmfit's front door for an objective that returns residuals."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from ..engine import _chunked
from ..problem._compat import resolve_dtype, warn_if_unresolved, x64_context
from ..problem._estimator import make_estimator
from ..problem._pack import batch_size_of, make_spec, pack, packed_args
from ..problem._residual import objective_residual
from ..solver import LMConfig

METHOD_ALIASES = {"leastsq": "lm", "lm": "lm", "levenberg_marquardt": "lm", "gauss_newton": "gauss_newton"}


def make_config(method, config, **kw) -> LMConfig:
    if method not in METHOD_ALIASES:
        raise ValueError(f"method must be one of {sorted(METHOD_ALIASES)}, got {method!r}")
    opts = {k: v for k, v in kw.items() if v is not None}
    base = config if config is not None else LMConfig()
    return dataclasses.replace(base, method=METHOD_ALIASES[method], **opts)


def _shared_tree(args, kws, dtype):
    def conv(path, a):
        arr = np.asarray(a)
        if arr.dtype.kind not in "biuf":
            raise TypeError(
                f"minimize: argument {jax.tree_util.keystr(path)} has dtype {arr.dtype}; "
                "only numeric arrays can be passed (bind other values with functools.partial)"
            )
        return jnp.asarray(arr, dtype=dtype if arr.dtype.kind == "f" else None)

    tree = (tuple(args), dict(kws or {}))
    for path, a in jax.tree_util.tree_flatten_with_path(tree)[0]:
        warn_if_unresolved(f"argument {jax.tree_util.keystr(path)}", np.asarray(a), dtype, "minimize")
    return jax.tree_util.tree_map_with_path(conv, tree)


def minimize(fcn, params, args=(), kws=None, method="leastsq", *, scale_covar=True,
             max_nfev=None, ftol=None, xtol=None, gtol=None, dtype=None, config=None,
             chunk_size=None, checkpoint=None, progress=None, loss="linear", f_scale=1.0):
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
      loss, f_scale: minimise scipy.optimize.least_squares' robust cost
        ``0.5 f_scale^2 sum rho((f/f_scale)^2)`` instead (``"linear"``,
        ``"soft_l1"``, ``"huber"``, ``"cauchy"``, ``"arctan"``);
        ``chisqr`` is then twice that cost and the covariance scipy's
        curve_fit's under a loss (``problem/_estimator``).

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
    est = make_estimator("chi2", loss, f_scale, label="minimize")
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
        result = _chunked.run(objective_residual(fcn, spec, est=est),
                              objective_residual(fcn, spec, True, est=est, stats=not est.plain), spec,
                              params.copy(), packed, per_fit, shared, None, B, Bp is not None, cfg,
                              dt, method, scale_covar, label, chunk_size=chunk_size,
                              checkpoint=checkpoint, progress=progress)
    if not est.plain:
        result.extras.update(statistic=est.statistic, loss=est.loss, f_scale=est.f_scale)
    return result
