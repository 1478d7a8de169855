"""The figure of one shared-parameter group: each dataset's data and best
fit against the model's first independent variable, residuals below."""

from __future__ import annotations

import numpy as np

from ._plot import _pyplot, check_scale, pick_x, residual_of, sigma_of


def plot_group(result, *, fig=None, max_datasets=8, normalize=False, errorbars=True,
               xscale="linear", yscale="linear"):
    """One shared-parameter group: each dataset's data (points, with error
    bars ``1/weights`` where weighted) and best fit (line, same colour)
    above, residuals below; returns the Figure. Masked points are not drawn.

    The x axis is the model's first independent variable (``x`` for a
    ``Model(f)`` whose first argument is ``x``), whether it is shared or
    given per dataset.

    Args:
      normalize: residuals as (data - model)/sigma (sigma = 1/weights, or
        sqrt(redchi) unweighted) instead of model - data.
      errorbars: draw error bars on weighted data.
      xscale, yscale: ``"linear"``, ``"log"`` or ``"symlog"``; log axes
        suit spectra.

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
    check_scale(xscale=xscale, yscale=yscale)
    if result.batched and len(result) != 1:
        raise ValueError(f"plot draws one group; this result holds {len(result)} groups: "
                         "use result[g].plot()")
    res = result if not result.batched else result[0]
    y, best = np.asarray(res.data, dtype=float), np.asarray(res.best_fit, dtype=float)
    model = res.extras.get("model")
    indep = {k: (np.asarray(v)[0] if np.ndim(v) == y.ndim + 1 else v)
             for k, v in (res.extras.get("indep") or {}).items()}
    name, x = pick_x(indep, model, y.shape)
    if x is None:
        x = np.broadcast_to(np.arange(y.shape[-1], dtype=float), y.shape)
    mask = res.extras.get("mask")
    mask = np.ones(y.shape, bool) if mask is None else np.asarray(mask)[0]
    w = res.extras.get("weights")
    w = None if w is None else (np.asarray(w)[0] if np.ndim(w) == y.ndim + 1 else np.asarray(w))
    sig = sigma_of(w, res.redchi, y.shape)
    fig = plt.figure(figsize=(6.4, 6.0)) if fig is None else fig
    gs = fig.add_gridspec(2, 1, height_ratios=(3, 1), hspace=0.08)
    ax = fig.add_subplot(gs[0])
    axr = fig.add_subplot(gs[1], sharex=ax)
    rlabel = "residual"
    for k in range(min(y.shape[0], max_datasets)):
        sel = mask[k]
        order = np.argsort(x[k][sel], kind="stable")
        xk, yk, bk, sk = (a[k][sel][order] for a in (x, y, best, sig))
        if errorbars and w is not None:
            cont = ax.errorbar(xk, yk, yerr=sk, fmt="o", ms=3, lw=1, alpha=0.6, label=f"data {k}")
            colour = cont.lines[0].get_color()
        else:
            (pts,) = ax.plot(xk, yk, "o", ms=3, alpha=0.6, label=f"data {k}")
            colour = pts.get_color()
        ax.plot(xk, bk, "-", lw=2, color=colour)
        r, rlabel = residual_of(yk, bk, sk, normalize)
        axr.plot(xk, r, "o", ms=3, color=colour)
    shared = ", ".join(res.shared_names)
    ax.set(ylabel="y", title=f"{getattr(model, 'name', 'group')} (shared: {shared})", xscale=xscale,
           yscale=yscale)
    ax.legend(loc="best", fontsize="small")
    ax.tick_params(labelbottom=False)
    axr.axhline(0.0, color="0.5", lw=1)
    axr.set(xlabel=name or "index", ylabel=rlabel)
    return fig
