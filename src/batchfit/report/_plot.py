"""Matplotlib figures of fit results (optional: ``pip install batchfit[plot]``).

``plot_fit`` draws one fit as lmfit's ``ModelResult.plot`` does: data with
error bars (``1/weights``), the best fit and the initial model above, and the
residual (model - data) below. A ``minimize`` result holds no data, only
residuals: ``plot_fit`` then draws the residual against its index.
``plot_batch`` summarises a batch: histograms of every varying or tied
parameter and of the reduced chi-square over the successful fits, counts by
status, and the worst fits (largest reduced chi-square).
"""

from __future__ import annotations

import numpy as np

from ..solver import RESULTS


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise ImportError("plotting needs matplotlib: pip install batchfit[plot]") from err
    return plt


def _row(a):
    """One fit's row of a stored array: per-fit arrays keep a leading axis of 1."""
    if a is None:
        return None
    try:
        a = np.asarray(a)
    except ValueError:  # ragged lists: not one fit's row
        return None
    return a[0] if a.ndim >= 2 and a.shape[0] == 1 else a


def _single(result, what):
    if result.batched:
        if len(result) != 1:
            raise ValueError(
                f"{what}: the result holds {len(result)} fits; plot one with result[i].plot(), "
                "or all of them with result.plot_batch()"
            )
        return result[0]
    return result


def _fit_data(res, with_init=True):
    """(x, xlabel, y, best, yerr, init) of a single Model fit, or None."""
    ex = res.extras
    if ex.get("data") is None or ex.get("best_fit") is None:
        return None
    y, best = _row(ex["data"]).astype(float), _row(ex["best_fit"]).astype(float)
    m = y.shape[-1]
    keep = np.ones(m, bool) if ex.get("mask") is None else _row(ex["mask"]).astype(bool)
    w = _row(ex.get("weights"))
    yerr = None
    if w is not None and np.shape(w) == (m,):
        with np.errstate(divide="ignore"):
            yerr = np.where(w > 0, 1.0 / np.where(w > 0, w, 1.0), np.nan)
    indep = {k: r for k, v in (ex.get("indep") or {}).items() if (r := _row(v)) is not None}
    x, xlabel = np.arange(m, dtype=float), "point index"
    if indep:
        name, first = next(iter(indep.items()))
        if np.shape(first) == (m,):
            x, xlabel = np.asarray(first, dtype=float), name
    init = _init_fit(res, indep, m) if with_init else None
    order = np.argsort(x[keep], kind="stable")
    pick = lambda a: None if a is None else a[keep][order]  # noqa: E731
    return pick(x), xlabel, pick(y), pick(best), pick(yerr), pick(init)


def _init_fit(res, indep, m):
    """The model at the starting values (when the Model is at hand)."""
    model = res.extras.get("model")
    if model is None or not all(v in indep for v in getattr(model, "independent_vars", ())):
        return None
    params = res.params.copy()
    for n in res.var_names:
        params[n].value = params[n].init_value
    out = np.ravel(model.eval(params, **{v: indep[v] for v in model.independent_vars}))
    return out.astype(float) if out.shape == (m,) else None


def _title(res, name):
    status = RESULTS(int(res.status))
    return f"{name}" + ("" if status.success else f" (status {status.name})")


