"""Lines shared by the text reports: numbers, statistics, variables, correlations, status."""

from __future__ import annotations

import numpy as np

from ..solver import RESULTS


def gformat(val, length=11):
    """A number in ``length`` characters, as lmfit's ``gformat``: '%g'-like,
    positive numbers with a leading blank, the precision as high as fits,
    trailing zeros kept."""
    if val is None or isinstance(val, bool):
        return f"{val!r:>{length}s}"
    try:
        expon = int(np.log10(abs(val))) if val != 0 else 0
    except (OverflowError, ValueError):
        expon = 0
    except TypeError:
        return f"{val!r:>{length}s}"
    val = float(val)
    length = max(length, 7)
    form, prec = "e", length - 7
    if abs(expon) > 99:
        prec -= 1
    elif (0 < expon < prec + 4) or (expon <= 0 and -expon < prec - 1):
        form, prec = "f", prec + 4
        if expon > 0:
            prec -= expon
    return f"{val:{length}.{prec}{form}}"


def _stat(val) -> str:
    """A statistic as lmfit's ``getfloat_attr`` writes it."""
    if val is None:
        return "unknown"
    if isinstance(val, (int, np.integer)) and not isinstance(val, bool):
        return f"{int(val)}"
    return gformat(float(val)).strip()


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
    out = [
        f"    # fitting method   = {result.method}",
        f"    # function evals   = {_stat(result.nfev)}",
        f"    # data points      = {_stat(result.ndata)}",
        f"    # variables        = {_stat(result.nvarys)}",
        f"    {stat}= {_stat(result.chisqr)}",
        f"    {red}= {_stat(result.redchi)}",
        f"    Akaike info crit   = {_stat(result.aic)}",
        f"    Bayesian info crit = {_stat(result.bic)}",
    ]
    rsq = getattr(result, "rsquared", None)
    if rsq is not None:
        out.append(f"    R-squared          = {_stat(rsq)}")
    return out


def _var_line(n, p, width, free: bool, errorbars: bool = True, modelpars=None) -> str:
    """lmfit's line: ``name: value +/- stderr (rel%) (init = ...)``,
    ``== 'expr'`` or ``(fixed)``; no ``+/- stderr`` where the fit's
    ``errorbars`` is False. A free parameter at a bound adds ``(at boundary)``."""
    head = f"    {n}:{' ' * (width - len(n))}"
    if not free and p.expr is None:
        return f"{head} {float(p.value): .7g} (fixed)"
    sval = gformat(p.value)
    if errorbars and p.stderr is not None and np.isfinite(p.stderr):
        rel = f"({abs(p.stderr / p.value):.2%})" if p.value != 0 else ""
        sval = f"{sval} +/-{gformat(p.stderr)} {rel}"
    if p.expr is not None:
        return f"{head} {sval} == '{p.expr}'"
    inval = "(init = ?)" if p.init_value is None else f"(init = {float(p.init_value):.7g})"
    if modelpars is not None and n in modelpars:
        inval = f"{inval}, model_value = {float(modelpars[n].value):.7g}"
    note = ""
    if np.isclose(p.value, p.min, rtol=1e-8, atol=0) or np.isclose(p.value, p.max, rtol=1e-8, atol=0):
        note = " (at boundary)"
    return f"{head} {sval} {inval}{note}"


def _correl_lines(names, C, min_correl) -> list[str]:
    """lmfit's list: pairs above ``min_correl`` in ``names`` order, largest first."""
    corr = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if abs(C[i, j]) > min_correl:
                corr.append((f"{names[i]}, {names[j]}", float(C[i, j])))
    if not corr:
        return []
    corr = sorted(corr, key=lambda t: abs(t[1]))[::-1]
    w = max(len(k) for k, _ in corr)
    return ([f"[[Correlations]] (unreported correlations are < {min_correl:.3f})"]
            + [f"    C({k}){' ' * (w - len(k))} = {v:+.4f}" for k, v in corr])


def _correl_table(names, C) -> list[str]:
    """lmfit's ``correl_mode='table'``: the full matrix, boxed."""
    nwid = max(8, max(len(v) for v in names)) + 1

    def sfmt(a):
        return f" {a:{nwid}s}"

    title = "|".join(["", sfmt("Variable")] + [sfmt(v) for v in names]) + "|"
    bar = "+".join([""] + ["-" * (nwid + 1)] * (len(names) + 1) + [""])
    rows = [bar, title, bar]
    for i, v in enumerate(names):
        rows.append("|".join(["", sfmt(v)] + [sfmt(f"{(1.0 if i == j else float(C[i, j])):+.4f}")
                                               for j in range(len(names))]) + "|")
    rows.append(bar)
    return ["[[Correlations]] "] + [f"  {r}" for r in rows]


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
