"""Model(func): parameter names from the signature, batched fits of data;
CompositeModel: two models combined by an operator (lmfit's ``m1 + m2``)."""

from __future__ import annotations

import operator

import numpy as np

from ..params import Parameter, Parameters
from ..problem._compat import resolve_dtype, x64_context
from ..problem._estimator import make_estimator
from ..problem._modelfn import OP_SYMBOLS, CompositeFunction, ModelFunction, evaluate
from ._minimize import make_config
from ._model_fit import fit_data
from ._signature import _param_roots, _signature

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
            scale_covar=None, statistic="chi2", loss="linear", f_scale=1.0, max_nfev=None,
            ftol=None, xtol=None, gtol=None, dtype=None,
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
          scale_covar: scale the covariance by the reduced statistic;
            ``None`` (default): True, except for ``statistic="cstat"``,
            whose covariance is the inverse Fisher information.
          statistic: ``"chi2"`` (default) or ``"cstat"``: Poisson counts,
            the C-statistic ``2 sum(m - d + d ln(d/m))`` is minimised
            (``result.cstat``; no weights).
          loss: a robust loss as scipy.optimize.least_squares defines it:
            ``"linear"`` (default), ``"soft_l1"``, ``"huber"``,
            ``"cauchy"``, ``"arctan"``; ``f_scale`` its soft margin.
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
        est = make_estimator(statistic, loss, f_scale, weights=weights, label=f"Model {self.name!r}.fit")
        if scale_covar is None:
            scale_covar = est.statistic != "cstat"
        indep = {v: kwargs[v] for v in self.independent_vars}
        if shared is not None and (chunk_size is not None or checkpoint is not None):
            raise ValueError(f"Model {self.name!r}.fit: chunk_size and checkpoint are not supported with shared=")
        if shared is not None:
            from ..groups._fit import fit_groups

            return fit_groups(self, data, params, indep, weights, shared, method=method,
                              nan_policy=nan_policy or self.nan_policy, cfg=cfg,
                              dtype=resolve_dtype(dtype, _first_leaf(data)), scale_covar=scale_covar,
                              group_solver=group_solver, est=est)
        return fit_data(self, data, params, indep, weights, cfg, dtype, method,
                        nan_policy or self.nan_policy, scale_covar, chunk_size, checkpoint, progress,
                        est=est)


class CompositeModel(Model):
    """``op(left(x), right(x))``, built by ``left + right`` (or ``-``, ``*``, ``/``).

    Parameters are the union of both sides' (prefixed) parameters, derived
    parameters (hints) included; a name on both sides is a ``NameError``,
    as in lmfit: give the components distinct prefixes. Independent
    variables are the union of both sides'. ``op`` may be any function of
    two arrays (e.g. a convolution written with ``jnp``).

    Example:
      >>> import numpy as np
      >>> from batchfit.models import ConstantModel, GaussianModel
      >>> model = GaussianModel(prefix="g1_") + ConstantModel()
      >>> model.param_names
      ['g1_amplitude', 'g1_center', 'g1_sigma', 'c']
      >>> x = np.linspace(-3, 3, 61)
      >>> y = model.eval(x=x, g1_amplitude=2.0, g1_center=0.0, g1_sigma=0.5, c=1.0)
      >>> res = model.fit(y, model.make_params(g1_amplitude=1, g1_center=0.2, g1_sigma=1, c=0), x=x)
      >>> round(float(res.params["g1_sigma"].value), 6), sorted(model.eval_components(res.params, x=x))
      (0.5, ['constant', 'g1_'])
    """

    def __init__(self, left, right, op, *, name=None, nan_policy=None):
        for side, m in (("left", left), ("right", right)):
            if not isinstance(m, Model):
                raise TypeError(f"CompositeModel: {side} must be a Model, got {type(m).__name__}")
        if not callable(op):
            raise TypeError("CompositeModel: op must be callable, e.g. operator.add")
        clash = [n for n in left._all_names() if n in right._all_names()]
        if clash:
            raise NameError("; ".join(f"two models have parameters named {n!r}" for n in clash)
                            + ": give the models distinct prefixes, e.g. GaussianModel(prefix='g1_')")
        self.left, self.right, self.op = left, right, op
        sym = OP_SYMBOLS.get(op, getattr(op, "__name__", repr(op)))
        self.name = name or f"({left._label()} {sym} {right._label()})"
        self.nan_policy = nan_policy or left.nan_policy
        self.prefix = ""
        self.independent_vars = left.independent_vars + [
            v for v in right.independent_vars if v not in left.independent_vars]
        self.param_names = left.param_names + right.param_names
        self._defaults = {**left._defaults, **right._defaults}
        self._optional = left._optional | right._optional
        self.opts = {}
        self.param_hints = {}
        for m in (left, right):
            for base, hint in m.param_hints.items():
                self.param_hints[m.prefix + base] = dict(hint)
        self.eval_fn = CompositeFunction(op, left.eval_fn, right.eval_fn)
        self.func = self.eval_fn

    def __repr__(self):
        return f"<batchfit.CompositeModel: {self.name}>"

    def _label(self):
        return self.name

    @property
    def components(self) -> list:
        """The leaf models, left to right."""
        out = []
        for m in (self.left, self.right):
            out.extend(m.components if isinstance(m, CompositeModel) else [m])
        return out

    def eval_components(self, params=None, **kwargs) -> dict:
        """Each leaf model's curve, keyed by its prefix (or name if none)."""
        out = dict(self.left.eval_components(params, **kwargs))
        out.update(self.right.eval_components(params, **kwargs))
        return out


def _first_leaf(data):
    """The first dataset of (possibly nested, ragged) data, for its dtype."""
    while isinstance(data, (list, tuple)) and len(data):
        data = data[0]
    return np.asarray(data)
