"""Confidence intervals by profile likelihood (lmfit's ``conf_interval``), batched.

For each parameter, direction and sigma level the interval end is the
value ``v`` where the profile chi-square (every other free parameter
refitted, ``v`` held) reaches its target:

* chi-square fits: lmfit's F-test, ``F_cdf((chi2/chi2_best - 1) nfree, 1,
  nfree) = prob`` (``f_compare`` with one fixed parameter), solved for
  ``chi2`` once per fit;
* C-statistic fits (``result.statistic == "cstat"``): ``C = C_best +
  sigma^2``, as Sherpa's ``conf`` and Minuit's MINOS.

The roots are searched in lockstep rounds: each round fits every open
point of every parameter of every fit in one solver call (see
``_profile``). The search runs on ``h(v) = sqrt(chi2(v) - chi2_best)``,
which is linear in ``v`` for a linear model: a first guess from the
standard error, linear extrapolation until the root is bracketed, then
the secant of the two latest points, kept inside the bracket (bisection
where it would leave it). A root converges when ``h`` is within ``rtol``
of its target (relative); an end beyond a bound is ``-inf``/``+inf``
(lmfit's value where a level is not reached); a profile fit that fails
gives NaN for that end only.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..solver import bucket_size
from ._errors import CONF_ERR_NVARS, MinimizerException
from ._distributions import f_ppf, prob_to_sigma, sigma_to_prob
from ._groups import FlatView, flat_names, is_group_result
from ._profile import profile_fits, refit_of
from ._trace import build_trace, check_prob_func, targets_from_prob_func


def _check_sigmas(sigmas):
    try:
        s = np.asarray(sigmas, dtype=float).ravel()
    except (TypeError, ValueError):
        raise TypeError(f"conf_interval: sigmas must be numbers, got {sigmas!r}") from None
    if s.size == 0 or not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise ValueError(f"conf_interval: sigmas must be positive and finite, got {sigmas!r}")
    return np.sort(s)


def _targets(result, probs):
    """(B, S) increase of chi-square (or C) at each level."""
    chi2 = np.asarray(result._a["chisqr"], dtype=float)
    if getattr(result, "statistic", "chi2") == "cstat":
        return np.broadcast_to(prob_to_sigma(probs)[None, :] ** 2, (len(chi2), len(probs))).copy()
    nfree = np.maximum(np.asarray(result._a["nfree"], dtype=float), 1.0)
    return chi2[:, None] * f_ppf(probs[None, :], 1.0, nfree[:, None]) / nfree[:, None]


def conf_interval(result, p_names=None, sigmas=None, trace=False, maxiter=50, verbose=False,
                  prob_func=None, *, rtol=1e-5):
    """Profile-likelihood confidence intervals of a fit, or of every fit of a batch.

    Args:
      result: a :class:`~batchfit.FitResult` of ``minimize`` or ``Model.fit``.
      p_names: names of free parameters (default: all of them).
      sigmas: levels in standard deviations (a value below 1 is a
        probability, as in lmfit); default (None) ``(1, 2, 3)``.
      maxiter: most search rounds (each one solver call for all open points);
        an end still open after them is NaN, with a warning.
      verbose: print ``Calculating CI for <name>`` for each parameter.
      rtol: relative tolerance on ``sqrt(chi2 - chi2_best)`` at a root.
      trace: also return lmfit's trace, ``{name: {param: values, ...,
        "prob": probs}}`` of every profile fit (arrays (N, P), NaN-padded,
        for a batch); see ``inference/_trace.py``.
      prob_func: lmfit's ``prob_func(best, new)`` in place of the F-test
        (a function of the profile fit's chi-square, growing with it).

    Returns:
      lmfit's layout ``{name: [(prob, lower), ..., (0.0, best), ..., (prob,
      upper)]}``, the lower ends from the widest level in; values are floats
      for a single fit, arrays (N,) for a batch (NaN for fits that did not
      succeed or have no error bars); with ``trace=True`` the pair ``(ci,
      trace)``, as lmfit.

    Example:
      >>> import numpy as np, batchfit as bf
      >>> x = np.linspace(0, 1, 21); y = 2.0 * x + 1.0 + 0.1 * np.sin(37 * x)
      >>> res = bf.Model(lambda x, a, b: a * x + b).fit(y, x=x, a=1.0, b=0.0)
      >>> ci = bf.conf_interval(res, sigmas=(1,))
      >>> [round(p, 4) for p, _ in ci["a"]]
      [0.6827, 0.0, 0.6827]

    For a :class:`~batchfit.groups.GroupFitResult` each group is one fit of
    its flat parameters (shared ones by name, a per-dataset ``p`` as ``p_0
    ... p_{K-1}``, the names of ``result.var_names``), and every point of
    every group goes into the same solver calls; ``p_names`` may name a
    per-dataset parameter as a whole. Values are floats for one group,
    arrays (G,) for G groups.
    """
    if is_group_result(result):
        view = FlatView(result, "conf_interval")
        return conf_interval(view, flat_names(p_names, result, view._spec.free), sigmas, trace,
                             maxiter=maxiter, verbose=verbose, rtol=rtol, prob_func=prob_func)
    refit, rows = refit_of(result, "conf_interval")
    spec = result._spec
    free = list(spec.free)
    n = len(free)
    if n < 2:
        raise MinimizerException(CONF_ERR_NVARS)
    names = free if p_names is None else ([p_names] if isinstance(p_names, str) else list(p_names))
    for name in names:
        if name not in free:
            raise ValueError(f"conf_interval: {name!r} is not a free parameter; free: {free}")
    if not (isinstance(maxiter, (int, np.integer)) and maxiter >= 1):
        raise ValueError(f"conf_interval: maxiter must be a positive integer, got {maxiter!r}")
    s = _check_sigmas((1, 2, 3) if sigmas is None else sigmas)
    check_prob_func(prob_func)
    probs = sigma_to_prob(s)
    B, S = len(result), len(s)
    col = [spec.names.index(f) for f in free]
    best = np.asarray(result._a["values_all"][:, col], dtype=float)
    chi2b = np.asarray(result._a["chisqr"], dtype=float)
    usable = result._a["errorbars"] & np.isin(result._a["status"], _success()) & np.isfinite(chi2b)
    if not result.batched and not usable[0]:
        raise ValueError("conf_interval: the fit did not succeed or has no error bars")
    z = np.sqrt(_targets(result, probs) if prob_func is None else
                targets_from_prob_func(result, probs, prob_func))  # (B, S)
    cov = np.asarray(result._a["covar"], dtype=float)
    var = np.diagonal(cov, axis1=1, axis2=2)
    redchi = np.asarray(result._a["redchi"], dtype=float)
    su = np.sqrt(var / (redchi[:, None] if refit.scale_covar else 1.0))  # unscaled sigma
    lo = np.asarray(refit.per_fit["lo"][rows], dtype=float)
    hi = np.asarray(refit.per_fit["hi"][rows], dtype=float)

    # one root per (fit, parameter, direction, level)
    jn = np.array([free.index(m) for m in names])
    b, jj, d, k = (a.ravel() for a in np.meshgrid(np.nonzero(usable)[0], jn, [-1.0, 1.0],
                                                    np.arange(S), indexing="ij"))
    out = np.full(len(b), np.nan)
    log = [] if trace else None
    if verbose:
        for name in names:
            print(f"Calculating CI for {name}")
    if len(b):
        out, still = _search(refit, rows, b, jj, d, z[b, k], best, chi2b, cov, su, lo, hi, maxiter, rtol,
                             log)
        _warn_ends(result, names, free, b, jj, out, still, maxiter)
    vals = np.full((len(jn), 2, S, B), np.nan)
    pos = {int(j): i for i, j in enumerate(jn)}
    ji = np.array([pos[int(j)] for j in jj], dtype=int)
    vals[ji, (d > 0).astype(int), k, b] = out

    def val(a):
        return a if result.batched else float(a[0])

    ci = {}
    for i, name in enumerate(names):
        j = free.index(name)
        lower = [(float(probs[q]), val(vals[i, 0, q])) for q in reversed(range(S))]
        upper = [(float(probs[q]), val(vals[i, 1, q])) for q in range(S)]
        ci[name] = lower + [(0.0, val(best[:, j]))] + upper
    if trace:
        return ci, build_trace(result, refit, rows, names, log or [], b, jj, d, best, prob_func)
    return ci


def _warn_ends(result, names, free, b, jj, out, still, maxiter):
    """lmfit's warnings: a search stopped by ``maxiter``, an end beyond a bound."""
    where = "" if not result.batched else " (in {} of the fits)"
    for name in names:
        sel = jj == free.index(name)
        n_open = np.unique(b[sel & still]).size
        if n_open:
            warnings.warn(f"maxiter={maxiter} reached and prob({name}) < target{where.format(n_open)}: "
                          "those interval ends are NaN", UserWarning, stacklevel=3)
        n_bound = np.unique(b[sel & np.isinf(out)]).size
        if n_bound:
            warnings.warn(f"Bound reached with prob({name}) < max(sigmas){where.format(n_bound)}: "
                          "those interval ends are -inf/+inf", UserWarning, stacklevel=3)


