"""Fit results: plain arrays with a leading batch axis, lmfit-style access.

A single fit is a batch of one: attribute access then returns scalars.
``result[i]`` is the single-fit result of dataset i.
"""

from __future__ import annotations

import numpy as np

from ..params import Parameters
from ..problem._pack import ParamSpec
from ._base import ARRAYS, StatusView, check_index
from ._lazy import LazyDict, LazyRows, take
from ._lmfit import LmfitView


class FitResult(StatusView, LmfitView):
    """Result of ``minimize`` or ``Model.fit``.

    Attributes (arrays over the batch, scalars for a single fit): ``status``
    (:class:`RESULTS` codes), ``success``, ``message``, ``nfev``, ``ndata``,
    ``nvarys``, ``nfree``, ``chisqr``, ``redchi``, ``aic``, ``bic``,
    ``covar`` (over ``var_names``), ``correl``, ``init_vals``, ``residual``,
    ``errorbars`` and ``params`` (a :class:`Parameters` whose values and
    stderr are arrays for a batch); lmfit's ``values``, ``best_values``,
    ``init_values``, ``init_params``, ``init_fit``, ``best_fit``, ``model``,
    ``userkws``, ``rsquared``, ``summary()``, ``eval()``,
    ``eval_components()``, ``fit_report()``, ``plot_fit()`` and
    ``plot_residuals()`` (see :mod:`batchfit.results._lmfit`).
    The plain arrays over every parameter (``spec`` order, leading batch
    axis): ``values_all`` and ``stderr_all``.
    """

    def __init__(self, *, spec: ParamSpec, template: Parameters, method: str, batched: bool,
                 extras: dict | None = None, **arrays):
        missing = set(ARRAYS) - set(arrays)
        if missing:
            raise TypeError(f"FitResult missing arrays {sorted(missing)}")
        # the residual of a chunked batch (and a Model fit's best_fit extra) may be
        # LazyRows: computed when first read (results/_lazy.py)
        self._a = LazyDict({k: (v if isinstance(v, LazyRows) else np.asarray(v))
                            for k, v in ((k, arrays[k]) for k in ARRAYS)})
        self._spec = spec
        self._template = template
        self.method = method
        self.batched = batched
        self.var_names = list(spec.free)
        self.nvarys = len(spec.free)
        self.extras = LazyDict.of(extras)
        self._params = None

    # -- batch plumbing -------------------------------------------------
    def __len__(self):
        return int(self._a["status"].shape[0])

    def _get(self, key):
        return self._get_arr(self._a[key])

    def __getitem__(self, i) -> FitResult:
        n = len(self)
        i = check_index(i, n, "FitResult", "fit", f"a batch of {n}")
        extras = LazyDict.of({k: (_cut_dict(v, i, n) if isinstance(v, dict)
                                  else take(v, i, i + 1) if _per_fit(v, n) else v)
                              for k, v in self.extras.raw_items()})
        return FitResult(spec=self._spec, template=self._template, method=self.method, batched=False,
                         extras=extras, **{k: take(v, i, i + 1) for k, v in self._a.raw_items()})

    def __getattr__(self, key):
        if key.startswith("_"):
            raise AttributeError(key)
        if key in ARRAYS:
            return self._get(key)
        if key in self.__dict__.get("extras", {}):
            v = self.extras[key]
            return v if (self.batched or not isinstance(v, np.ndarray)) else v[0]
        raise AttributeError(f"FitResult has no attribute {key!r}")

    def __dir__(self):
        # the per-fit arrays and extras are served by __getattr__: list them for tab completion
        return sorted(set(super().__dir__()) | set(ARRAYS) | set(self.extras))

    # -- derived --------------------------------------------------------
    @property
    def _status(self):
        return self._a["status"]

    @property
    def correl(self):
        from ..stats._compute import correlations

        return self._get_arr(correlations(self._a["covar"]))

    def _get_arr(self, a):
        return a if self.batched else a[0]

    @property
    def params(self) -> Parameters:
        if self._params is None:
            self._params = self._build_params()
        return self._params

    def _build_params(self) -> Parameters:
        out = self._template.copy()
        spec = self._spec
        cor = self._a["covar"]
        from ..stats._compute import correlations

        corr = correlations(cor)
        for j, n in enumerate(spec.names):
            p = out[n]
            p.value = self._get_arr(self._a["values_all"][:, j])
            err = self._a["stderr_all"][:, j]
            if n in spec.free or p.expr is not None:
                p.stderr = self._get_arr(err)
            else:
                p.stderr = self._get_arr(np.zeros_like(err))
            if n in spec.free:
                k = spec.free.index(n)
                p.init_value = self._get_arr(self._a["init_vals"][:, k])
                p.correl = {m: self._get_arr(corr[:, k, i]) for i, m in enumerate(spec.free) if m != n}
        return out

    def valuesdict(self) -> dict:
        """Name -> fitted value of every parameter (as ``values``)."""
        return self.values

    def __repr__(self):
        if self.batched:
            return f"<FitResult: {len(self)} fits, {int(np.sum(self.success))} succeeded, method={self.method}>"
        return f"<FitResult: success={self.success}, chisqr={self.chisqr:.6g}, nfev={self.nfev}, method={self.method}>"

    def eval_uncertainty(self, params=None, sigma=1, **kwargs):
        """The uncertainty band of the model (lmfit's ``ModelResult.eval_uncertainty``).

        ``sigma * ...``: ``t_ppf((prob + 1) / 2, nfree) * sqrt(diag(J C Jᵀ))``
        with ``prob = erf(sigma / sqrt(2))`` (a ``sigma`` below 1 is the
        probability itself), ``C`` the covariance and ``J`` the model's exact
        Jacobian with respect to the free parameters at ``params`` (default:
        the best fit). ``**kwargs`` may give other independent variables
        (default: the fit's). Sets ``dely`` (also returned), ``dely_predicted``
        and ``dely_comps``; (N, m) for a batch. Needs a ``Model.fit`` result.
        """
        from ..inference._uncertainty import eval_uncertainty

        return eval_uncertainty(self, params, sigma, **kwargs)

    # -- export and plots (batchfit.results._export, batchfit.report) --------------
    def to_dict(self) -> dict:
        """Everything the result holds, as plain Python values and numpy
        arrays (see :func:`batchfit.results._export.to_dict` for the layout)."""
        from ._export import to_dict

        return to_dict(self)

    def to_dataframe(self):
        """pandas DataFrame, one row per fit: ``<name>``, ``<name>_stderr``,
        ``chisqr``, ``redchi``, ``aic``, ``bic``, ``nfev``, ``ndata``,
        ``status`` (name), ``success``, ``message``."""
        from ._export import to_dataframe

        return to_dataframe(self)

    def save(self, path) -> None:
        """Write to ``path``: .npz (no pickle) or .json; read back with
        :func:`batchfit.load_result`."""
        from ._export import save

        save(self, path)

    def plot(self, **kwargs):
        """Data, best fit and residuals of one fit (matplotlib Figure); see
        :func:`batchfit.report.plot_fit`. For a batch use ``result[i].plot()``.
        lmfit's keywords (``datafmt``, ``fitfmt``, ``initfmt``, ``xlabel``,
        ``ylabel``, ``yerr``, ``numpoints``, ``data_kws``, ``fit_kws``,
        ``init_kws``, ``ax_res_kws``, ``ax_fit_kws``, ``fig_kws``) draw
        lmfit's layout (residuals above the fit) instead."""
        from ..report._axes import LMFIT_PLOT_KEYS, plot_lmfit
        from ..report._plot import plot_fit

        if set(kwargs) & LMFIT_PLOT_KEYS:
            return plot_lmfit(self, **kwargs)
        return plot_fit(self, **kwargs)

    def plot_batch(self, **kwargs):
        """Overview of a batch (matplotlib Figure); see
        :func:`batchfit.report.plot_batch`."""
        from ..report._plot_batch import plot_batch

        return plot_batch(self, **kwargs)

    def plot_map(self, name, shape, **kwargs):
        """A map of parameter (or statistic) ``name`` over an image-shaped
        batch, failed fits blank; see :func:`batchfit.report.plot_map`."""
        from ..report._plot_batch import plot_map

        return plot_map(self, name, shape, **kwargs)


def _per_fit(v, n):
    """Is extra ``v`` an array (or pending rows) over the n fits?"""
    return isinstance(v, LazyRows) or (isinstance(v, np.ndarray) and v.ndim and v.shape[0] == n)


def _cut_dict(d, i, n):
    """Fit i of the arrays in a dict extra (a Model's independent variables):
    per-fit arrays there are (N, ...) with at least two axes; 1-D ones are
    shared by every fit."""
    return {k: (v[i:i + 1] if isinstance(v, np.ndarray) and v.ndim >= 2 and v.shape[0] == n else v)
            for k, v in d.items()}


def drop_covariance(result: FitResult) -> None:
    """Forget the covariance and standard errors of ``result`` (lmfit's
    ``calc_covar=False``): NaN arrays, ``errorbars`` False."""
    a = result._a
    for key in ("covar", "stderr_all"):
        a[key] = np.full(np.shape(a[key]), np.nan)
    a["errorbars"] = np.zeros(np.shape(a["errorbars"]), dtype=bool)
    result._params = None
