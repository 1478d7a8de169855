"""Multi-start fits: ``n_starts=k`` runs k starts per fit as one batch of N*k.

Start 0 of every fit is the given one; starts 1..k-1 are drawn (numpy
``default_rng(seed)``), per free parameter:

* finite ``min`` and ``max``: uniform on ``[min, max]``;
* one finite bound (``min`` only, or ``max`` only): the distance ``d`` of
  the start from that bound is drawn log-uniformly over ``DECADES`` decades
  either side (``min + d 10^U(-2, 2)``): a positive parameter with
  ``min=0`` is drawn log-uniformly from ``start/100`` to ``100 start``; a
  start on its bound uses ``d = max(|start|, 1)``;
* no bound: magnitude ``|start| 10^U(-2, 2)`` (``|start|`` = 1 for a
  start of 0), either sign with probability 1/2: the sign of an unbounded
  parameter is not assumed known.

The best start of each fit is kept: the lowest chi-square among its
successful starts, else the lowest of all. ``nstarts_best`` counts the
successful starts whose chi-square is within ``BEST_RTOL`` (relative) of
the kept one; ``start_index`` is the kept start (0 = the given one) and
``chisqr_starts`` (N, k) every start's chi-square.
"""

from __future__ import annotations

import numpy as np

from ..engine._chunked import positive_int
from ..solver._results import success_codes

DECADES = 2.0
BEST_RTOL = 1e-6


def check_n_starts(n_starts, seed):
    k = positive_int(n_starts, "n_starts")
    if seed is not None and (isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer))):
        raise TypeError(f"seed must be an integer or None, got {seed!r}")
    return k


def draw(start, lo, hi, k, rng):
    """Starts (B, k) for one parameter: column 0 is ``start`` (B,)."""
    B = start.shape[0]
    u = rng.uniform(0.0, 1.0, (B, k - 1))
    lg = 10.0 ** rng.uniform(-DECADES, DECADES, (B, k - 1))
    s, a, b = start[:, None], lo[:, None], hi[:, None]
    fa, fb = np.isfinite(a), np.isfinite(b)
    with np.errstate(invalid="ignore", over="ignore"):
        both = a + u * (b - a)
        da = np.where(s - a > 0, s - a, np.maximum(np.abs(s), 1.0))
        db = np.where(b - s > 0, b - s, np.maximum(np.abs(s), 1.0))
        sign = np.where(rng.uniform(0.0, 1.0, u.shape) < 0.5, -1.0, 1.0)
        free = sign * np.where(s != 0, np.abs(s), 1.0) * lg
        out = np.where(fa & fb, both, np.where(fa, a + da * lg, np.where(fb, b - db * lg, free)))
    out = np.clip(out, a, b)
    return np.concatenate([start[:, None], out], axis=1)


def expand_params(params, free, B, k, seed):
    """``params`` with every attribute repeated k times per fit (fit-major:
    row ``b k + s``) and the free parameters' values replaced by the starts."""
    rng = np.random.default_rng(0 if seed is None else seed)
    out = params.copy()
    for name, p in out.items():
        vals = {}
        for attr in ("value", "min", "max"):
            v = getattr(p, attr)
            if v is None:
                continue
            vals[attr] = np.repeat(np.broadcast_to(np.asarray(v, dtype=float), (B,)), k)
        if name in free:
            rep = {a: v.reshape(B, k)[:, 0] for a, v in vals.items()}
            lo = rep.get("min", np.full(B, -np.inf))
            hi = rep.get("max", np.full(B, np.inf))
            vals["value"] = draw(rep["value"], lo, hi, k, rng).ravel()
        for attr in ("min", "max", "value"):  # bounds first: a value is checked against them
            if attr in vals:
                setattr(p, attr, vals[attr])
    return out


def best_rows(chisqr, status, B, k):
    """The kept start of each fit and the counts: (rows into N*k, start
    index, nstarts_best, chisqr (B, k))."""
    c = np.asarray(chisqr, dtype=float).reshape(B, k)
    ok = np.isin(np.asarray(status).reshape(B, k), success_codes()) & np.isfinite(c)
    key = np.where(ok, c, np.inf)
    s_ok = np.argmin(key, axis=1)
    s_any = np.argmin(np.where(np.isfinite(c), c, np.inf), axis=1)
    s = np.where(ok.any(axis=1), s_ok, s_any)
    cb = c[np.arange(B), s]
    near = ok & (c <= cb[:, None] + BEST_RTOL * np.abs(cb[:, None]))
    return np.arange(B) * k + s, s, near.sum(axis=1), c


def select_extras(extras, idx, n):
    """Per-fit extras (leading axis n) taken at rows ``idx``."""
    def take(v, min_ndim):
        return v[idx] if isinstance(v, np.ndarray) and v.ndim >= min_ndim and v.shape[0] == n else v

    return {key: ({kk: take(vv, 2) for kk, vv in v.items()} if isinstance(v, dict) else take(v, 1))
            for key, v in extras.items()}
