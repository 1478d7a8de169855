"""Text reports: lmfit's layout for one fit, a summary table for a batch."""

from __future__ import annotations

import numpy as np

from ..params import Parameters
from ._format import (
    _correl_lines,
    _correl_table,
    _distribution_lines,
    _estimator_lines,
    _stat_lines,
    _status_lines,
    _var_line,
)
from ._group import group_report


def _names(params, sort_pars):
    if not sort_pars:
        return list(params)
    return sorted(params, key=sort_pars if callable(sort_pars) else _alphanumeric)


def _alphanumeric(name):
    """lmfit's ``alphanumeric_sort`` key: digits compare as numbers."""
    import re

    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _model_line(result) -> list[str]:
    model = result.extras.get("model")
    label = model._label() if model is not None else result.extras.get("model_label")
    return [] if label is None else ["[[Model]]", f"    {label}"]


def _single(result, modelpars=None, show_correl=True, min_correl=0.1, sort_pars=False,
            correl_mode="list") -> str:
    params = result.params
    names = _names(params, sort_pars)
    width = max(len(n) for n in names)
    out = _model_line(result) + ["[[Fit Statistics]]"] + _stat_lines(result)
    if not result.success:
        out.append(f"##  Warning: fit did not converge: {result.message}")
    if not result.errorbars:
        if result.success:
            out.append("##  Warning: uncertainties could not be estimated:")
        else:  # a covariance at the last point of an unconverged fit is no uncertainty
            out.append("##  Warning: uncertainties not reported: the fit did not converge")
        for n in [n for n in names if n in result.var_names]:
            p = params[n]
            if p.init_value is not None and np.isclose(p.value, p.init_value, rtol=1e-10, atol=0):
                out.append(f"    {n}:{' ' * (width - len(n))}  at initial value")
            if np.isclose(p.value, p.min) or np.isclose(p.value, p.max):
                out.append(f"    {n}:{' ' * (width - len(n))}  at boundary")
        if result.success:
            out.append("    (one or more variables did not affect the fit)")
    out.append("[[Variables]]")
    out += [_var_line(n, params[n], width, n in result.var_names, bool(result.errorbars), modelpars)
            for n in names]
    if show_correl and result.errorbars:
        var = [n for n in names if n in result.var_names]
        order = [result.var_names.index(n) for n in var]
        C = np.asarray(result.correl)[np.ix_(order, order)]
        out += _correl_table(var, C) if correl_mode.startswith("tab") else _correl_lines(var, C, min_correl)
    return "\n".join(out)


def _params_only(params, modelpars, show_correl, min_correl, sort_pars, correl_mode) -> str:
    """lmfit's report of a bare Parameters: the variables (and correlations)."""
    names = _names(params, sort_pars)
    width = max(len(n) for n in names)
    out = ["[[Variables]]"]
    out += [_var_line(n, params[n], width, params[n].vary and params[n].expr is None,
                      True, modelpars) for n in names]
    var = [n for n in names if params[n].vary and params[n].expr is None]
    if show_correl and var:
        C = np.eye(len(var))
        for i, n in enumerate(var):
            for j, m in enumerate(var):
                c = (getattr(params[n], "correl", None) or {}).get(m)
                if i != j and c is not None:
                    C[i, j] = float(c)
        out += _correl_table(var, C) if correl_mode.startswith("tab") else _correl_lines(var, C, min_correl)
    return "\n".join(out)


def _batch(result) -> str:
    n = len(result)
    ok = np.asarray(result.success)
    out = [
        "[[Batch Summary]]",
        f"    # fitting method   = {result.method}",
        f"    # fits             = {n}",
        f"    # succeeded        = {int(ok.sum())} ({ok.mean():.2%})",
        f"    # variables        = {result.nvarys}",
        f"    function evals     = median {np.median(result.nfev):.0f}, max {np.max(result.nfev)}",
    ] + _estimator_lines(result)
    noerr = np.nonzero(ok & ~np.asarray(result.errorbars, dtype=bool))[0]
    if noerr.size:
        shown = ", ".join(str(i) for i in noerr[:5]) + (", ..." if noerr.size > 5 else "")
        out.append(f"##  Warning: uncertainties could not be estimated for {noerr.size} successful "
                   f"fit(s) ({shown}): one or more variables did not affect the fit; "
                   "fit_report(result[i]) shows which")
    out += _status_lines(result)
    rows = [(nm, result.params[nm].value) for nm in result.params]
    rows.append(("redchi", result.redchi))
    return "\n".join(out + _distribution_lines(rows, ok))


def fit_report(inpars, modelpars=None, show_correl=True, min_correl=0.1, sort_pars=False,
               correl_mode="list") -> str:
    """lmfit's report of a single fit, or a summary of a batch.

    Arguments as lmfit's ``fit_report``: ``inpars`` a result or a
    :class:`Parameters`; ``modelpars`` known values (``model_value = ...``
    on each line); ``show_correl`` and ``min_correl`` the correlations
    listed; ``sort_pars`` True (alphanumeric) or a key function for the
    order of the parameters; ``correl_mode`` ``"list"`` or ``"table"``.

    Sections for one fit: ``[[Model]]`` (Model fits), ``[[Fit Statistics]]``
    (with ``R-squared`` for Model fits), ``[[Variables]]`` (value +/- stderr
    (relative %) (init = ...), ``== 'expr'`` or ``(fixed)``) and
    ``[[Correlations]]`` above ``min_correl``, largest first; numbers as
    lmfit formats them. For a batch: counts by status and the distribution
    of each parameter and of redchi. Index a batch (``result[i]``) for the
    full report of one fit.
    """
    if correl_mode not in ("list", "table"):
        raise ValueError(f"fit_report: correl_mode must be 'list' or 'table', got {correl_mode!r}")
    if hasattr(inpars, "shared_names"):  # a GroupFitResult (duck-typed: report sits above groups)
        return group_report(inpars, show_correl, min_correl)
    if isinstance(inpars, Parameters):
        return _params_only(inpars, modelpars, show_correl, min_correl, sort_pars, correl_mode)
    if inpars.batched and len(inpars) != 1:
        return _batch(inpars)
    return _single(inpars if not inpars.batched else inpars[0], modelpars, show_correl, min_correl,
                   sort_pars, correl_mode)


def report_fit(inpars, **kwargs) -> None:
    """Print :func:`fit_report` of a result or Parameters (lmfit's ``report_fit``)."""
    print(fit_report(inpars, **kwargs))
