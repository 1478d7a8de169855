"""Model(func): parameter names from the signature, batched fits of data."""

from __future__ import annotations

import inspect
import operator

import jax
import jax.numpy as jnp
import numpy as np

from . import _chunked
from ._compat import resolve_dtype, x64_context
from ._data import prepare
from ._fit import host_arrays, make_config, packed_args
from ._pack import batch_size_of, make_spec, pack
from ._modelfn import ModelFunction, evaluate
from ._problem import model_residual
from .params import Parameter, Parameters

HINT_FIELDS = frozenset({"value", "vary", "min", "max", "expr"})


class Model:
    """A model function ``func(x, p1, p2, ...)`` traceable by JAX.

    The first argument (or those named in ``independent_vars``) are the
    independent variables; arguments whose default is a string or a bool are
    options (fixed by keyword when the model is built, e.g. ``form="erf"``);
    every other argument is a parameter (or only those in ``param_names``),
    whose default (if any) is its initial value in :meth:`make_params`.
    ``prefix`` is prepended to the parameter names, so that models combined
    with ``+``, ``-``, ``*``, ``/`` (a :class:`CompositeModel`) keep them apart.

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
      >>> Model(line, prefix="l1_").param_names
      ['l1_slope', 'l1_intercept']
    """

    def __init__(self, func, independent_vars=None, name=None, nan_policy="raise", *,
                 prefix="", param_names=None, **opts):
        if not callable(func):
            raise TypeError("Model: func must be callable")
        self.func = func
        self.name = name or getattr(func, "__name__", "model")
        self.nan_policy = nan_policy
        args, defaults = _signature(func, self.name)
        indep = list(independent_vars) if independent_vars is not None else [args[0]]
        unknown = [v for v in indep if v not in args]
        if unknown:
            raise ValueError(f"Model {self.name!r}: independent_vars {unknown} are not arguments of func")
        options = {a: d for a, d in defaults.items() if isinstance(d, (str, bool)) and a not in indep}
        bad = sorted(set(opts) - set(options))
        if bad:
            raise TypeError(f"Model {self.name!r}: unexpected keyword(s) {bad}; "
                            f"func's options are {sorted(options)}")
        options.update(opts)
        roots = _param_roots(self.name, args, defaults, indep, options, param_names)
        if not isinstance(prefix, str):
            raise TypeError(f"Model {self.name!r}: prefix must be a string, got {type(prefix).__name__}")
        self.prefix = prefix
        self.independent_vars = indep
        self.param_names = [prefix + r for r in roots]
        for n in self.param_names:
            try:
                Parameter(n)
            except ValueError as err:
                raise ValueError(f"Model {self.name!r} with prefix {prefix!r}: {err}") from None
        self._defaults = {prefix + r: defaults[r] for r in roots if defaults.get(r) is not None}
        self._optional = {prefix + r for r in roots if r in defaults}  # func has a default
        self.opts = options
        self.param_hints = {}
        key = tuple(sorted(options.items()))
        try:
            hash(key)
        except TypeError:
            raise TypeError(f"Model {self.name!r}: options must be hashable (str, bool, "
                            f"numbers, tuples), got {options}") from None
        self.eval_fn = ModelFunction(func, prefix, tuple(roots), tuple(indep), key)

    def __repr__(self):
        return f"<batchfit.Model: {self.name}({', '.join(self.independent_vars + self.param_names)})>"

    def _label(self):
        pre = f", prefix={self.prefix!r}" if self.prefix else ""
        return f"Model({self.name}{pre})"

    def set_param_hint(self, name, **hint):
        """Fields (``value``, ``vary``, ``min``, ``max``, ``expr``) that
        :meth:`make_params` gives parameter ``name`` (with or without the
        prefix); a name that is no argument of func adds a derived parameter
        (usually with an ``expr``)."""
        bad = sorted(set(hint) - HINT_FIELDS)
        if bad:
            raise ValueError(f"Model {self.name!r}: hint for {name!r} has unknown field(s) {bad}")
        if self.prefix and name.startswith(self.prefix):
            name = name[len(self.prefix):]
        self.param_hints.setdefault(name, {}).update(hint)

    def _all_names(self):
        extra = [self.prefix + h for h in self.param_hints]
        return self.param_names + [n for n in extra if n not in self.param_names]

    def make_params(self, **init) -> Parameters:
        """Parameters for this model, with its hints (bounds, derived
        parameters); each keyword (a full, prefixed name) a value or a dict
        of fields."""
        names = self._all_names()
        unknown = set(init) - set(names)
        if unknown:
            raise ValueError(f"Model {self.name!r} has no parameter(s) {sorted(unknown)}; it has {names}")
        params = Parameters()
        for n in names:
            fields = {"value": self._defaults[n]} if n in self._defaults else {}
            fields.update(self.param_hints.get(n[len(self.prefix):], {}))
            spec = init.get(n)
            if isinstance(spec, dict):
                bad = sorted(set(spec) - HINT_FIELDS)
                if bad:
                    raise ValueError(f"Model {self.name!r}: parameter {n!r} has unknown field(s) {bad}")
                fields.update(spec)
            elif spec is not None:
                fields["value"] = spec
            params.add(n, **fields)
        return params

    def eval(self, params=None, **kwargs):
        """Evaluate the model; ``params`` values may be overridden by keywords.

        Parameter values of shape (N,) (a batch fit's ``result.params``)
        give N curves, shape (N, m); independent variables may then be
        (m,) or (N, m).
        """
        values = dict(params.valuesdict()) if params is not None else {}
        values.update({k: v for k, v in kwargs.items() if k in self.param_names})
        for n, d in self._defaults.items():
            values.setdefault(n, d)
        values = {n: values[n] for n in self.param_names if values.get(n) is not None}
        missing = [n for n in self.param_names if n not in values and n not in self._optional]
        if missing:
            raise ValueError(f"Model {self.name!r}: no value for parameter(s) {missing}")
        indep = {}
        for v in self.independent_vars:
            if v not in kwargs:
                raise ValueError(f"Model {self.name!r}: independent variable {v!r} not given")
            indep[v] = kwargs[v]
        dt = resolve_dtype(None, *[np.asarray(a) for a in indep.values()])
        with x64_context(dt):
            return evaluate(self.eval_fn, values, indep, dt)

    def eval_components(self, params=None, **kwargs) -> dict:
        """Each component's curve, keyed by its prefix (or name if none)."""
        return {self.prefix or self.name: self.eval(params, **kwargs)}

    def guess(self, data, **kwargs) -> Parameters:
        """Starting values estimated from data (built-in models only)."""
        raise NotImplementedError(f"guess() is not implemented for Model {self.name!r}")

    def _combine(self, other, op):
        if not isinstance(other, Model):
            return NotImplemented
        from ._composite import CompositeModel

        return CompositeModel(self, other, op)

    def __add__(self, other):
        return self._combine(other, operator.add)

    def __sub__(self, other):
        return self._combine(other, operator.sub)

    def __mul__(self, other):
        return self._combine(other, operator.mul)

    def __truediv__(self, other):
        return self._combine(other, operator.truediv)

    def fit(self, data, params=None, weights=None, method="leastsq", *, nan_policy=None,
            scale_covar=True, max_nfev=None, ftol=None, xtol=None, gtol=None, dtype=None,
            config=None, shared=None, group_solver="auto", chunk_size=None, checkpoint=None,
            progress=None, **kwargs):
        """Fit ``data`` of shape (m,) once, or (N, m) as N fits in one call.

        Args:
          data: (m,), (N, m), or a list of 1-D arrays of unequal length.
          params: :class:`Parameters` (default: :meth:`make_params`); array
            values of shape (N,) give per-fit starts and bounds.
          weights: multiply the residual (1/sigma): scalar, (m,), (N, m).
          method: ``"leastsq"`` (LM) or ``"gauss_newton"``.
          nan_policy: ``"raise"`` (default), ``"omit"`` or ``"propagate"``.
          shared: parameter names shared by a group of datasets: ``data`` of
            shape (K, m) is then one group of K datasets (every other
            parameter is per dataset) and (G, K, m) is G groups fitted at
            once; returns a :class:`~batchfit.GroupFitResult`.
          group_solver: ``"auto"``, ``"dense"`` or ``"schur"`` (block-arrow
            Schur complement, for groups of many datasets).
          chunk_size: fit the N datasets in chunks of this many; the result
            equals the unchunked fit's. ``None`` (default): in one piece,
            unless its working set would not fit in the devices' memory;
            then in the largest chunks that do (streamed, with a progress
            bar).
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
        indep = {v: kwargs[v] for v in self.independent_vars}
        if shared is not None and (chunk_size is not None or checkpoint is not None):
            raise ValueError(f"Model {self.name!r}.fit: chunk_size and checkpoint are not supported with shared=")
        if shared is not None:
            from ._groups import fit_groups

            return fit_groups(self, data, params, indep, weights, shared, method=method,
                              nan_policy=nan_policy or self.nan_policy, cfg=cfg,
                              dtype=resolve_dtype(dtype, _first_leaf(data)), scale_covar=scale_covar,
                              group_solver=group_solver)
        spec = make_spec(params)
        dt = resolve_dtype(dtype, np.asarray(data) if not isinstance(data, list) else np.asarray(data[0]))
        md = prepare(data, indep, weights, nan_policy or self.nan_policy, dt)
        Bp = batch_size_of(params)
        if Bp is not None and Bp != md.B:
            raise ValueError(f"parameter arrays have length {Bp} but data holds {md.B} datasets")
        if Bp is not None and not md.batched:
            raise ValueError("parameter arrays need data of shape (N, m)")
        packed = pack(params, spec, md.B)
        resid = model_residual(self.eval_fn, spec, tuple(self.param_names), tuple(self.independent_vars))
        resid_ext = model_residual(self.eval_fn, spec, tuple(self.param_names),
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


def _first_leaf(data):
    """The first dataset of (possibly nested, ragged) data, for its dtype."""
    while isinstance(data, (list, tuple)) and len(data):
        data = data[0]
    return np.asarray(data)


def _signature(func, name):
    """Argument names of ``func`` and their defaults."""
    args, defaults = [], {}
    for p in inspect.signature(func).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise ValueError(f"Model {name!r}: *args/**kwargs are not supported in func")
        args.append(p.name)
        if p.default is not p.empty:
            defaults[p.name] = p.default
    if not args:
        raise ValueError(f"Model {name!r}: func takes no arguments")
    return args, defaults


def _param_roots(name, args, defaults, indep, options, param_names):
    """The (unprefixed) parameter arguments; the others need defaults."""
    if param_names is None:
        return [a for a in args if a not in indep and a not in options]
    roots = list(param_names)
    bad = [r for r in roots if r not in args or r in indep or r in options]
    if bad:
        raise ValueError(f"Model {name!r}: param_names {bad} are not parameter arguments of func")
    if len(set(roots)) != len(roots):
        raise ValueError(f"Model {name!r}: param_names has duplicates")
    lacking = [a for a in args if a not in roots and a not in indep and a not in options
               and a not in defaults]
    if lacking:
        raise ValueError(f"Model {name!r}: argument(s) {lacking} are not in param_names and have no default")
    return roots
