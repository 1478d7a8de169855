"""Figures of a batch of fits: the overview (``plot_batch``) and maps of an
image-shaped batch (``plot_map``).

``plot_batch`` shows a histogram of every varying or tied parameter and of
the reduced chi-square over the successful fits (the range is held to the
bulk of the values, so a few outliers cannot squeeze it; how many lie beyond
is written on the panel), the number of fits per status on a log scale (one
failure among 10^4 still shows), and the worst fits. "Worst" is judged by a
measure that does not grow with a fit's brightness: the reduced chi-square
over the point-to-point noise of the fit's own data (:func:`misfit_score`).
Failed fits come first.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..solver import RESULTS
from ._plot import _fit_data, _pyplot, pick_x, title_of

STAT_FIELDS = ("chisqr", "redchi", "aic", "bic", "nfev")


def _success(result):
    return np.isin(result._status, [int(r) for r in RESULTS if r.success])


def bulk_range(v, k=5.0):
    """``(lo, hi)``: the range of ``v`` (finite values) cut at ``k``
    interquartile ranges beyond the quartiles, where outliers lie farther."""
    q1, q3 = np.percentile(v, [25, 75])
    iqr = q3 - q1
    lo, hi = float(v.min()), float(v.max())
    if iqr > 0:
        lo, hi = max(lo, q1 - k * iqr), min(hi, q3 + k * iqr)
    return lo, hi


def _hist(ax, v, bins, log_ok=False):
    v = v[np.isfinite(v)]
    if v.size == 0:
        ax.text(0.5, 0.5, "no finite values", ha="center", va="center", transform=ax.transAxes)
        return
    lo, hi = bulk_range(v)
    scale = max(abs(lo), abs(hi), 1e-300)
    outside = int(np.sum((v < lo) | (v > hi)))
    if hi - lo <= 1e-9 * scale:  # (nearly) one value: one bin around it
        ax.hist(v, bins=1, range=(lo - 1e-6 * scale, hi + 1e-6 * scale))
    elif log_ok and lo > 0 and hi > 100 * lo:
        ax.hist(v, bins=np.geomspace(lo, hi, bins + 1))
        ax.set_xscale("log")
    else:
        ax.hist(v, bins=bins, range=(lo, hi))
    if outside:
        ax.text(0.98, 0.95, f"{outside} beyond range", ha="right", va="top", fontsize=7,
                transform=ax.transAxes)


def _sorted_rows(y, x):
    if x is None:
        return y
    order = np.argsort(x, axis=-1, kind="stable")
    return np.take_along_axis(y, order, axis=-1)


def misfit_score(result):
    """Per fit, a misfit measure that does not grow with brightness.

    Weighted fits: the reduced chi-square itself (the weights make it
    dimensionless: about 1 for a good fit). Unweighted fits, whose reduced
    chi-square is in data units and grows with the noise of bright fits:
    the von Neumann ratio of the residuals taken in x order, their mean
    square over half their mean square successive difference. White
    residuals (a good fit, however bright) give about 1; residuals with
    structure the model misses (a missed line, a wrong shape) give much
    more. Masked points are left out.

    Falls back to the reduced chi-square where the result holds no data
    (``minimize``, ragged batches).
    """
    redchi = np.asarray(result._a["redchi"], dtype=float)
    ex = result.extras
    if ex.get("data") is None or ex.get("weights") is not None:
        return redchi
    r = np.asarray(result._a["residual"])
    if r.dtype == object or r.ndim != 2 or r.shape[0] != redchi.shape[0]:  # ragged
        return redchi
    r = r.astype(float)
    if ex.get("mask") is not None:
        r = np.where(np.asarray(ex["mask"], bool), r, np.nan)
    _, x = pick_x(ex.get("indep") or {}, ex.get("model"), r.shape)
    r = _sorted_rows(r, x)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: score NaN
        r = [row[np.isfinite(row)] for row in r] if np.isnan(r).any() else r
        score = np.array([np.mean(q**2) / (0.5 * np.mean(np.diff(q) ** 2)) if q.size > 2 else np.nan
                          for q in r]) if isinstance(r, list) else \
            np.mean(r**2, axis=-1) / (0.5 * np.mean(np.diff(r, axis=-1) ** 2, axis=-1))
    return np.where(np.isfinite(score), score, redchi)


def worst_fits(result, k):
    """Indices of the ``k`` worst fits: failed fits first, then by
    :func:`misfit_score`, largest (or non-finite) first."""
    score = misfit_score(result)
    key = np.where(np.isfinite(score), score, np.inf)
    order = np.lexsort((-key, _success(result)))
    return order[:k]


def plot_batch(result, *, n_worst=4, bins=30, fig=None):
    """Overview of a batch of fits; returns the Figure.

    Panels: a histogram of each varying or tied parameter (x axis labelled
    with its name) and of ``redchi`` over the successful fits, a bar chart
    of the number of fits per status (log scale, counts written on the
    bars), and the ``n_worst`` worst fits (:func:`worst_fits`): data and
    best fit for Model fits, the residual otherwise.

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
    N = len(result)
    ok = _success(result)
    names = [n for n in spec.names if n not in spec.fixed]
    params = result.params
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
        _hist(ax, np.asarray(params[n].value, dtype=float).reshape(N)[ok], bins)
        ax.set(title=n, xlabel=n + (" (tied)" if n not in spec.free else ""), ylabel="fits")
    ax = fig.add_subplot(cells[len(names)])
    _hist(ax, np.asarray(result._a["redchi"], dtype=float)[ok], bins, log_ok=True)
    ax.set(title="redchi", xlabel="reduced chi-square", ylabel="fits")
    _status_bars(fig.add_subplot(cells[len(names) + 1]), result.summary_counts())
    for c, i in zip(cells[n_top:], worst_fits(result, k_worst)):
        _worst_panel(fig.add_subplot(c), result[int(i)], int(i))
    fig.suptitle(f"{N} fits, {int(ok.sum())} succeeded ({result.method})")
    return fig