def _success():
    from ..solver._results import success_codes

    return success_codes()


def _search(refit, rows, b, jj, d, z, best, chi2b, cov, su, lo, hi, maxiter, rtol, log=None):
    """The roots, one per entry of the flat arrays (fit ``b``, free index
    ``jj``, direction ``d``, target ``z`` of ``h``)."""
    R = len(b)
    v0 = best[b, jj]
    tmax = np.where(d > 0, hi[b, jj] - v0, v0 - lo[b, jj])  # distance to the bound
    sig = su[b, jj]
    step = np.where(np.isfinite(sig) & (sig > 0), z * sig, np.maximum(0.2 * np.abs(v0), 1e-3))
    t = np.minimum(step, tmax)
    # linear prediction of the others along the profile: cov[:, j] / cov[j, j]
    slope = cov[b, :, jj] / cov[b, jj, jj][:, None]
    slope = np.where(np.isfinite(slope), slope, 0.0)
    start = best[b] + slope * (d * t)[:, None]
    t_lo, h_lo = np.zeros(R), np.zeros(R)
    t_hi, h_hi = np.full(R, np.nan), np.full(R, np.nan)
    t_prev, h_prev = np.zeros(R), np.zeros(R)
    out = np.full(R, np.nan)
    open_ = np.ones(R, dtype=bool)
    for _ in range(maxiter):
        a = np.nonzero(open_)[0]
        if a.size == 0:
            break
        chi2, sol, ok = profile_fits(refit, rows[b[a]], jj[a], best[b[a], jj[a]] + d[a] * t[a], start[a],
                                     cap=bucket_size(R))
        if log is not None:  # the trace: every profile fit of this round
            log.append((a, chi2, sol, ok))
        h = np.sqrt(np.maximum(chi2 - chi2b[b[a]], 0.0))
        ta, za = t[a], z[a]
        fail = ~ok
        out[a[fail]] = np.nan
        conv = ok & (np.abs(h - za) <= rtol * za)
        out[a[conv]] = (best[b, jj] + d * t)[a[conv]]
        below = ok & (h < za)
        at_bound = below & ~conv & (ta >= tmax[a])
        out[a[at_bound]] = d[a[at_bound]] * np.inf
        done = fail | conv | at_bound
        # bracket update
        t_lo[a] = np.where(below, ta, t_lo[a])
        h_lo[a] = np.where(below, h, h_lo[a])
        t_hi[a] = np.where(ok & ~below, ta, t_hi[a])
        h_hi[a] = np.where(ok & ~below, h, h_hi[a])
        width = t_hi[a] - t_lo[a]
        narrow = ~done & np.isfinite(width) & (width <= rtol * t_hi[a])
        out[a[narrow]] = (best[b, jj] + d * 0.5 * (t_lo + t_hi))[a[narrow]]
        done |= narrow
        # next point: secant of the two latest points, inside the bracket
        with np.errstate(divide="ignore", invalid="ignore"):
            sec = ta + (za - h) * (ta - t_prev[a]) / (h - h_prev[a])
            grow = np.where(h > 0, ta * za / h, 4.0 * ta)
        bracketed = np.isfinite(t_hi[a])
        inside = np.isfinite(sec) & (sec > t_lo[a]) & (sec < t_hi[a])
        nxt = np.where(bracketed, np.where(inside, sec, 0.5 * (t_lo[a] + t_hi[a])),
                       np.minimum(np.clip(np.where(np.isfinite(sec) & (sec > ta), sec, grow),
                                          1.01 * ta, 4.0 * ta), tmax[a]))
        t_prev[a], h_prev[a] = ta, h
        t[a] = nxt
        start[a] = np.where(ok[:, None], sol, start[a]) + slope[a] * (d[a] * (nxt - ta))[:, None]
        open_[a[done]] = False
    return out, open_
