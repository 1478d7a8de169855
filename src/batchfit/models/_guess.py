"""Plumbing of vectorised guesses: validate data, masked reductions, batched
linear least squares, and Parameters from per-dataset estimates.

Everything is numpy over a leading dataset axis N; nothing loops over
datasets. Non-finite points are left out of every estimate.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class GuessData(NamedTuple):
    y: np.ndarray  # (N, m), non-finite points set to 0
    valid: np.ndarray  # (N, m) finite data and independent variables
    ind: dict  # name -> (N, m), invalid points set to 0
    shared: bool  # every independent variable given as (m,)
    batched: bool  # data given as (N, m)
    short: np.ndarray | None = None  # (N,) datasets with too few points: given the median guess


def _numeric(a, what, label):
    arr = np.asarray(a)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{label}: {what} must be real numbers, got dtype {arr.dtype}")
    return arr.astype(float)  # a copy: inputs are never modified


def _ragged(a):
    return isinstance(a, (list, tuple)) and len(a) > 0 and all(np.ndim(v) == 1 for v in a) and len(
        {len(v) for v in a}) > 1


def _pad_nan(rows, what, label):
    """Datasets of unequal length -> (N, m) padded with NaN (left out of every estimate)."""
    rows = [_numeric(r, f"{what}[{i}]", label) for i, r in enumerate(rows)]
    out = np.full((len(rows), max(len(r) for r in rows)), np.nan)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def _ragged_inputs(data, indep, label):
    """Ragged ``data`` (a list of 1-D datasets) and its independent variables
    (lists of the same lengths) padded with NaN, so each dataset is guessed alone."""
    lengths = [len(d) for d in data]
    out = {}
    for name, a in indep.items():
        if a is not None and not (isinstance(a, (list, tuple)) and len(a) == len(data)
                                  and all(np.ndim(v) == 1 and len(v) == n for v, n in zip(a, lengths))):
            raise ValueError(f"{label}: data is a list of datasets of unequal lengths {lengths[:5]}"
                             f"{'...' if len(data) > 5 else ''}; {name} must then be a list of arrays "
                             "of the same lengths")
        out[name] = None if a is None else _pad_nan(a, name, label)
    return _pad_nan(data, "data", label), out


def _check_spread(ind, valid, batched, label):
    """An independent variable with one value over a dataset's points gives
    no width, slope or decay to guess."""
    for name, arr in ind.items():
        n = valid.sum(axis=1)
        lo = np.min(np.where(valid, arr, np.inf), axis=1)
        hi = np.max(np.where(valid, arr, -np.inf), axis=1)
        bad = np.nonzero((n >= 2) & (lo == hi))[0]
        if bad.size:
            where = f" in dataset {bad[0]}" if batched else ""
            raise ValueError(f"{label}: all {name} values are equal{where} ({name} = {lo[bad[0]]:.7g}): "
                             "a width, slope or rate cannot be guessed; give starting values "
                             "(make_params) instead")


def prepare(model, data, min_points=2, **indep) -> GuessData:
    """Validate ``data`` ((m,) or (N, m), or a list of 1-D datasets of
    unequal lengths) and independent variables ((m,) or (N, m), or lists)."""
    label = f"{type(model).__name__}.guess"
    if _ragged(data):
        data, indep = _ragged_inputs(data, indep, label)
    y = _numeric(data, "data", label)
    if y.ndim not in (1, 2) or y.shape[-1] == 0 or y.shape[0] == 0:
        raise ValueError(f"{label}: data must have shape (m,) or (N, m) with m > 0, got {y.shape}")
    batched = y.ndim == 2
    y = y if batched else y[None]
    N, m = y.shape
    ind, shared = {}, True
    for name, a in indep.items():
        if a is None:
            raise ValueError(f"{label}: the independent variable {name!r} is required")
        arr = _numeric(a, name, label)
        if arr.shape == (m,):
            arr = np.broadcast_to(arr, (N, m))
        elif batched and arr.shape == (N, m):
            shared = False
        else:
            want = f"({m},) or ({N}, {m})" if batched else f"({m},)"
            raise ValueError(f"{label}: {name} has shape {arr.shape}, but data needs {want}")
        ind[name] = arr
    valid = np.isfinite(y)
    for arr in ind.values():
        valid = valid & np.isfinite(arr)
    _check_spread(ind, valid, batched, label)
    count = valid.sum(axis=1)
    short = count < min_points
    if short.all():
        where = "every dataset" if batched else "data"
        raise ValueError(f"{label}: {where} has fewer than {min_points} finite points; at least "
                         f"{min_points} are needed")
    if short.any():  # estimate on a good dataset's copy, then give them the median guess
        good = int(np.argmax(~short))
        y, valid = y.copy(), valid.copy()
        y[short], valid[short] = y[good], valid[good]
        ind = {k: np.array(v) for k, v in ind.items()}
        for v in ind.values():
            v[short] = v[good]
    ind = {k: np.where(valid, v, 0.0) for k, v in ind.items()}
    return GuessData(np.where(valid, y, 0.0), valid, ind, shared, batched,
                     short if short.any() else None)


def finish(model, values: dict, g: GuessData, overrides: dict):
    """Parameters from per-dataset estimates ``{root name: (N,)}``.

    ``overrides`` (unprefixed names, lmfit's ``guess(..., **kws)``) replace
    estimates; values are (N,) arrays for batched data, scalars otherwise.
    """
    unknown = sorted(k for k in overrides if model.prefix + k not in model._all_names())
    if unknown:
        raise ValueError(f"{type(model).__name__}.guess: unknown parameter(s) {unknown}")
    init = {}
    if g.short is not None:
        values = {k: _median_for_short(v, g.short) for k, v in values.items()}
    for k, v in {**values, **overrides}.items():
        v = np.asarray(v, dtype=float)
        init[model.prefix + k] = (np.array(v) if v.ndim else float(v)) if g.batched else float(
            v.reshape(-1)[0])
    return model.make_params(**init)


def _median_for_short(v, short):
    v = np.array(np.broadcast_to(np.asarray(v, dtype=float), short.shape))
    ok = ~short & np.isfinite(v)
    v[short] = np.median(v[ok]) if ok.any() else np.nan
    return v


def masked_max(a, v):
    return np.max(np.where(v, a, -np.inf), axis=1)


def masked_min(a, v):
    return np.min(np.where(v, a, np.inf), axis=1)


def masked_mean(a, v):
    return np.sum(np.where(v, a, 0.0), axis=1) / np.maximum(v.sum(axis=1), 1)


def masked_median(a, v, empty):
    """Median of each row's valid entries (``empty`` where there are none)."""
    n = v.sum(axis=1)
    srt = np.sort(np.where(v, a, np.inf), axis=1)
    lo, hi = take(srt, np.maximum((n - 1) // 2, 0)), take(srt, np.maximum(n // 2, 0))
    return np.where(n > 0, 0.5 * (lo + hi), empty)


def take(a, idx):
    """``a[i, idx[i]]`` for every row i."""
    return np.take_along_axis(a, np.asarray(idx)[:, None], axis=1)[:, 0]


def sort_by(g: GuessData, name: str):
    """(x, y, valid) with each row sorted by ``x``; invalid points last."""
    x = g.ind[name]
    order = np.argsort(np.where(g.valid, x, np.inf), axis=1, kind="stable")
    return (np.take_along_axis(x, order, axis=1), np.take_along_axis(g.y, order, axis=1),
            np.take_along_axis(g.valid, order, axis=1))


def lstsq(A, b, v):
    """Per-row least squares ``A c[i] ~ b[i]`` over valid points: c (N, k).

    ``A`` is (m, k) when shared by every row (then, with no invalid point,
    one multi-right-hand-side solve) or (N, m, k) (stacked QR).
    """
    if A.ndim == 2 and v.all():
        scale = _col_scale(A)
        c, *_ = np.linalg.lstsq(A / scale, b.T, rcond=None)
        return (c / scale[:, None]).T
    if not v.all():
        A, b = np.where(v[..., None], A, 0.0), np.where(v, b, 0.0)
    scale = _col_scale(A)
    q, r = np.linalg.qr(A / scale[..., None, :])  # stacked; pinv(r) copes with rank deficiency
    c = np.linalg.pinv(r) @ (np.swapaxes(q, -1, -2) @ b[..., None])
    return c[..., 0] / scale


def normal_lstsq(cols, b, w):
    """Per-row weighted least squares ``sum_j c_j cols[j] ~ b`` (weights ``w``,
    0 for invalid points) by the normal equations of the scaled columns.

    For few, well-scaled columns: it never builds the (N, m, k) matrix.
    """
    norms = [np.sqrt(np.sum(w * c * c, axis=1)) for c in cols]
    norms = [np.where(n > 0, n, 1.0) for n in norms]
    k = len(cols)
    G = np.empty((b.shape[0], k, k))
    for i in range(k):
        for j in range(i, k):
            G[:, i, j] = G[:, j, i] = np.sum(w * cols[i] * cols[j], axis=1) / (norms[i] * norms[j])
    r = np.stack([np.sum(w * c * b, axis=1) / n for c, n in zip(cols, norms)], axis=1)
    return (np.linalg.pinv(G) @ r[..., None])[..., 0] / np.stack(norms, axis=1)


def _col_scale(A):
    s = np.sqrt(np.einsum("...mk,...mk->...k", A, A))
    return np.where(s > 0, s, 1.0)


def polyfit(x, y, v, deg, shared):
    """``numpy.polyfit`` per row (highest power first), over valid points: (N, deg + 1)."""
    powers = np.arange(deg, -1, -1)
    return lstsq((x[0] if shared else x)[..., None] ** powers, y, v)


def linregress(u, y, v):
    """Per-row straight line ``y ~ a + b u`` over valid points: (a, b, sse)."""
    n = np.maximum(v.sum(axis=1), 1)
    ub = np.sum(np.where(v, u, 0.0), axis=1) / n
    yb = np.sum(np.where(v, y, 0.0), axis=1) / n
    du, dy = np.where(v, u - ub[:, None], 0.0), np.where(v, y - yb[:, None], 0.0)
    suu = np.sum(du * du, axis=1)
    b = np.sum(du * dy, axis=1) / np.where(suu > 0, suu, 1.0)
    sse = np.sum((dy - b[:, None] * du) ** 2, axis=1)
    return yb - b * ub, b, sse