def plot_fit(result, *, fig=None, show_init=True, title=None):
    """Data, best fit and residuals of one fit; returns the Figure.

    Args:
      result: a single-fit :class:`~batchfit.FitResult` (``result[i]`` of a
        batch).
      fig: a matplotlib Figure to draw into (default: a new pyplot figure).
      show_init: also draw the model at the starting values (Model fits).
      title: figure title (default: the model's name and, for a failed
        fit, its status).

    A ``minimize`` result has no data: the residual is drawn against its
    index in one panel.

    Example:
      >>> import matplotlib; matplotlib.use("Agg")
      >>> import matplotlib.pyplot as plt, numpy as np, batchfit as bf
      >>> x = np.linspace(0, 1, 21)
      >>> res = bf.Model(lambda x, a, b: a * x + b).fit(2 * x + 1 + 0.1 * np.cos(7 * x), x=x, a=1, b=0)
      >>> fig = res.plot()
      >>> [ax.get_ylabel() for ax in fig.axes]
      ['y', 'residual']
      >>> plt.close(fig)
    """
    plt = _pyplot()
    res = _single(result, "plot")
    fig = plt.figure(figsize=(6.4, 6.0)) if fig is None else fig
    data = _fit_data(res, with_init=show_init)
    model = res.extras.get("model")
    name = getattr(model, "name", None) or res.extras.get("model_name") or f"{res.method} fit"
    if data is None:
        ax = fig.add_subplot()
        r = np.asarray(res.residual, dtype=float)
        ax.axhline(0.0, color="0.5", lw=1)
        ax.plot(np.arange(r.size), r, "o", ms=3, label="residual")
        ax.set(xlabel="residual index", ylabel="residual",
               title=title or _title(res, f"{res.method} fit (minimize: residual only)"))
        return fig
    x, xlabel, y, best, yerr, init = data
    gs = fig.add_gridspec(2, 1, height_ratios=(3, 1), hspace=0.08)
    ax = fig.add_subplot(gs[0])
    axr = fig.add_subplot(gs[1], sharex=ax)
    if yerr is not None:
        ax.errorbar(x, y, yerr=yerr, fmt="o", ms=3, lw=1, label="data")
    else:
        ax.plot(x, y, "o", ms=3, label="data")
    if show_init and init is not None:
        ax.plot(x, init, "--", color="0.6", label="init fit")
    ax.plot(x, best, "-", lw=2, label="best fit")
    ax.set(ylabel="y", title=_title(res, name) if title is None else title)
    ax.legend(loc="best")
    ax.tick_params(labelbottom=False)
    axr.axhline(0.0, color="0.5", lw=1)
    if yerr is not None:
        axr.errorbar(x, best - y, yerr=yerr, fmt="o", ms=3, lw=1)
    else:
        axr.plot(x, best - y, "o", ms=3)
    axr.set(xlabel=xlabel, ylabel="residual")
    return fig


def _hist(ax, v, bins, log_ok=False):
    v = v[np.isfinite(v)]
    if v.size == 0:
        ax.text(0.5, 0.5, "no finite values", ha="center", va="center", transform=ax.transAxes)
        return
    lo, hi = float(v.min()), float(v.max())
    scale = max(abs(lo), abs(hi), 1e-300)
    if hi - lo <= 1e-9 * scale:  # (nearly) one value: one bin around it
        ax.hist(v, bins=1, range=(lo - 1e-6 * scale, hi + 1e-6 * scale))
    elif log_ok and lo > 0 and hi > 100 * lo:
        ax.hist(v, bins=np.geomspace(v.min(), v.max(), bins + 1))
        ax.set_xscale("log")
    else:
        ax.hist(v, bins=bins)


