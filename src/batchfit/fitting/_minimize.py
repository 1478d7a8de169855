"""minimize(): lmfit's front door for an objective that returns residuals."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from ..engine import _chunked
from ..problem._compat import resolve_dtype, warn_if_unresolved, x64_context
from ..problem._data import per_fit_arrays
from ..problem._pack import batch_size_of, host_arrays, make_spec, pack, packed_args
from ..problem._residual import objective_residual
from ..solver import LMConfig
from ..solver._optax import OPTIMIZERS, ScalarConfig
from ._scalar import reduce_function, scalar_fit

METHOD_ALIASES = {"leastsq": "lm", "lm": "lm", "levenberg_marquardt": "lm", "gauss_newton": "gauss_newton"}
#: scalar methods, run through optax (solver/_optax.py)
SCALAR_METHODS = {**{k: k for k in OPTIMIZERS}, "lbfgsb": "lbfgs", "l-bfgs-b": "lbfgs"}


def make_config(method, config, **kw) -> LMConfig:
    if method in SCALAR_METHODS:
        raise ValueError(f"method={method!r} (a scalar method) is for minimize(); this fit takes "
                         f"one of {sorted(METHOD_ALIASES)}")
    if method not in METHOD_ALIASES:
        raise ValueError(f"method must be one of {sorted(METHOD_ALIASES)}, or for minimize() a scalar "
                         f"method {sorted(SCALAR_METHODS)}; got {method!r}")
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
             chunk_size=None, checkpoint=None, progress=None, per_fit_args=None,
             reduce_fcn=None, learning_rate=None):
    """Minimise the sum of squares of ``fcn(params, *args, **kws)``.

    lmfit-compatible: ``fcn`` receives a mapping from parameter name to a JAX
    scalar and returns the residual array (any shape; it is flattened).
    Parameter values given as arrays of shape (N,) fit N problems at once,
    one per start (or per bound set), sharing ``args``.

    Args:
      fcn: objective, traceable by JAX (use ``jnp`` inside).
      params: :class:`~batchfit.Parameters`.
      args, kws: extra arguments for ``fcn`` (numeric arrays), common to every fit.
      method: ``"leastsq"``/``"lm"`` (Levenberg-Marquardt) or ``"gauss_newton"``;
        or a scalar method run through optax: ``"lbfgs"`` (alias
        ``"lbfgsb"``), ``"adam"``, ``"adamw"``, ``"nadam"``, ``"adabelief"``,
        ``"rmsprop"``, ``"sgd"``. A scalar method minimises ``fcn``'s value
        when it is a scalar, else ``reduce_fcn`` of it (the sum of squares
        by default), as lmfit's scalar methods do.
      scale_covar: scale the covariance by the reduced chi-square.
      max_nfev, ftol, xtol, gtol: solver tolerances (see :class:`LMConfig`);
        for a scalar method ``max_nfev`` is the iteration limit (default
        10000), ``gtol`` the relative gradient tolerance (default 1e-9) and
        ``ftol`` the relative tolerance on the objective's change (default
        1e-15); ``xtol`` does not apply.
      per_fit_args: a tuple of arrays with a leading axis N: fit ``i`` calls
        ``fcn(params, *args, *(a[i] for a in per_fit_args), **kws)``, so one
        objective fits N datasets at once (parameter arrays, if any, must
        have length N; scalar ones start every fit).
      reduce_fcn: for scalar methods, lmfit's ``reduce_fcn``: ``None`` (sum
        of squares), ``"negentropy"``, ``"neglogcauchy"`` or a callable.
      learning_rate: step size of the first-order scalar methods (default 1e-2).
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
    scalar = method in SCALAR_METHODS
    if scalar:
        scfg = _scalar_config(method, config, max_nfev, ftol, xtol, gtol, learning_rate, chunk_size,
                              checkpoint)
        red = reduce_function(reduce_fcn)
    else:
        if reduce_fcn is not None or learning_rate is not None:
            raise ValueError(f"reduce_fcn and learning_rate are for the scalar methods "
                             f"{sorted(SCALAR_METHODS)}, not method={method!r}")
        cfg = make_config(method, config, max_nfev=max_nfev, ftol=ftol, xtol=xtol, gtol=gtol)
    spec = make_spec(params)
    pfa, Na = per_fit_arrays(per_fit_args)
    Bp = batch_size_of(params)
    if Na is not None and Bp is not None and Na != Bp:
        raise ValueError(f"minimize: per_fit_args hold {Na} fits but the parameter arrays have length {Bp}")
    B = Na or Bp or 1
    leaves = jax.tree_util.tree_leaves((tuple(args), dict(kws or {}), pfa))
    dt = resolve_dtype(dtype, *leaves)
    if scalar and np.dtype(dt) == np.float32:
        if dtype is not None:
            raise ValueError(f"minimize: method={method!r} runs in float64 only (its stopping rules "
                             "and Hessian are not checked against float32 rounding); pass dtype=None")
        dt = np.float64  # float32 inputs are widened
    packed = pack(params, spec, B)
    with x64_context(dt):
        shared = _shared_tree(args, kws, dt)
        per_fit = packed_args(packed, dt)
        for i, a in enumerate(pfa):
            warn_if_unresolved(f"per_fit_args[{i}]", a, dt, "minimize")
        if pfa:
            per_fit["args"] = tuple(host_arrays({i: a for i, a in enumerate(pfa)}, dt).values())
        label = f"objective {getattr(fcn, '__name__', repr(fcn))!r}"
        if scalar:
            return scalar_fit(fcn, spec, params.copy(), packed, per_fit, shared, B,
                              (Bp or Na) is not None, scfg, red, dt, scale_covar, label)
        return _chunked.run(objective_residual(fcn, spec), objective_residual(fcn, spec, True), spec,
                           params.copy(), packed, per_fit, shared, None, B, (Bp or Na) is not None, cfg, dt,
                           method, scale_covar, label, chunk_size=chunk_size,
                           checkpoint=checkpoint, progress=progress)


def _scalar_config(method, config, max_nfev, ftol, xtol, gtol, learning_rate, chunk_size, checkpoint):
    if config is not None and not isinstance(config, ScalarConfig):
        raise TypeError(f"method={method!r} takes a ScalarConfig as config, got {type(config).__name__}")
    if xtol is not None:
        raise ValueError(f"xtol does not apply to method={method!r} (it stops on gtol or ftol)")
    if chunk_size is not None or checkpoint is not None:
        raise ValueError(f"chunk_size and checkpoint are not supported with method={method!r}")
    kw = {"max_iter": max_nfev, "ftol": ftol, "gtol": gtol, "learning_rate": learning_rate}
    for k, v in kw.items():
        if v is not None and not (isinstance(v, (int, float, np.number)) and v >= 0):
            raise ValueError(f"{'max_nfev' if k == 'max_iter' else k} must be a number >= 0, got {v!r}")
    base = config if config is not None else ScalarConfig()
    return dataclasses.replace(base, method=SCALAR_METHODS[method],
                               **{k: v for k, v in kw.items() if v is not None})
