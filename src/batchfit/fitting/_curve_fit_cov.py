"""A covariance-matrix ``sigma`` for ``curve_fit`` (scipy's 2-D sigma).

With ``C = L Lᵀ`` (Cholesky), the residual is whitened: ``r = L⁻¹ (f - y)``,
so ``chi² = (f - y)ᵀ C⁻¹ (f - y)``; the fit itself is unchanged
Levenberg-Marquardt on ``r``. Points masked by ``nan_policy='omit'`` are
removed from ``C`` as scipy removes their rows and columns: the whitening
matrix ``W`` is ``L⁻¹`` of the kept block, placed at the kept points, zero
elsewhere (the residual of a masked point is 0).
"""

from __future__ import annotations

import numpy as np


def _cholesky(c, what):
    if not np.all(np.isfinite(c)):
        raise ValueError(f"curve_fit: `sigma` must be positive definite ({what} is not finite)")
    try:
        return np.linalg.cholesky(c)
    except np.linalg.LinAlgError as e:
        raise ValueError(f"curve_fit: `sigma` must be positive definite ({what} is not)") from e


def _whitening(c, keep, what):
    W = np.zeros_like(c)
    idx = np.flatnonzero(keep)
    L = _cholesky(c[np.ix_(idx, idx)], what)
    W[np.ix_(idx, idx)] = np.linalg.solve(L, np.eye(len(idx)))
    return W


def covariance_sigma(sigma, mask, B, m):
    """Whitening matrices for a covariance ``sigma`` of shape (m, m), shared,
    or (B, m, m), one per fit: (m, m) when one serves every fit, else
    (B, m, m); and ``sigma`` itself (B, m, m) (a view) for ``best_fit``."""
    C = np.asarray(sigma, dtype=float)
    shared = C.ndim == 2
    if shared and (mask is None or np.all(mask == mask[0])):
        keep = np.ones(m, bool) if mask is None else mask[0]
        return _whitening(C, keep, "sigma"), np.broadcast_to(C, (B, m, m))
    Cb = np.broadcast_to(C, (B, m, m))
    keep = np.ones((B, m), bool) if mask is None else mask
    W = np.stack([_whitening(Cb[i], keep[i], "sigma" if shared else f"sigma[{i}]") for i in range(B)])
    return W, Cb


def covariance_best_fit(residual, y, cov, mask):
    """The model at the solution from the whitened residual: ``f = y + L r``
    at the kept points (NaN at masked ones)."""
    residual = np.asarray(residual, dtype=float)
    best = np.full(y.shape, np.nan)
    for i in range(y.shape[0]):
        idx = np.flatnonzero(np.ones(y.shape[1], bool) if mask is None else mask[i])
        L = np.linalg.cholesky(cov[i][np.ix_(idx, idx)])
        best[i, idx] = y[i, idx] + L @ residual[i, idx]
    return best
