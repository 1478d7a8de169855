"""Text reports: lmfit's layout for one fit, a summary table for a batch."""

from __future__ import annotations

import numpy as np

from .solver import RESULTS


def gformat(val, length=11):
    """A number in about ``length`` characters, lmfit-report style."""
    if val is None:
        return "None"
    val = float(val)
    if not np.isfinite(val):
        return str(val)
    expon = int(np.floor(np.log10(abs(val)))) if val != 0 else 0
    if -4 <= expon < length - 4:
        return f"{val: .{max(length - 2 - max(expon + 1, 1), 0)}f}"
    return f"{val: .{length - 7}e}"


def _single(result, show_correl=True, min_correl=0.1) -> str:
    params = result.params
    names = list(params)
    width = max(len(n) for n in names)
    out = [
        "[[Fit Statistics]]",
        f"    # fitting method   = {result.method}",
        f"    # function evals   = {int(result.nfev)}",
        f"    # data points      = {int(result.ndata)}",
        f"    # variables        = {result.nvarys}",
        f"    chi-square         = {gformat(result.chisqr).strip()}",
        f"    reduced chi-square = {gformat(result.redchi).strip()}",
        f"    Akaike info crit   = {gformat(result.aic).strip()}",
        f"    Bayesian info crit = {gformat(result.bic).strip()}",
    ]
    if not result.success:
        out.append(f"##  Warning: fit did not converge: {result.message}")
    if not result.errorbars:
        out.append("##  Warning: uncertainties could not be estimated:")
        for n in result.var_names:
            p = params[n]
            if p.init_value is not None and np.isclose(p.value, p.init_value, rtol=1e-10, atol=0):
                out.append(f"    {n}:{' ' * (width - len(n))}  at initial value")
            if np.isclose(p.value, p.min) or np.isclose(p.value, p.max):
                out.append(f"    {n}:{' ' * (width - len(n))}  at boundary")
        out.append("    (one or more variables did not affect the fit, or the fit failed)")
    out.append("[[Variables]]")
    for n in names:
        p = params[n]
        head = f"    {n}:{' ' * (width - len(n))} "
        if n not in result.var_names and p.expr is None:
            out.append(f"{head} {float(p.value): .7g} (fixed)")
            continue
        sval = gformat(p.value)
        if p.stderr is not None and np.isfinite(p.stderr):
            rel = f" ({abs(p.stderr / p.value):.2%})" if p.value != 0 else ""
            sval = f"{sval} +/-{gformat(p.stderr)}{rel}"
        if p.expr is not None:
            out.append(f"{head}{sval} == '{p.expr}'")
        else:
            note = ""
            if np.isclose(p.value, p.min, rtol=1e-8, atol=0) or np.isclose(p.value, p.max, rtol=1e-8, atol=0):
                note = " (at boundary)"
            out.append(f"{head}{sval} (init = {float(p.init_value):.7g}){note}")
    if show_correl and result.errorbars:
        corr = []
        vn = result.var_names
        C = result.correl
        for i in range(len(vn)):
            for j in range(i + 1, len(vn)):
                if abs(C[i, j]) > min_correl:
                    corr.append((f"{vn[i]}, {vn[j]}", C[i, j]))
        corr.sort(key=lambda t: -abs(t[1]))
        if corr:
            out.append(f"[[Correlations]] (unreported correlations are < {min_correl:.3f})")
            w = max(len(k) for k, _ in corr)
            out += [f"    C({k}){' ' * (w - len(k))} = {v:+.4f}" for k, v in corr]
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
        "[[Status]]",
    ]
    for name, k in sorted(result.summary_counts().items(), key=lambda t: -t[1]):
        out.append(f"    {name:<16s} {k:>10d}  {RESULTS[name].message}")
    out.append("[[Distribution over successful fits]] (median, 5% and 95% quantiles)")
    rows = [(nm, np.asarray(result.params[nm].value)) for nm in result.params]
    rows.append(("redchi", np.asarray(result.redchi)))
    width = max(len(r[0]) for r in rows)
    for nm, v in rows:
        v = v[ok] if v.shape == ok.shape else v
        v = v[np.isfinite(v)]
        if v.size == 0:
            out.append(f"    {nm:<{width}s}  (no successful fit)")
            continue
        q = np.quantile(v, [0.5, 0.05, 0.95])
        out.append(f"    {nm:<{width}s}  {gformat(q[0])}  [{gformat(q[1])}, {gformat(q[2])}]")
    return "\n".join(out)


def fit_report(result, show_correl=True, min_correl=0.1) -> str:
    """lmfit-style report of a single fit, or a summary of a batch.

    Sections for one fit: ``[[Fit Statistics]]``, ``[[Variables]]`` (value
    +/- stderr (relative %) (init = ...), ``== 'expr'`` or ``(fixed)``) and
    ``[[Correlations]]`` above ``min_correl``, largest first. For a batch:
    counts by status and the distribution of each parameter and of redchi.
    Index a batch (``result[i]``) for the full report of one fit.
    """
    if result.batched and len(result) != 1:
        return _batch(result)
    return _single(result if not result.batched else result[0], show_correl, min_correl)
