"""Lines shared by the text reports: numbers, statistics, variables, correlations, status."""

from __future__ import annotations

import numpy as np

from ..solver import RESULTS


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


def _statistic_names(result) -> tuple[str, str]:
    """What ``chisqr`` holds: chi-square, the C-statistic (cstat) or twice
    a robust loss's cost."""
    extras = getattr(result, "extras", {})
    if extras.get("statistic") == "cstat":
        return "C-statistic        ", "reduced C-statistic"
    if extras.get("loss", "linear") != "linear":
        return f"2 cost ({extras['loss']})".ljust(19), "reduced 2 cost     "
    return "chi-square         ", "reduced chi-square "


def _estimator_lines(result) -> list[str]:
    """For batch summaries: what was minimised, unless chi-square."""
    extras = getattr(result, "extras", {})
    if extras.get("statistic") == "cstat":
        return ["    statistic          = C-statistic (Poisson counts; chisqr holds C)"]
    if extras.get("loss", "linear") != "linear":
        loss = f"{extras['loss']} (f_scale = {extras['f_scale']:g}; chisqr holds 2 cost)"
        return [f"    loss               = {loss}"]
    return []


def _stat_lines(result) -> list[str]:
    stat, red = _statistic_names(result)
    return [
        f"    # fitting method   = {result.method}",
        f"    # function evals   = {int(result.nfev)}",
        f"    # data points      = {int(result.ndata)}",
        f"    # variables        = {result.nvarys}",
        f"    {stat}= {gformat(result.chisqr).strip()}",
        f"    {red}= {gformat(result.redchi).strip()}",
        f"    Akaike info crit   = {gformat(result.aic).strip()}",
        f"    Bayesian info crit = {gformat(result.bic).strip()}",
    ]


def _var_line(n, p, width, free: bool, errorbars: bool = True) -> str:
    """``name: value +/- stderr (rel%) (init = ...)``, ``== 'expr'`` or ``(fixed)``;
    no ``+/- stderr`` where the fit's ``errorbars`` is False."""
    head = f"    {n}:{' ' * (width - len(n))} "
    if not free and p.expr is None:
        return f"{head} {float(p.value): .7g} (fixed)"
    sval = gformat(p.value)
    if errorbars and p.stderr is not None and np.isfinite(p.stderr):
        rel = f" ({abs(p.stderr / p.value):.2%})" if p.value != 0 else ""
        sval = f"{sval} +/-{gformat(p.stderr)}{rel}"
    if p.expr is not None:
        return f"{head}{sval} == '{p.expr}'"
    note = ""
    if np.isclose(p.value, p.min, rtol=1e-8, atol=0) or np.isclose(p.value, p.max, rtol=1e-8, atol=0):
        note = " (at boundary)"
    return f"{head}{sval} (init = {float(p.init_value):.7g}){note}"


def _correl_lines(names, C, min_correl) -> list[str]:
    corr = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if abs(C[i, j]) > min_correl:
                corr.append((f"{names[i]}, {names[j]}", C[i, j]))
    if not corr:
        return []
    corr.sort(key=lambda t: -abs(t[1]))
    w = max(len(k) for k, _ in corr)
    return ([f"[[Correlations]] (unreported correlations are < {min_correl:.3f})"]
            + [f"    C({k}){' ' * (w - len(k))} = {v:+.4f}" for k, v in corr])


def _status_lines(result) -> list[str]:
    out = ["[[Status]]"]
    for name, k in sorted(result.summary_counts().items(), key=lambda t: -t[1]):
        out.append(f"    {name:<16s} {k:>10d}  {RESULTS[name].message}")
    return out


def _distribution_lines(rows, ok) -> list[str]:
    """Median and 5%/95% quantiles of each (name, values) row over the
    successful fits (rows whose leading axis matches ``ok``)."""
    out = ["[[Distribution over successful fits]] (median, 5% and 95% quantiles)"]
    width = max(len(r[0]) for r in rows)
    for nm, v in rows:
        v = np.asarray(v)
        v = v[ok] if v.shape[:1] == ok.shape else v
        v = v[np.isfinite(v)]
        if v.size == 0:
            out.append(f"    {nm:<{width}s}  (no successful fit)")
            continue
        q = np.quantile(v, [0.5, 0.05, 0.95])
        out.append(f"    {nm:<{width}s}  {gformat(q[0])}  [{gformat(q[1])}, {gformat(q[2])}]")
    return out
