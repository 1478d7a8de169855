"""Matplotlib figures of one fit (optional: ``pip install batchfit[plot]``).

``plot_fit`` draws one fit as lmfit's ``ModelResult.plot`` does: data with
error bars (``1/weights``), the best fit and the initial model above, and the
residual below: model - data as lmfit draws it, or normalised,
(data - model)/sigma, the usual view of a weighted fit. A ``minimize``
result holds no data, only residuals: ``plot_fit`` then draws the residual
against its index. The batch, map and group figures are in
``_plot_batch`` and ``_plot_group``.
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


def pick_x(indep, model, shape):
    """``(name, x)``: the model's first independent variable (in its
    ``independent_vars`` order, then any other) whose values have ``shape``
    once broadcast; ``(None, None)`` if none has."""
    order = list(getattr(model, "independent_vars", ()) or ())
    order += [n for n in indep if n not in order]
    for name in order:
        if name in indep and indep[name] is not None:
            a = np.asarray(indep[name])
            if a.ndim and np.issubdtype(a.dtype, np.number):
                try:
                    return name, np.broadcast_to(a, shape).astype(float)
                except ValueError:
                    continue
    return None, None


def check_scale(**axes):
    for what, v in axes.items():
        if v not in ("linear", "log", "symlog"):
            raise ValueError(f"{what} must be 'linear', 'log' or 'symlog', got {v!r}")


def sigma_of(w, redchi, shape):
    """Per-point sigma: ``1/weights`` where weighted, else the fit's own
    noise estimate ``sqrt(redchi)`` (NaN where a weight is 0)."""
    if w is None:
        return np.full(shape, np.sqrt(float(redchi)) if np.isfinite(redchi) else np.nan)
    w = np.broadcast_to(np.asarray(w, dtype=float), shape)
    with np.errstate(divide="ignore"):
        return np.where(w > 0, 1.0 / np.where(w > 0, w, 1.0), np.nan)


def residual_of(y, best, sigma, normalize):
    """``(values, label)``: model - data (lmfit's), or (data - model)/sigma."""
    if normalize:
        with np.errstate(divide="ignore", invalid="ignore"):
            return (y - best) / sigma, "(data - model)/σ"
    return best - y, "residual"


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
        yerr = sigma_of(w, np.nan, (m,))
    indep = {k: r for k, v in (ex.get("indep") or {}).items() if (r := _row(v)) is not None}
    xlabel, x = pick_x(indep, ex.get("model"), (m,))
    if x is None:
        x, xlabel = np.arange(m, dtype=float), "point index"
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


def title_of(res, name):
    status = RESULTS(int(res.status))
    return f"{name}" + ("" if status.success else f" (status {status.name})")


def plot_fit(result, *, fig=None, show_init=True, title=None, normalize=False, xscale="linear",
             yscale="linear"):
    """Data, best fit and residuals of one fit; returns the Figure.

    Args:
      result: a single-fit :class:`~batchfit.FitResult` (``result[i]`` of a
        batch).
      fig: a matplotlib Figure to draw into (default: a new pyplot figure).
      show_init: also draw the model at the starting values (Model fits).
      title: figure title (default: the model's name and, for a failed
        fit, its status).
      normalize: draw the residual as (data - model)/sigma, with sigma =
        1/weights, or the fit's own noise estimate sqrt(redchi) when it has
        no weights; by default model - data, as lmfit draws it.
      xscale, yscale: ``"linear"``, ``"log"`` or ``"symlog"`` (``yscale``
        applies to the data panel).

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
    check_scale(xscale=xscale, yscale=yscale)
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
               title=title or title_of(res, f"{res.method} fit (minimize: residual only)"))
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
    ax.set(ylabel="y", title=title_of(res, name) if title is None else title, xscale=xscale,
           yscale=yscale)
    ax.legend(loc="best")
    ax.tick_params(labelbottom=False)
    axr.axhline(0.0, color="0.5", lw=1)
    sig = yerr if yerr is not None else sigma_of(None, res.redchi, y.shape)
    r, rlabel = residual_of(y, best, sig, normalize)
    if yerr is not None and not normalize:
        axr.errorbar(x, r, yerr=yerr, fmt="o", ms=3, lw=1)
    elif normalize:
        axr.plot(x, r, "o", ms=3)
        for s in (-1, 1):
            axr.axhline(s, color="0.7", lw=0.8, ls=":")
    else:
        axr.plot(x, r, "o", ms=3)
    axr.set(xlabel=xlabel, ylabel=rlabel)
    return fig
