"""Model(func): parameter names from the signature, batched fits of data."""

from __future__ import annotations

import inspect

import jax
import jax.numpy as jnp
import numpy as np

from . import _chunked
from ._compat import resolve_dtype, x64_context
from ._data import prepare
from ._fit import host_arrays, make_config, packed_args
from ._pack import batch_size_of, make_spec, pack
from ._problem import model_residual
from .params import Parameters


class Model:
    """A model function ``func(x, p1, p2, ...)`` traceable by JAX.

    The first argument (or those named in ``independent_vars``) are the
    independent variables; every other argument is a parameter, whose
    default (if any) is its initial value in :meth:`make_params`.

    Example:
      >>> import jax.numpy as jnp, numpy as np
      >>> from batchfit import Model
      >>> def line(x, slope, intercept=0.0):
      ...     return slope * x + intercept
      >>> model = Model(line)
      >>> model.param_names, model.independent_vars
      (['slope', 'intercept'], ['x'])
      >>> x = np.linspace(0, 1, 20)
      >>> res = model.fit(3 * x + 1, model.make_params(slope=1), x=x)
      >>> [round(float(res.params[n].value), 6) for n in ("slope", "intercept")]
      [3.0, 1.0]
    """

    def __init__(self, func, independent_vars=None, name=None, nan_policy="raise"):
        if not callable(func):
            raise TypeError("Model: func must be callable")
        self.func = func
        self.name = name or getattr(func, "__name__", "model")
        self.nan_policy = nan_policy
        sig = inspect.signature(func)
        args, defaults = [], {}
        for p in sig.parameters.values():
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise ValueError(f"Model {self.name!r}: *args/**kwargs are not supported in func")
            args.append(p.name)
            if p.default is not p.empty:
                defaults[p.name] = p.default
        if not args:
            raise ValueError(f"Model {self.name!r}: func takes no arguments")
        indep = list(independent_vars) if independent_vars is not None else [args[0]]
        unknown = [v for v in indep if v not in args]
        if unknown:
            raise ValueError(f"Model {self.name!r}: independent_vars {unknown} are not arguments of func")
        self.independent_vars = indep
        self.param_names = [a for a in args if a not in indep]
        self._defaults = {k: v for k, v in defaults.items() if k in self.param_names}

    def __repr__(self):
        return f"<batchfit.Model: {self.name}({', '.join(self.independent_vars + self.param_names)})>"

    def make_params(self, **init) -> Parameters:
        """Parameters for this model; each keyword a value or a dict of fields."""
        unknown = set(init) - set(self.param_names)
        if unknown:
            raise ValueError(f"Model {self.name!r} has no parameter(s) {sorted(unknown)}")
        params = Parameters()
        for n in self.param_names:
            spec = init.get(n, self._defaults.get(n))
            if isinstance(spec, dict):
                params.add(n, **spec)
            else:
                params.add(n, value=spec)
        return params

    def eval(self, params=None, **kwargs):
        """Evaluate the model; ``params`` values may be overridden by keywords."""
        values = dict(params.valuesdict()) if params is not None else {}
        values.update({k: v for k, v in kwargs.items() if k in self.param_names})
        missing = [n for n in self.param_names if n not in values]
        if missing:
            raise ValueError(f"Model {self.name!r}: no value for parameter(s) {missing}")
        call = {n: values[n] for n in self.param_names}
        for v in self.independent_vars:
            if v not in kwargs:
                raise ValueError(f"Model {self.name!r}: independent variable {v!r} not given")
            call[v] = kwargs[v]
        dt = resolve_dtype(None, *[np.asarray(kwargs[v]) for v in self.independent_vars])
        with x64_context(dt):
            return np.asarray(self.func(**{k: jnp.asarray(v, dtype=dt) for k, v in call.items()}))

    def fit(self, data, params=None, weights=None, method="leastsq", *, nan_policy=None,
            scale_covar=True, max_nfev=None, ftol=None, xtol=None, gtol=None, dtype=None,
            config=None, chunk_size=None, checkpoint=None, progress=None, **kwargs):
        """Fit ``data`` of shape (m,) once, or (N, m) as N fits in one call.

        Args:
          data: (m,), (N, m), or a list of 1-D arrays of unequal length.
          params: :class:`Parameters` (default: :meth:`make_params`); array
            values of shape (N,) give per-fit starts and bounds.
          weights: multiply the residual (1/sigma): scalar, (m,), (N, m).
          method: ``"leastsq"`` (LM) or ``"gauss_newton"``.
          nan_policy: ``"raise"`` (default), ``"omit"`` or ``"propagate"``.
          chunk_size: fit the N datasets in chunks of this many; the result
            equals the unchunked fit's.
          checkpoint: a directory where each finished chunk is saved; a rerun
            with the same inputs loads those chunks instead of refitting them
            (different inputs: :class:`~batchfit.CheckpointError`).
          progress: ``None`` (a tqdm bar when there is more than one chunk
            and tqdm is installed), ``True``, ``False``, or a callable
            ``progress(done, total)`` called after each chunk.
          **kwargs: independent variables (e.g. ``x=x``), shape (m,) shared
            or (N, m) per fit, and parameter values to override.

        Returns:
          :class:`~batchfit.FitResult` with ``best_fit``, ``data`` and
          ``weights`` besides lmfit's statistics.
        """
        params = (params if params is not None else self.make_params()).copy()
        for k in [k for k in kwargs if k in self.param_names]:
            params[k].value = kwargs.pop(k)
        missing = [v for v in self.independent_vars if v not in kwargs]
        if missing:
            raise ValueError(f"Model {self.name!r}.fit: independent variable(s) {missing} not given")
        extra = sorted(set(kwargs) - set(self.independent_vars))
        if extra:
            raise TypeError(f"Model {self.name!r}.fit: unexpected keyword(s) {extra}")
        missing_p = [n for n in self.param_names if n not in params]
        if missing_p:
            raise ValueError(f"Model {self.name!r}.fit: params lacks {missing_p}")
        cfg = make_config(method, config, max_nfev=max_nfev, ftol=ftol, xtol=xtol, gtol=gtol)
        spec = make_spec(params)
        indep = {v: kwargs[v] for v in self.independent_vars}
        dt = resolve_dtype(dtype, np.asarray(data) if not isinstance(data, list) else np.asarray(data[0]))
        md = prepare(data, indep, weights, nan_policy or self.nan_policy, dt)
        Bp = batch_size_of(params)
        if Bp is not None and Bp != md.B:
            raise ValueError(f"parameter arrays have length {Bp} but data holds {md.B} datasets")
        if Bp is not None and not md.batched:
            raise ValueError("parameter arrays need data of shape (N, m)")
        packed = pack(params, spec, md.B)
        resid = model_residual(self.func, spec, tuple(self.param_names), tuple(self.independent_vars))
        resid_ext = model_residual(self.func, spec, tuple(self.param_names),
                                   tuple(self.independent_vars), True)
        with x64_context(dt):
            per_fit = packed_args(packed, dt)
            per_fit["data"] = host_arrays(md.per_fit, dt)
            per_fit["indep"] = host_arrays(md.indep_fit, dt)
            shared = jax.tree_util.tree_map(jnp.asarray, {
                "data": host_arrays(md.shared, dt), "indep": host_arrays(md.indep_shared, dt)})
            result = _chunked.run(resid, resid_ext, spec, params, packed, per_fit, shared, md.ndata,
                                  md.B, md.batched, cfg, dt, method, scale_covar, f"Model {self.name!r}",
                                  m_expected=md.m, chunk_size=chunk_size, checkpoint=checkpoint,
                                  progress=progress)
        y = md.per_fit["y"]
        w = md.per_fit.get("weights", md.shared.get("weights"))
        wfull = np.broadcast_to(w, y.shape) if w is not None else np.ones_like(y)
        with np.errstate(divide="ignore", invalid="ignore"):
            best = np.where(wfull != 0, result._a["residual"] / np.where(wfull != 0, wfull, 1) + y, np.nan)
        if "mask" in md.per_fit:
            best = np.where(md.per_fit["mask"], best, np.nan)
        indep_arrays = {v: md.indep_fit.get(v, md.indep_shared.get(v)) for v in self.independent_vars}
        wfit = None if w is None else wfull  # per fit, like data (a broadcast view, no copy)
        result.extras.update(best_fit=best, data=y, weights=wfit, model=self, indep=indep_arrays,
                             mask=md.per_fit.get("mask"))
        return result
