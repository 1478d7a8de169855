"""lmfit's ``prob_func`` and ``trace`` options of ``conf_interval``.

``prob_func(best, new)`` is lmfit's: the probability of a profile fit
``new`` against the best fit ``best``, objects with lmfit's statistics
(``chisqr``, ``nfree``, ``nvarys``, ``ndata``, ``redchi``). Like lmfit's
own ``f_compare`` it is taken to depend on the profile fit through its
chi-square only, and to grow with it: each level's target chi-square is
found once per fit by bisection (the function called on arrays of all
fits at once where it accepts them). The trace is lmfit's layout:
``{profiled: {name: values, ..., "prob": probs}}`` over every parameter,
each direction's points after the best fit (prob 0), in the order fitted.
"""

from __future__ import annotations

from types import SimpleNamespace

import jax
import numpy as np

from ..problem._compat import x64_context
from ..problem._pack import values_from_external
from ..solver._xla import jit as xla_jit
from ._distributions import f_cdf, sigma_to_prob


def _fits(result, chisqr, nvarys, idx):
    ndata = np.asarray(result._a["ndata"], dtype=float)[idx]
    chisqr = np.asarray(chisqr, dtype=float)
    chisqr = chisqr[idx] if chisqr.shape != idx.shape else chisqr
    nfree = ndata - nvarys
    return SimpleNamespace(chisqr=chisqr, nvarys=nvarys, nfree=nfree, ndata=ndata,
                           redchi=chisqr / np.maximum(nfree, 1), params=None)


def _call(prob_func, result, chi2, idx=None):
    """prob_func on the chi-squares ``chi2`` of fits ``idx`` (default all),
    vectorised where it allows."""
    nv = float(result._spec.nfree)
    idx = np.arange(len(result)) if idx is None else idx
    best = _fits(result, np.asarray(result._a["chisqr"], dtype=float), nv, idx)
    new = _fits(result, chi2, nv - 1.0, idx)
    try:
        out = np.asarray(prob_func(best, new), dtype=float)
        if out.shape == chi2.shape:
            return out
    except Exception:  # a scalar-only function: one fit at a time
        pass

    def pick(ns, i):
        return SimpleNamespace(**{k: (float(v[i]) if isinstance(v, np.ndarray) else v) for k, v in vars(ns).items()})

    return np.array([float(prob_func(pick(best, i), pick(new, i))) for i in range(len(chi2))])


def check_prob_func(prob_func):
    if prob_func is not None and not callable(prob_func):
        raise TypeError(f"conf_interval: prob_func must be callable as prob_func(best, new), got {prob_func!r}")


def targets_from_prob_func(result, probs, prob_func, iters=100):
    """(B, S) increase of chi-square at which ``prob_func`` reaches each level."""
    chi2b = np.asarray(result._a["chisqr"], dtype=float)
    out = np.empty((len(chi2b), len(probs)))
    for q, p in enumerate(probs):
        lo, hi = np.zeros_like(chi2b), np.maximum(np.abs(chi2b), 1.0)
        for _ in range(60):  # grow the bracket until prob >= p
            short = _call(prob_func, result, chi2b + hi) < p
            if not np.any(short):
                break
            hi = np.where(short, 4.0 * hi, hi)
        for _ in range(iters):
            mid = 0.5 * (lo + hi)
            below = _call(prob_func, result, chi2b + mid) < p
            lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
        out[:, q] = 0.5 * (lo + hi)
    return out


def point_probs(result, chi2, b, prob_func):
    """The probability of profile points (chi-square ``chi2`` of fit ``b``)."""
    chi2b = np.asarray(result._a["chisqr"], dtype=float)[b]
    if prob_func is not None:
        return _call(prob_func, result, chi2, b)
    d = np.maximum(chi2 - chi2b, 0.0)
    if getattr(result, "statistic", "chi2") == "cstat":
        return sigma_to_prob(np.sqrt(d))
    nfree = np.maximum(np.asarray(result._a["nfree"], dtype=float)[b], 1.0)
    return f_cdf(d / chi2b * nfree, 1.0, nfree)


def build_trace(result, refit, rows, names, log, b, jj, d, best, prob_func):
    """lmfit's trace from the search's ``log`` of (root indices, chi2, full
    free solutions, ok) per round."""
    spec = refit.spec
    free = list(spec.free)
    vals = np.asarray(result._a["values_all"], dtype=float)
    B = len(result)
    per = refit.per_fit
    fixed, tlo, thi = (np.asarray(per[k][rows], dtype=float) for k in ("fixed", "tied_lo", "tied_hi"))
    pts = {name: [[] for _ in range(B)] for name in names}  # (free vector, prob) per fit
    for i, name in enumerate(names):
        j = free.index(name)
        for fit in range(B):
            for sgn in (-1.0, 1.0):
                pts[name][fit].append((best[fit], 0.0))
                for a, chi2, sol, ok in log:
                    sel = (b[a] == fit) & (jj[a] == j) & (d[a] == sgn) & ok
                    if np.any(sel):
                        pr = point_probs(result, chi2[sel], b[a][sel], prob_func)
                        pts[name][fit] += list(zip(sol[sel], pr))
    all_names = list(spec.names)
    fn = xla_jit(jax.vmap(lambda v, f, lo, hi: values_from_external(spec, v, f, lo, hi)))
    out = {}
    for name in names:
        P = max(max(len(p) for p in pts[name]), 1)
        table = {n: np.full((B, P), np.nan) for n in all_names + ["prob"]}
        for fit in range(B):
            rows_ = pts[name][fit]
            if not rows_:
                continue
            v = np.array([r[0] for r in rows_])
            idx = np.zeros(len(v), dtype=int) + fit
            with x64_context(np.float64):
                full = fn(v, fixed[idx], tlo[idx], thi[idx])
            for n in all_names:
                table[n][fit, :len(v)] = np.asarray(full[n], dtype=float) if n in full else vals[fit, all_names.index(n)]
            table["prob"][fit, :len(v)] = [r[1] for r in rows_]
        out[name] = table if result.batched else {k: a[0] for k, a in table.items()}
    return out
