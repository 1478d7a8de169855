"""Model(func): parameter names from the signature, batched fits of data.

Models combined by an operator (lmfit's ``m1 + m2``) are a
:class:`~batchfit.fitting._composite.CompositeModel`, which registers
itself as ``Model._composite``."""

from __future__ import annotations

import copy
import operator

import numpy as np

from ..params import Parameter, Parameters
from ..problem._compat import resolve_dtype, x64_context
from ..problem._modelfn import ModelFunction, evaluate
from . import _hints
from ._complex import complex_data
from ._lmfit_args import lmfit_arguments, static_options
from ._minimize import make_config, solver_options
from ..problem._estimator import make_estimator
from ._model_fit import fit_data
from ._methods import canonical_method
from ._scalar import SCALAR_METHODS
from ._signature import read_signature

HINT_FIELDS = frozenset(_hints.HINT_FIELDS)


class Model:
    """A model function ``func(x, p1, p2, ...)`` traceable by JAX.

    Arguments are read as lmfit reads them: the first argument (or those
    named in ``independent_vars``) is the independent variable; arguments
    without a default or with a numeric one are parameters (the default is
    the start in :meth:`make_params`; ``param_names`` picks them, and names
    parameters reached through ``**kwargs``); other keyword arguments (a
    string, bool or None default, e.g. ``form="erf"``) are listed in
    ``independent_vars`` as lmfit lists them, and are fixed options of the
    compiled model: their default, or a value passed to :meth:`fit`,
    :meth:`eval` or the constructor (``Model(f, form="erf")``, kept in
    ``opts``). ``prefix`` (settable) is prepended to the parameter names,
    so that models combined with ``+``, ``-``, ``*``, ``/`` (a
    :class:`CompositeModel`) keep them apart. ``name`` is lmfit's
    (``Model(line, prefix='l1_')``).

    Example:
      >>> import jax.numpy as jnp, numpy as np
      >>> from batchfit import Model
      >>> def line(x, slope, intercept=0.0):
      ...     return slope * x + intercept
      >>> model = Model(line)
      >>> model.param_names, model.independent_vars, model
      (['slope', 'intercept'], ['x'], <batchfit.Model: Model(line)>)
      >>> x = np.linspace(0, 1, 20)
      >>> res = model.fit(3 * x + 1, model.make_params(slope=1), x=x)
      >>> [round(float(res.params[n].value), 6) for n in ("slope", "intercept")]
      [3.0, 1.0]
      >>> model.prefix = "l1_"
      >>> model.param_names
      ['l1_slope', 'l1_intercept']
    """

    def __init__(self, func, independent_vars=None, param_names=None, nan_policy="raise", prefix="",
                 name=None, **opts):
        if not callable(func):
            raise TypeError("Model: func must be callable")
        self.func = func
        self._name = name or getattr(func, "__name__", "model")
        self.nan_policy = nan_policy
        sig = read_signature(func, self._name, independent_vars, param_names)
        self._sig = sig
        self.independent_vars = list(sig.indep)
        self._func_allargs = list(sig.args)
        self._func_haskeywords = sig.haskeywords
        self._roots = list(sig.roots)
        self._root_defaults = {r: sig.defaults[r] for r in sig.roots if r in sig.defaults
                               and sig.defaults[r] is not None}
        # lmfit's def_vals: numeric defaults of func (none when param_names is given)
        self.def_vals = {} if param_names is not None else {
            a: d for a, d in sig.defaults.items() if isinstance(d, (int, float)) and not isinstance(d, bool)}
        self.param_hints = {}
        options = {}
        for k, v in opts.items():
            if k in self._roots:  # lmfit: a parameter's value given here is a hint
                self.set_param_hint(k, **_hints._fields(self, k, v))
            elif k in sig.args or sig.haskeywords:
                options[k] = v
            else:
                raise TypeError(f"Model {self._name!r}: unexpected keyword(s) {[k]}; func's "
                                f"arguments are {sig.args}")
        try:
            hash(tuple(sorted(options.items())))
        except TypeError:
            raise TypeError(f"Model {self._name!r}: options must be hashable (str, bool, "
                            f"numbers, tuples), got {options}") from None
        self.opts = options
        self._indep_defaults = {v: options.get(v, d) for v, d in sig.indep_defaults.items()}
        # lmfit lists these only for the independent variables it found itself
        self.independent_vars_defvals = dict(self._indep_defaults) if independent_vars is None else {}
        self._prefix = ""
        self.prefix = prefix

    @property
    def prefix(self):
        return self._prefix

    @prefix.setter
    def prefix(self, prefix):
        """Set the prefix: parameter names and the hints' expressions follow."""
        if not isinstance(prefix, str):
            raise TypeError(f"Model {self._name!r}: prefix must be a string, got {type(prefix).__name__}")
        names = [prefix + r for r in self._roots]
        for n in names:
            try:
                Parameter(n)
            except ValueError as err:
                raise ValueError(f"Model {self._name!r} with prefix {prefix!r}: {err}") from None
        _hints.reprefix_hints(self.param_hints, self._roots + list(self.param_hints), self._prefix, prefix)
        self._prefix = prefix
        self.param_names = names
        self._defaults = {prefix + r: v for r, v in self._root_defaults.items()}
        self._optional = {prefix + r for r in self._roots if r in self._sig.defaults}  # func has a default
        indep = tuple(v for v in self.independent_vars if v not in self._indep_defaults)
        fixed = {**self._indep_defaults, **self.opts}
        self.eval_fn = ModelFunction(self.func, prefix, tuple(self._roots), indep,
                                     tuple(sorted(fixed.items())))

    @property
    def name(self):
        """lmfit's name: ``Model(func)``, with the prefix and options."""
        extra = [f"prefix='{self._prefix}'"] if self._prefix else []
        extra += [f"{k}='{v}'" for k, v in self.opts.items()]
        return f"Model({', '.join([str(self._name)] + extra)})"

    @name.setter
    def name(self, value):
        self._name = value

    def __repr__(self):
        return f"<batchfit.Model: {self.name}>"

    def _label(self):
        """The label reports and saved results carry: lmfit's name."""
        return self.name

    def _with_options(self, static: dict):
        """This model with the independent variables in ``static`` compiled
        in as fixed options (the others stay arrays)."""
        fixed = {v: static[v] for v in self.independent_vars if v in static}
        if not fixed and not self._indep_defaults:
            return self
        m = copy.copy(self)
        m.independent_vars = [v for v in self.independent_vars if v not in fixed]
        m._indep_defaults = {}
        opts = {**self._indep_defaults, **self.opts, **fixed}
        m.eval_fn = ModelFunction(self.func, self._prefix, tuple(self._roots), tuple(m.independent_vars),
                                  tuple(sorted(opts.items())))
        return m

    def set_param_hint(self, name, **hint):
        """Fields (``value``, ``vary``, ``min``, ``max``, ``expr``) that
        :meth:`make_params` gives parameter ``name`` (with or without the
        prefix); a name that is no argument of func adds a derived parameter
        (usually with an ``expr``)."""
        _hints.set_hint(self, name, hint)

    def print_param_hints(self, colwidth=8):
        """Print the hints as lmfit does."""
        print("\n".join(_hints.hint_lines(self, colwidth)))

    def _all_names(self):
        extra = [self.prefix + h for h in self.param_hints]
        return self.param_names + [n for n in extra if n not in self.param_names]

    def make_params(self, verbose=False, **init) -> Parameters:
        """Parameters for this model: func's defaults, then its hints
        (bounds, derived parameters), then each keyword (a full or
        unprefixed name): a value, a dict of fields or a Parameter."""
        return _hints.make_params(self, verbose, **init)

    def eval(self, params=None, **kwargs):
        """Evaluate the model; ``params`` values may be overridden by
        keywords, and ties (``expr``) follow the overrides, as in lmfit.

        Parameter values of shape (N,) (a batch fit's ``result.params``)
        give N curves, shape (N, m); independent variables may then be
        (m,) or (N, m).
        """
        over = {k: kwargs[k] for k in kwargs if k in self.param_names}
        if params is not None:
            if over and any(p.expr is not None for p in params.values()):
                params = params.copy()
                for k, v in over.items():
                    if k in params:
                        params[k].value = v
            values = dict(params.valuesdict())
        else:
            values = {}
        values.update(over)
        for n, d in self._defaults.items():
            values.setdefault(n, d)
        values = {n: values[n] for n in self.param_names if values.get(n) is not None}
        missing = [n for n in self.param_names if n not in values and n not in self._optional]
        if missing:
            raise ValueError(f"Model {self._name!r}: no value for parameter(s) {missing}")
        model = self._with_options(static_options(self, kwargs))
        indep = {}
        for v in model.independent_vars:
            if v not in kwargs:
                raise ValueError(f"Model {self._name!r}: independent variable {v!r} not given")
            indep[v] = kwargs[v]
        dt = resolve_dtype(None, *[np.asarray(a) for a in indep.values()])
        with x64_context(dt):
            return evaluate(model.eval_fn, values, indep, dt)

    def eval_components(self, params=None, **kwargs) -> dict:
        """Each component's curve, keyed by its prefix (or name if none)."""
        return {self.prefix or self._name: self.eval(params, **kwargs)}

    def guess(self, data, **kwargs) -> Parameters:
        """Starting values estimated from data (built-in models only)."""
        raise NotImplementedError(f"guess() is not implemented for Model {self._name!r}")

    _composite = None  # CompositeModel, set where it is defined (fitting/_composite.py)

    def _combine(self, other, op):
        if not isinstance(other, Model):
            return NotImplemented
        return self._composite(self, other, op)

    def __add__(self, other):
        return self._combine(other, operator.add)

    def __sub__(self, other):
        return self._combine(other, operator.sub)

    def __mul__(self, other):
        return self._combine(other, operator.mul)

    def __truediv__(self, other):
        return self._combine(other, operator.truediv)

    @lmfit_arguments
    @complex_data
    def fit(self, data, params=None, weights=None, method="leastsq", *, nan_policy=None,
            scale_covar=None, statistic="chi2", loss="linear", f_scale=1.0, max_nfev=None,
            ftol=None, xtol=None, gtol=None, dtype=None,
            config=None, shared=None, group_solver="auto", chunk_size=None, checkpoint=None,
            progress=None, n_starts=1, seed=None, fit_kws=None, **kwargs):
        """Fit ``data`` of shape (m,) once, or (N, m) as N fits in one call.

        Args:
          data: (m,), (N, m), or a list of 1-D arrays of unequal length;
            complex data is fitted by the residual's real and imaginary parts.
          params: :class:`Parameters` (default: :meth:`make_params`); array
            values of shape (N,) give per-fit starts and bounds.
          weights: multiply the residual (1/sigma): scalar, (m,), (N, m).
          method: ``"leastsq"`` (LM; lmfit's ``"least_squares"`` runs the
            same solver) or ``"gauss_newton"``, or a scalar
            method run through optax as in :func:`minimize` (``"lbfgs"``,
            ``"adam"``, ...): the sum of squares of the weighted residual
            is minimised, with lmfit's scalar-method statistics.
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
          n_starts: starts per fit (default 1): the given one and
            ``n_starts - 1`` drawn with ``seed``, all fitted in one batch;
            each fit keeps its best (see :mod:`batchfit.inference`).
          seed: seed of the drawn starts (default 0).
          fit_kws: lmfit's solver keywords as a dict: ``maxfev``, ``xtol``,
            ``ftol``, ``gtol`` (and :class:`LMConfig` fields); ``epsfcn`` is
            accepted and unused (Jacobians are exact, by autodiff).
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
            raise ValueError(f"Model {self._name!r}.fit: independent variable(s) {missing} not given")
        extra = sorted(set(kwargs) - set(self.independent_vars))
        if extra:
            raise TypeError(f"Model {self._name!r}.fit: unexpected keyword(s) {extra}")
        missing_p = [n for n in self.param_names if n not in params]
        if missing_p:
            raise ValueError(f"Model {self._name!r}.fit: params lacks {missing_p}")
        method = canonical_method(method)
        if method in SCALAR_METHODS:  # optax, as minimize (fitting/_model_scalar.py)
            from ._model_scalar import fit_scalar

            return fit_scalar(self, data, params, {v: kwargs[v] for v in self.independent_vars}, weights,
                              method, nan_policy=nan_policy or self.nan_policy, scale_covar=scale_covar,
                              max_nfev=max_nfev, ftol=ftol, gtol=gtol, dtype=dtype, fit_kws=fit_kws,
                              refused=(shared, statistic, loss, n_starts))
        opts = solver_options(fit_kws, f"Model {self._name!r}.fit")
        opts.update({k: v for k, v in {"max_nfev": max_nfev, "ftol": ftol, "xtol": xtol, "gtol": gtol}.items()
                     if v is not None})
        cfg = make_config(method, config, **opts)
        est = make_estimator(statistic, loss, f_scale, weights=weights, label=f"Model {self._name!r}.fit")
        if scale_covar is None:
            scale_covar = est.statistic != "cstat"
        indep = {v: kwargs[v] for v in self.independent_vars}
        if not (type(n_starts) is int and n_starts == 1) or seed is not None:
            from ..inference._multistart_fit import group_multistart, model_multistart

            opts = {"method": method, "nan_policy": nan_policy, "scale_covar": scale_covar,
                    "max_nfev": max_nfev, "ftol": ftol, "xtol": xtol, "gtol": gtol, "dtype": dtype,
                    "config": config, "shared": shared, "group_solver": group_solver,
                    "chunk_size": chunk_size, "checkpoint": checkpoint, "progress": progress,
                    "fit_kws": fit_kws, "statistic": statistic, "loss": loss, "f_scale": f_scale}
            run = model_multistart if shared is None else group_multistart
            return run(self, data, params, weights, n_starts, seed, indep, opts)
        if shared is not None and (chunk_size is not None or checkpoint is not None):
            raise ValueError(f"Model {self._name!r}.fit: chunk_size and checkpoint are not supported with shared=")
        if shared is not None:
            from ..groups._fit import fit_groups

            return fit_groups(self, data, params, indep, weights, shared, method=method,
                              nan_policy=nan_policy or self.nan_policy, cfg=cfg,
                              dtype=resolve_dtype(dtype, _first_leaf(data)), scale_covar=scale_covar,
                              group_solver=group_solver, est=est)
        return fit_data(self, data, params, indep, weights, cfg, dtype, method,
                        nan_policy or self.nan_policy, scale_covar, chunk_size, checkpoint, progress,
                        est=est)


def _first_leaf(data):
    """The first dataset of (possibly nested, ragged) data, for its dtype."""
    while isinstance(data, (list, tuple)) and len(data):
        data = data[0]
    return np.asarray(data)
