"""Reports of shared-parameter group fits (lmfit's layout, grouped)."""

from __future__ import annotations

import numpy as np

from ..params import Parameter
from ..stats._compute import correlations
from ._format import (
    _correl_lines,
    _distribution_lines,
    _estimator_lines,
    _stat_lines,
    _status_lines,
    _var_line,
    gformat,
)

MAX_LISTED = 12  # per-dataset parameters are listed one by one up to this many datasets


def _header(result) -> list[str]:
    per = ", ".join(result.local_names) or "(none)"
    return [
        "[[Group]]",
        f"    # datasets         = {result.ndatasets}",
        f"    shared             = {', '.join(result.shared_names) or '(none)'}",
        f"    per dataset        = {per}" + (
            f" (listed as name_0 ... name_{result.ndatasets - 1})" if result.local_names else ""),
        f"    solver             = {result.solver}",
    ]


def _vary_k(p, k) -> bool:
    """Whether dataset k's copy of a per-dataset parameter varies."""
    return bool(p.vary[..., k].all()) if isinstance(p.vary, np.ndarray) else p.vary


def _local_param(p, k):
    q = Parameter(f"{p.name}_{k}", float(p.value[k]), vary=_vary_k(p, k), min=p.min if np.ndim(p.min) == 0
                  else float(p.min[k]), max=p.max if np.ndim(p.max) == 0 else float(p.max[k]),
                  expr=p.expr)
    q.stderr = float(p.stderr[k])
    q.init_value = float(p.init_value[k])
    return q


def _one_group(result, show_correl, min_correl) -> str:
    params = result.params
    out = _header(result) + ["[[Fit Statistics]]"] + _stat_lines(result)
    if not result.success:
        out.append(f"##  Warning: fit did not converge: {result.message}")
    if not result.errorbars:
        out.append("##  Warning: uncertainties could not be estimated "
                   "(one or more variables did not affect the fit)" if result.success else
                   "##  Warning: uncertainties not reported: the fit did not converge")
    K = result.ndatasets
    width = max(len(n) for n in params) + len(str(K - 1)) + 1
    out.append("[[Variables]]")
    eb = bool(result.errorbars)
    out += [_var_line(n, params[n], width, params[n].vary, eb) for n in result.shared_names]
    if K <= MAX_LISTED:
        for n in result.local_names:
            out += [_var_line(f"{n}_{k}", _local_param(params[n], k), width, _vary_k(params[n], k), eb)
                    for k in range(K)]
    else:
        rows = [(n, params[n].value) for n in result.local_names]
        rows += [(f"{n} stderr", params[n].stderr) for n in result.local_names if eb]
        out += [f"    per dataset (over {K} datasets: median, 5% and 95% quantiles)"]
        out += _distribution_lines(rows, np.ones(K, bool))[1:]
    if show_correl and result.errorbars:
        if result.covar is not None:
            out += _correl_lines(result.var_names, result.correl, min_correl)
        elif result.covar_shared is not None:
            names = [n for n in result.shared_names if params[n].vary and params[n].expr is None]
            out += _correl_lines(names, correlations(result.covar_shared), min_correl)
    return "\n".join(out)


def group_report(result, show_correl=True, min_correl=0.1) -> str:
    """The report of one group (lmfit's layout, shared variables first), or
    a summary over G groups."""
    if not result.batched or len(result) == 1:
        return _one_group(result if not result.batched else result[0], show_correl, min_correl)
    ok = np.asarray(result.success)
    out = _header(result)
    out[0] = "[[Group Batch Summary]]"
    out += [
        f"    # groups           = {len(result)}",
        f"    # succeeded        = {int(ok.sum())} ({ok.mean():.2%})",
        f"    # fitting method   = {result.method}",
        f"    # variables        = {result.nvarys} per group",
        f"    function evals     = median {np.median(result.nfev):.0f}, max {np.max(result.nfev)}",
    ] + _estimator_lines(result)
    out += _status_lines(result)
    rows = [(n, result.params[n].value) for n in result.params]
    rows.append(("redchi", result.redchi))
    out += _distribution_lines(rows, ok)
    return "\n".join(out)


__all__ = ["group_report", "gformat"]
