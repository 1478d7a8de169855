"""Fits that converged to a saddle are run again from a start off it.

The statistics (``stats/_compute._covar_svd``) probe chi-square along the
softest direction of the fits whose Jacobian is ill-conditioned at their
solution: a probe below the solution marks a stationary point that is no
minimum, which the Gauss-Newton model cannot see (a skewed peak started
symmetric, where the skew acts as the centre does). Each such fit that
reported success, or stalled there, is solved once more from its lowest probe, all of them
in one batch; the better run is kept and ``nfev`` counts both. A second
run that fails below the first's chi-square leaves the fit STALLED: its
first end was no minimum. Fits that end cleanly, nearly all, pay nothing.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..params._bounds import to_internal
from ..solver import RESULTS, bucket_size, solve
from ..solver._results import success_codes
from ..stats import _compute as _stats

_FIELDS = ("values", "residual", "chisqr", "covar", "stderr", "errorbars")


def _rows(tree, idx):
    return jax.tree_util.tree_map(lambda a: a[jnp.asarray(idx)], tree)


def escape(resid, resid_ext, spec, out, st, per_fit, shared, ndata, scale_covar, cfg):
    """``(out, st)`` with each successful or stalled saddle fit of ``st.saddles``
    replaced by its run from the start there, where that run succeeds at a
    chi-square lower beyond the convergence band. ``out`` and ``st`` are
    host arrays over the padded batch; ``per_fit`` is on the device."""
    idx, starts = st.saddles
    keep = np.isin(out.status[idx], success_codes() + (RESULTS.STALLED,))
    idx, starts = idx[keep], starts[keep]
    if idx.size == 0:
        return out, st
    k = idx.size
    pad = np.resize(np.arange(k), bucket_size(k))
    pf = _rows(per_fit, idx[pad])
    theta0 = to_internal(starts[pad], np.asarray(pf["lo"]), np.asarray(pf["hi"])).astype(out.theta.dtype)
    theta0[k:] = np.nan  # padding ends at its first evaluation
    again = jax.tree_util.tree_map(lambda a: a[:k], solve(resid, jax.device_put(theta0), pf, shared, cfg))
    theta, chi2, nfev, status = (a.copy() for a in out)
    nfev[idx] += again.nfev
    lower = np.isfinite(again.chi2) & (again.chi2 < chi2[idx] * (1.0 - cfg.ftol))
    better = lower & np.isin(again.status, success_codes())
    # the second run failed, yet below the first's chi-square: no success was reached
    status[idx[lower & ~better]] = RESULTS.STALLED
    if np.any(better):
        rows = idx[better]
        theta[rows], chi2[rows], status[rows] = again.theta[better], again.chi2[better], again.status[better]
        sub = np.resize(rows, bucket_size(rows.size))
        new = _stats.compute(resid_ext, spec, jax.device_put(theta[sub]), _rows(per_fit, sub), shared,
                             ndata[sub], scale_covar, cfg.threads)
        fields = {}
        for name in _FIELDS:
            a = getattr(st, name).copy()
            a[rows] = getattr(new, name)[:rows.size]
            fields[name] = a
        st = st._replace(**fields)
    return type(out)(theta, chi2, nfev, status), st