def _status_bars(ax, counts):
    labels = list(counts)
    heights = [counts[s] for s in labels]
    bars = ax.bar(range(len(labels)), heights,
                  color=["tab:green" if RESULTS[s].success else "tab:red" for s in labels])
    ax.set_yscale("log")
    ax.set_ylim(0.5, max(heights) * 3)
    ax.bar_label(bars, labels=[str(h) for h in heights], fontsize=7)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    ax.set(title="status", ylabel="fits (log scale)")


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
    ax.set_title(title_of(res, f"fit {i}: redchi {float(res.redchi):.3g}"), fontsize=9)


def map_values(result, name, stderr=False):
    """The per-fit values drawn by :func:`plot_map`, as a float array."""
    N = len(result)
    if name in result._spec.names:
        p = result.params[name]
        v = p.stderr if stderr else p.value
    elif name in STAT_FIELDS and not stderr:
        v = result._a[name]
    else:
        known = list(result._spec.names) + list(STAT_FIELDS)
        raise ValueError(f"plot_map: {name!r} is not a parameter or statistic of this result "
                         f"(one of {known})" + (": stderr=True needs a parameter" if name in known else ""))
    return np.broadcast_to(np.asarray(v, dtype=float), (N,)).copy()


def plot_map(result, name, shape, *, stderr=False, mask_failed=True, fig=None, cmap="viridis",
             vmin=None, vmax=None):
    """An image-shaped batch as a map of one parameter (or its standard
    error, or a statistic: ``chisqr``, ``redchi``, ``aic``, ``bic``,
    ``nfev``), with a colour bar; returns the Figure.

    Args:
      result: a batched :class:`~batchfit.FitResult` of ``prod(shape)`` fits,
        in row-major (C) order.
      name: the parameter or statistic to draw.
      shape: ``(ny, nx)`` of the image.
      stderr: draw the parameter's standard error instead of its value.
      mask_failed: leave failed fits (``success`` False) blank.
      vmin, vmax: colour range (default: the bulk of the values, so a few
        outliers do not wash the map out).

    Example:
      >>> import matplotlib; matplotlib.use("Agg")
      >>> import matplotlib.pyplot as plt, numpy as np, batchfit as bf
      >>> x = np.linspace(0, 1, 11)
      >>> data = np.arange(6.0)[:, None] * x + 1
      >>> res = bf.Model(lambda x, a, b: a * x + b).fit(data, x=x, a=1, b=0)
      >>> fig = res.plot_map("a", shape=(2, 3))
      >>> np.round(fig.axes[0].images[0].get_array(), 6).tolist()
      [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
      >>> plt.close(fig)
    """
    plt = _pyplot()
    shape = tuple(int(s) for s in np.atleast_1d(shape))
    N = len(result)
    if len(shape) != 2 or shape[0] * shape[1] != N:
        raise ValueError(f"plot_map: shape {shape} does not hold the {N} fits of this result "
                         "(give (ny, nx) with ny * nx = number of fits)")
    v = map_values(result, name, stderr)
    bad = ~np.isfinite(v) | (~_success(result) if mask_failed else False)
    img = np.ma.masked_array(v, mask=bad).reshape(shape)
    good = v[~bad]
    if good.size and (vmin is None or vmax is None):
        lo, hi = bulk_range(good)
        vmin = lo if vmin is None else vmin
        vmax = hi if vmax is None else vmax
    fig = plt.figure(figsize=(6.0, 5.0), layout="constrained") if fig is None else fig
    ax = fig.add_subplot()
    cm = plt.get_cmap(cmap).with_extremes(bad="0.85")
    im = ax.imshow(img, origin="lower", cmap=cm, vmin=vmin, vmax=vmax, interpolation="nearest")
    label = f"{name} stderr" if stderr else name
    fig.colorbar(im, ax=ax, label=label)
    nbad = int(bad.sum())
    ax.set(title=label + (f" ({nbad} failed fits blank)" if nbad else ""), xlabel="x pixel",
           ylabel="y pixel")
    return fig
