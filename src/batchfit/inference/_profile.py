"""Profile fits: a result's problem refitted with one free parameter held
fixed, for many (fit, parameter, value) points in one solver call.

Every point of every parameter of every fit is one member of a single
batch: its free vector is the other ``n - 1`` parameters, and the residual
puts the held value back in place (``profile_residual``), so the profiled
parameter may differ from point to point under one compiled program.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from ..params._bounds import to_external, to_internal
from ..problem._compat import x64_context
from ..solver import bucket_size, solve
from ..solver._results import success_codes


class NoProblemError(ValueError):
    """The result carries no fitting problem to refit (e.g. loaded from a file)."""


def refit_of(result, what):
    """The :class:`~batchfit.engine._refit.Refit` of ``result`` and its rows."""
    r = getattr(result, "extras", {}).get("refit")
    if r is None or getattr(r, "refit", None) is None:
        raise NoProblemError(
            f"{what} refits the problem of a result, and this result carries none (a result loaded "
            "from a file): fit again with minimize or Model.fit")
    return r.refit, r.index


@functools.lru_cache(maxsize=256)
def profile_residual(resid_ext, n: int):
    """The residual of a profile point: ``theta`` holds the other free
    parameters (internal, bounded by ``p["plo"], p["phi"]``), ``p["j"]``
    the index of the held parameter and ``p["v"]`` its value."""

    def resid(theta, p, shared):
        ext = to_external(theta, p["plo"], p["phi"])
        idx = jnp.arange(n)
        src = jnp.clip(idx - (idx > p["j"]).astype(idx.dtype), 0, n - 2)
        full = jnp.where(idx == p["j"], p["v"].astype(ext.dtype), ext[src])
        return resid_ext(full, p["orig"], shared)

    return resid


def _drop(a, j):
    """Rows of ``a`` (P, n) without column ``j[k]`` in row k: (P, n - 1)."""
    P, n = a.shape
    keep = np.arange(n)[None, :] != j[:, None]
    return a[keep].reshape(P, n - 1)


def _insert(a, j, v):
    """Rows of ``a`` (P, n - 1) with ``v[k]`` put back at column ``j[k]``: (P, n)."""
    m = a.shape[1]
    idx = np.arange(m + 1)[None, :]
    src = np.clip(idx - (idx > j[:, None]), 0, m - 1)
    return np.where(idx == j[:, None], v[:, None], np.take_along_axis(a, src, axis=1))


def profile_fits(refit, rows, j, v, start, cap=None):
    """Fit the profile points ``(rows[k], j[k], v[k])`` from ``start`` (P, n)
    external values of every free parameter (column ``j`` ignored).

    Returns ``chi2`` (P,), the full external solution (P, n) and ``ok``
    (P,): the fit succeeded and its chi-square is finite. The batch is
    padded to a power of 4 (at most ``cap``, a bucket size), so a search
    whose points finish round by round compiles a few shapes only.
    """
    n = refit.spec.nfree
    dt = refit.dtype
    P = len(rows)
    lo, hi = refit.per_fit["lo"][rows], refit.per_fit["hi"][rows]
    plo, phi = _drop(lo, j), _drop(hi, j)
    s = np.clip(_drop(np.asarray(start, dtype=float), j), plo, phi)
    theta0 = to_internal(s, plo, phi).astype(dt)
    orig = jax.tree_util.tree_map(lambda a: a[rows], refit.per_fit)
    per = {"orig": orig, "plo": plo.astype(dt), "phi": phi.astype(dt), "j": j.astype(np.int32),
           "v": np.asarray(v, dtype=dt)}
    size = min(max(16, 4 ** int(np.ceil(np.log(max(P, 1)) / np.log(4) - 1e-9))), cap or bucket_size(P))
    size = max(size, bucket_size(P))
    if size != P:  # pad with copies of the last point: one compiled shape per bucket
        idx = np.minimum(np.arange(size), P - 1)
        theta0, per = jax.tree_util.tree_map(lambda a: a[idx], (theta0, per))
    cfg = dataclasses.replace(refit.cfg, method="lm").resolved(dt, n - 1)
    resid = profile_residual(refit.resid_ext, n)
    with x64_context(dt):
        theta0, per = jax.device_put((theta0, per))
        out = solve(resid, theta0, per, refit.shared, cfg)
        ext = np.asarray(to_external(jnp.asarray(out.theta), per["plo"], per["phi"]))[:P]
    chi2 = np.asarray(out.chi2[:P], dtype=float)
    ok = np.isin(out.status[:P], success_codes()) & np.isfinite(chi2)
    return chi2, _insert(ext.astype(float), j, np.asarray(v, dtype=float)), ok