def plot_batch(result, *, n_worst=4, bins=30, fig=None):
    """Overview of a batch of fits; returns the Figure.

    Panels: a histogram of each varying or tied parameter and of ``redchi``
    over the successful fits, a bar chart of the number of fits per status,
    and the ``n_worst`` fits with the largest reduced chi-square (non-finite
    first): data and best fit for Model fits, the residual otherwise.

    Example:
      >>> import matplotlib; matplotlib.use("Agg")
      >>> import matplotlib.pyplot as plt, numpy as np, batchfit as bf
      >>> x = np.linspace(0, 1, 21)
      >>> data = np.outer([1.0, 2.0, 3.0], x) + 0.1 * np.cos(7 * x)
      >>> res = bf.Model(lambda x, a, b: a * x + b).fit(data, x=x, a=1, b=0)
      >>> fig = res.plot_batch(n_worst=2)
      >>> [ax.get_title() for ax in fig.axes][:4]
      ['a', 'b', 'redchi', 'status']
      >>> plt.close(fig)
    """
    plt = _pyplot()
    if int(n_worst) < 0:
        raise ValueError(f"plot_batch: n_worst must be >= 0, got {n_worst!r}")
    spec = result._spec
    a = result._a
    N = len(result)
    ok = np.isin(a["status"], [int(r) for r in RESULTS if r.success])
    names = [n for n in spec.names if n not in spec.fixed]
    k_worst = min(int(n_worst), N)
    ncols = 4
    n_top = len(names) + 2
    rows_top = -(-n_top // ncols)
    rows = rows_top + -(-k_worst // ncols)
    fig = plt.figure(figsize=(3.2 * ncols, 2.6 * rows), layout="constrained") if fig is None else fig
    gs = fig.add_gridspec(rows, ncols)
    cells = [gs[i // ncols, i % ncols] for i in range(n_top)]
    cells += [gs[rows_top + i // ncols, i % ncols] for i in range(k_worst)]
    for c, n in zip(cells, names):
        ax = fig.add_subplot(c)
        _hist(ax, a["values_all"][ok, spec.names.index(n)].astype(float), bins)
        ax.set(title=n, xlabel="value" + (" (tied)" if n not in spec.free else ""), ylabel="fits")
    ax = fig.add_subplot(cells[len(names)])
    _hist(ax, a["redchi"][ok].astype(float), bins, log_ok=True)
    ax.set(title="redchi", xlabel="reduced chi-square", ylabel="fits")
    ax = fig.add_subplot(cells[len(names) + 1])
    counts = result.summary_counts()
    labels = list(counts)
    ax.bar(range(len(labels)), [counts[s] for s in labels],
           color=["tab:green" if RESULTS[s].success else "tab:red" for s in labels])
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    ax.set(title="status", ylabel="fits")
    rc = np.where(np.isfinite(a["redchi"]), a["redchi"], np.inf)
    worst = np.argsort(-rc, kind="stable")[:k_worst]
    for c, i in zip(cells[n_top:], worst):
        _worst_panel(fig.add_subplot(c), result[int(i)], int(i))
    fig.suptitle(f"{N} fits, {int(ok.sum())} succeeded ({result.method})")
    return fig


def _worst_panel(ax, res, i):
    data = _fit_data(res, with_init=False)
    if data is None:
        r = np.asarray(res.residual, dtype=float)
        ax.plot(np.arange(r.size), r, "o", ms=2)
        ax.set(xlabel="residual index", ylabel="residual")
    else:
        x, xlabel, y, best, _, _ = data
        ax.plot(x, y, "o", ms=2)
        ax.plot(x, best, "-")
        ax.set(xlabel=xlabel, ylabel="y")
    ax.set_title(_title(res, f"fit {i}: redchi {float(res.redchi):.3g}"), fontsize=9)


def plot_group(result, *, fig=None, max_datasets=8):
    """One shared-parameter group: each dataset's data (points) and best fit
    (line, same colour) above, residuals (model - data) below; returns the
    Figure. Masked points are not drawn.

    Example:
      >>> import matplotlib; matplotlib.use("Agg")
      >>> import matplotlib.pyplot as plt, numpy as np, batchfit as bf
      >>> x = np.linspace(0, 1, 21)
      >>> data = np.stack([2 * x + 1, 2 * x + 3]) + 0.05 * np.cos(9 * x)
      >>> res = bf.Model(lambda x, a, b: a * x + b).fit(data, x=x, a=1, b=0, shared=["a"])
      >>> fig = res.plot()
      >>> [ax.get_ylabel() for ax in fig.axes], len(fig.axes[0].lines)
      (['y', 'residual'], 4)
      >>> plt.close(fig)
    """
    plt = _pyplot()
    if result.batched and len(result) != 1:
        raise ValueError(f"plot draws one group; this result holds {len(result)} groups: "
                         "use result[g].plot()")
    res = result if not result.batched else result[0]
    y, best = np.asarray(res.data, dtype=float), np.asarray(res.best_fit, dtype=float)
    indep = res.extras.get("indep") or {}
    name = next(iter(indep), None)
    x = np.asarray(indep[name])[0] if name else np.broadcast_to(np.arange(y.shape[-1]), y.shape)
    mask = res.extras.get("mask")
    mask = np.ones(y.shape, bool) if mask is None else np.asarray(mask)[0]
    fig = plt.figure(figsize=(6.4, 6.0)) if fig is None else fig
    gs = fig.add_gridspec(2, 1, height_ratios=(3, 1), hspace=0.08)
    ax = fig.add_subplot(gs[0])
    axr = fig.add_subplot(gs[1], sharex=ax)
    for k in range(min(y.shape[0], max_datasets)):
        sel = mask[k]
        order = np.argsort(x[k][sel])
        xk, yk, bk = x[k][sel][order], y[k][sel][order], best[k][sel][order]
        (pts,) = ax.plot(xk, yk, "o", ms=3, alpha=0.6, label=f"data {k}")
        ax.plot(xk, bk, "-", lw=2, color=pts.get_color())
        axr.plot(xk, bk - yk, "o", ms=3, color=pts.get_color())
    model = res.extras.get("model")
    shared = ", ".join(res.shared_names)
    ax.set(ylabel="y", title=f"{getattr(model, 'name', 'group')} (shared: {shared})")
    ax.legend(loc="best", fontsize="small")
    ax.tick_params(labelbottom=False)
    axr.axhline(0.0, color="0.5", lw=1)
    axr.set(xlabel=name or "index", ylabel="residual")
    return fig
