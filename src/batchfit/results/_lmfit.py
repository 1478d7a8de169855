"""lmfit's names on a FitResult: ``values``, ``best_values``, ``init_values``,
``init_params``, ``init_fit``, ``userkws``, ``rsquared``, ``summary()``,
``eval``, ``eval_components``, ``fit_report`` and the plot methods.

As in lmfit, ``values`` holds every parameter (tied ones included) while
``best_values`` and ``init_values`` hold the model function's arguments
(a ``Model`` fit) or, for ``minimize``, the parameters that are not tied
(``init_values``: the varying ones, as lmfit's ``MinimizerResult``). For a
batch every value is an array over the fits.
"""

from __future__ import annotations

import numpy as np

from ..solver import RESULTS


def _plain(v):
    """``v`` as plain Python data (summary() is JSON-ready)."""
    if isinstance(v, dict):
        return {k: _plain(u) for k, u in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(u) for u in v]
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v


class LmfitView:
    """Mixin for :class:`FitResult`: lmfit's ``ModelResult`` attributes."""

    # -- values -----------------------------------------------------------
    @property
    def values(self) -> dict:
        """Name -> fitted value of every parameter (tied ones included)."""
        return {n: self._get_arr(self._a["values_all"][:, j]) for j, n in enumerate(self._spec.names)}

    def _arg_names(self):
        """The model function's parameter names (lmfit's best_values keys)."""
        model = self.extras.get("model")
        names = getattr(model, "param_names", None) or self.extras.get("model_param_names")
        if names is not None:
            return [n for n in names if n in self._spec.names]
        tied = {n for n, _ in self._spec.tied}
        return [n for n in self._spec.names if n not in tied]

    @property
    def best_values(self) -> dict:
        """Name -> fitted value of the model function's arguments; derived
        parameters (tied ones that are no argument) are left out, as in lmfit.
        A ``minimize`` result has no model: every parameter that is not tied."""
        v = self.values
        return {n: v[n] for n in self._arg_names()}

    @property
    def init_params(self):
        """The Parameters at the starting point (tied values by their expressions)."""
        out = self._template.copy()
        spec = self._spec
        for j, n in enumerate(spec.names):
            if n in spec.free:
                out[n].value = self._get_arr(self._a["init_vals"][:, spec.free.index(n)])
            elif n in spec.fixed:
                out[n].value = self._get_arr(self._a["values_all"][:, j])
        for n, v in out.valuesdict().items():
            if out[n].expr is not None:
                out[n].value = v
        return out

    @property
    def init_values(self) -> dict:
        """Starting values: of the model function's arguments for a Model fit,
        of the varying parameters (``var_names``) for ``minimize``, as lmfit."""
        if self.extras.get("model") is None and self.extras.get("model_param_names") is None:
            return {n: self._get_arr(self._a["init_vals"][:, k]) for k, n in enumerate(self._spec.free)}
        v = self.init_params.valuesdict()
        return {n: v[n] for n in self._arg_names()}

    @property
    def aborted(self):
        """lmfit's ``aborted``: the fit stopped at ``max_nfev`` before converging."""
        a = np.asarray(self._a["status"]) == int(RESULTS.MAX_NFEV)
        return a if self.batched else bool(a[0])

    # -- the model at hand ------------------------------------------------
    @property
    def userkws(self) -> dict:
        """The independent variables of a Model fit (``{}`` for minimize)."""
        out = {}
        for k, v in (self.extras.get("indep") or {}).items():
            a = np.asarray(v)
            out[k] = a[0] if (not self.batched and a.ndim >= 2 and a.shape[0] == 1) else v
        return out

    def _model(self, what):
        model = self.extras.get("model")
        if model is None:
            raise ValueError(f"{what} needs the Model, which this result does not hold "
                             "(a minimize result, or one loaded from a file)")
        return model

    def eval(self, params=None, **kwargs):
        """The model at ``params`` (default: the fitted ones) and the fit's
        independent variables, which keywords may override (lmfit's
        ``ModelResult.eval``)."""
        kw = self.userkws | kwargs
        return self._model("eval").eval(self.params if params is None else params, **kw)

    def eval_components(self, params=None, **kwargs) -> dict:
        """Each component's curve (prefix -> array), as lmfit's."""
        kw = self.userkws | kwargs
        return self._model("eval_components").eval_components(self.params if params is None else params, **kw)

    @property
    def init_fit(self):
        """The model at the starting values (None without a Model)."""
        if self.extras.get("model") is None:
            return None
        return np.asarray(self.eval(self.init_params))

    @property
    def rsquared(self):
        """``1 - sum((data - best_fit)^2) / sum((data - mean)^2)`` over the
        valid points (lmfit's, unweighted); None without data."""
        y, best = self.extras.get("data"), self.extras.get("best_fit")
        if y is None or best is None:
            return None
        if np.iscomplexobj(y) or np.iscomplexobj(best):  # complex data: |.|^2 (lmfit's is complex)
            y, best = np.asarray(y, dtype=complex), np.asarray(best, dtype=complex)
        else:
            y, best = np.asarray(y, dtype=float), np.asarray(best, dtype=float)
        mask = self.extras.get("mask")
        keep = np.ones(y.shape, bool) if mask is None else np.asarray(mask, bool)
        keep = keep & np.isfinite(best)
        n = keep.sum(axis=1)
        mean = np.where(keep, y, 0).sum(axis=1) / np.maximum(n, 1)
        ss_res = np.where(keep, np.abs(y - best) ** 2, 0).sum(axis=1)
        ss_tot = np.where(keep, np.abs(y - mean[:, None]) ** 2, 0).sum(axis=1)
        r2 = 1.0 - ss_res / np.maximum(ss_tot, np.finfo(float).tiny)
        return r2 if self.batched else float(r2[0])

    # -- lmfit's summary and report -----------------------------------------
    def summary(self) -> dict:
        """lmfit's ``ModelResult.summary()``: statistics, options, ``var_names``,
        ``init_values``, ``best_values`` and ``params`` as a list of
        ``(name, value, vary, expr, min, max, brute_step, stderr, correl,
        init_value, user_data)``; plain Python objects (lists for a batch)."""
        model = self.extras.get("model")
        out = {"model": (model._label() if model is not None else self.extras.get("model_label")),
               "method": self.method}
        for k in ("ndata", "nvarys", "nfree", "chisqr", "redchi", "aic", "bic", "rsquared", "nfev"):
            out[k] = _plain(getattr(self, k))
        out.update(max_nfev=self.extras.get("max_nfev"), aborted=_plain(self.aborted),
                   errorbars=_plain(self.errorbars),
                   success=_plain(self.success), message=_plain(self.message),
                   lmdif_message=_plain(self.message), ier=_plain(self.status),
                   status=(RESULTS(int(self.status)).name if not self.batched
                           else [RESULTS(int(c)).name for c in self.status]),
                   nan_policy=self.extras.get("nan_policy"), scale_covar=self.extras.get("scale_covar"),
                   calc_covar=True, ci_out=None, col_deriv=False, flatchain=None, call_kws=None,
                   var_names=list(self.var_names), user_options=None, kws=None,
                   init_values=_plain(self.init_values), best_values=_plain(self.best_values))
        params = []
        for n, p in self.params.items():
            params.append((n, _plain(p.value), bool(p.vary), p.expr, _plain(p.min), _plain(p.max), None,
                           _plain(p.stderr), _plain(getattr(p, "correl", None)),
                           _plain(getattr(p, "init_value", None)), None))
        out["params"] = params
        return out

    def fit_report(self, **kwargs) -> str:
        """The text report (see :func:`batchfit.fit_report` for the keywords)."""
        from ..report._text import fit_report

        return fit_report(self, **kwargs)

    def plot_fit(self, ax=None, **kwargs):
        """Data, best fit (and initial fit) on one Axes, lmfit's ``plot_fit``
        (see :func:`batchfit.report.plot_fit_axes`)."""
        from ..report._axes import plot_fit_axes

        return plot_fit_axes(self, ax=ax, **kwargs)

    def plot_residuals(self, ax=None, **kwargs):
        """Residuals (model - data) on one Axes, lmfit's ``plot_residuals``
        (see :func:`batchfit.report.plot_residuals_axes`)."""
        from ..report._axes import plot_residuals_axes

        return plot_residuals_axes(self, ax=ax, **kwargs)
