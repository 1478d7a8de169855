"""Text reports: lmfit's layout for one fit, a summary table for a batch."""

from __future__ import annotations

import numpy as np

from ..groups._result import GroupFitResult
from ._format import (
    _correl_lines,
    _distribution_lines,
    _estimator_lines,
    _stat_lines,
    _status_lines,
    _var_line,
)
from ._group import group_report


def _single(result, show_correl=True, min_correl=0.1) -> str:
    params = result.params
    names = list(params)
    width = max(len(n) for n in names)
    out = ["[[Fit Statistics]]"] + _stat_lines(result)
    if not result.success:
        out.append(f"##  Warning: fit did not converge: {result.message}")
    if not result.errorbars:
        if result.success:
            out.append("##  Warning: uncertainties could not be estimated:")
        else:  # a covariance at the last point of an unconverged fit is no uncertainty
            out.append("##  Warning: uncertainties not reported: the fit did not converge")
        for n in result.var_names:
            p = params[n]
            if p.init_value is not None and np.isclose(p.value, p.init_value, rtol=1e-10, atol=0):
                out.append(f"    {n}:{' ' * (width - len(n))}  at initial value")
            if np.isclose(p.value, p.min) or np.isclose(p.value, p.max):
                out.append(f"    {n}:{' ' * (width - len(n))}  at boundary")
        if result.success:
            out.append("    (one or more variables did not affect the fit)")
    out.append("[[Variables]]")
    out += [_var_line(n, params[n], width, n in result.var_names, bool(result.errorbars)) for n in names]
    if show_correl and result.errorbars:
        out += _correl_lines(result.var_names, result.correl, min_correl)
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


def fit_report(result, show_correl=True, min_correl=0.1) -> str:
    """lmfit-style report of a single fit, or a summary of a batch.

    Sections for one fit: ``[[Fit Statistics]]``, ``[[Variables]]`` (value
    +/- stderr (relative %) (init = ...), ``== 'expr'`` or ``(fixed)``) and
    ``[[Correlations]]`` above ``min_correl``, largest first. For a batch:
    counts by status and the distribution of each parameter and of redchi.
    Index a batch (``result[i]``) for the full report of one fit.
    """
    if isinstance(result, GroupFitResult):
        return group_report(result, show_correl, min_correl)
    if result.batched and len(result) != 1:
        return _batch(result)
    return _single(result if not result.batched else result[0], show_correl, min_correl)
