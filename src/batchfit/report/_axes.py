"""lmfit's ``ModelResult.plot_fit`` / ``plot_residuals`` / ``plot``: one fit on
matplotlib Axes, with lmfit's arguments (formats, keyword dicts, labels)."""

from __future__ import annotations

import numpy as np

from ._plot import _fit_data, _pyplot, _single

LMFIT_PLOT_KEYS = frozenset({"datafmt", "fitfmt", "initfmt", "xlabel", "ylabel", "yerr", "numpoints",
                             "data_kws", "fit_kws", "init_kws", "ax_res_kws", "ax_fit_kws", "fig_kws"})


def _prepared(result, what):
    res = _single(result, what)
    data = _fit_data(res, with_init=True)
    if data is None:
        raise ValueError(f"{what} needs a Model fit's data (a minimize result holds residuals only: "
                         "use result.plot())")
    return res, data


def _name(res):
    model = res.extras.get("model")
    return getattr(model, "name", None) or res.extras.get("model_name") or f"{res.method} fit"


def plot_fit_axes(result, ax=None, datafmt="o", fitfmt="-", initfmt="--", xlabel=None, ylabel=None,
                  yerr=None, numpoints=None, data_kws=None, fit_kws=None, init_kws=None, ax_kws=None,
                  show_init=False, title=None):
    """Data (with ``yerr``, default ``1/weights``), best fit and, with
    ``show_init``, the initial fit on ``ax`` (default: the current Axes);
    ``numpoints`` evaluates the model on that many points between the
    smallest and largest x (needs the Model). Returns the Axes, as lmfit."""
    plt = _pyplot()
    res, (x, xl, y, best, err, init) = _prepared(result, "plot_fit")
    if ax is None:
        ax = plt.gca(**(ax_kws or {}))
    elif ax_kws:
        ax.set(**ax_kws)
    err = err if yerr is None else np.asarray(yerr, dtype=float)
    xf, bf = x, best
    model = res.extras.get("model")
    if numpoints is not None and model is not None and len(model.independent_vars) == 1:
        xf = np.linspace(np.min(x), np.max(x), int(numpoints))
        bf = np.asarray(res.eval(**{model.independent_vars[0]: xf}), dtype=float)
    if err is not None:
        ax.errorbar(x, y, yerr=err, fmt=datafmt, label="data", **(data_kws or {}))
    else:
        ax.plot(x, y, datafmt, label="data", **(data_kws or {}))
    if show_init and init is not None:
        ax.plot(x, init, initfmt, label="initial fit", **(init_kws or {}))
    ax.plot(xf, bf, fitfmt, label="best fit", **(fit_kws or {}))
    ax.set(title=_name(res) if title is None else title, xlabel=xl if xlabel is None else xlabel,
           ylabel="y" if ylabel is None else ylabel)
    ax.legend(loc="best")
    return ax


def plot_residuals_axes(result, ax=None, datafmt="o", yerr=None, data_kws=None, fit_kws=None,
                        ax_kws=None, title=None):
    """Residuals (best fit - data, lmfit's sign) on ``ax`` with a zero line
    (``fit_kws`` style it); returns the Axes."""
    plt = _pyplot()
    res, (x, xl, y, best, err, _) = _prepared(result, "plot_residuals")
    if ax is None:
        ax = plt.gca(**(ax_kws or {}))
    elif ax_kws:
        ax.set(**ax_kws)
    err = err if yerr is None else np.asarray(yerr, dtype=float)
    ax.axhline(0.0, **({"color": "k"} | (fit_kws or {})))
    if err is not None:
        ax.errorbar(x, best - y, yerr=err, fmt=datafmt, **(data_kws or {}))
    else:
        ax.plot(x, best - y, datafmt, **(data_kws or {}))
    ax.set(title=_name(res) if title is None else title, ylabel="residuals", xlabel=xl)
    return ax


def plot_lmfit(result, datafmt="o", fitfmt="-", initfmt="--", xlabel=None, ylabel=None, yerr=None,
               numpoints=None, fig=None, data_kws=None, fit_kws=None, init_kws=None, ax_res_kws=None,
               ax_fit_kws=None, fig_kws=None, show_init=False, title=None):
    """lmfit's ``ModelResult.plot``: residuals above (1/5 of the height), the
    fit below; returns the Figure."""
    plt = _pyplot()
    fig = plt.figure(**(fig_kws or {})) if fig is None else fig
    gs = fig.add_gridspec(2, 1, height_ratios=(1, 4))
    ax_res = fig.add_subplot(gs[0], **(ax_res_kws or {}))
    ax_fit = fig.add_subplot(gs[1], sharex=ax_res, **(ax_fit_kws or {}))
    plot_fit_axes(result, ax=ax_fit, datafmt=datafmt, fitfmt=fitfmt, initfmt=initfmt, xlabel=xlabel,
                  ylabel=ylabel, yerr=yerr, numpoints=numpoints, data_kws=data_kws, fit_kws=fit_kws,
                  init_kws=init_kws, show_init=show_init, title="")
    plot_residuals_axes(result, ax=ax_res, datafmt=datafmt, yerr=yerr, data_kws=data_kws,
                        fit_kws=fit_kws, title=title)
    ax_res.tick_params(labelbottom=False)
    ax_res.set_xlabel("")
    return fig
