"""What ``curve_fit`` returns, as scipy's: ``popt``, ``pcov`` and, with
``full_output``, ``infodict`` (``fvec``, ``nfev``, ``fjac``, ``ipvt``,
``qtf``), ``mesg`` and ``ier`` in MINPACK's codes."""

from __future__ import annotations

import functools
import sys
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from ..solver import RESULTS
from ..solver._jacobian import jacobian
from ._model import Model
from ._model_fit import lazy_best_fit


class OptimizeWarning(UserWarning):
    """The covariance could not be estimated, or fits of a batch failed."""


@functools.lru_cache(maxsize=None)
def _with_scipy_base(scipy_cls):
    return type("OptimizeWarning", (OptimizeWarning, scipy_cls), {"__module__": OptimizeWarning.__module__})


def warning_category():
    """:class:`OptimizeWarning`; once scipy.optimize is imported (never by
    batchfit: it costs 0.7 s), a subclass of scipy's OptimizeWarning too, so
    that a ported ``warnings.filterwarnings(..., scipy.optimize.OptimizeWarning)``
    or ``pytest.warns`` of scipy's class catches it."""
    scipy_opt = sys.modules.get("scipy.optimize")
    base = getattr(scipy_opt, "OptimizeWarning", None)
    return _with_scipy_base(base) if isinstance(base, type) and issubclass(base, Warning) else OptimizeWarning


# batchfit status -> scipy.optimize.leastsq's ``ier`` (1-4 success, 5 maxfev,
# 6 no further reduction possible); 0 where MINPACK has no such outcome
# (non-finite start, divergence, too few points, float32 precision): then
# ``mesg`` and ``infodict["status"]`` say what happened.
IER = {RESULTS.FTOL: 1, RESULTS.XTOL: 2, RESULTS.FTOL_XTOL: 3, RESULTS.GTOL: 4,
       RESULTS.ZERO_RESIDUAL: 1, RESULTS.MAX_NFEV: 5, RESULTS.STALLED: 6}


def ier_codes(status) -> np.ndarray:
    """scipy's ``ier`` for an array of :class:`RESULTS` codes."""
    status = np.asarray(status)
    return np.array([IER.get(RESULTS(int(c)), 0) for c in status.ravel()], dtype=int).reshape(status.shape)


def attach_model_data(result, func, xname, x, x_per_fit, y, w, mask, B):
    """best_fit, data, weights and x as a Model fit has them (for plots, export);
    ``best_fit`` is computed from the residual when first read, as a Model fit's."""
    best = lazy_best_fit(result._a, y, w, mask)
    xb = x if x_per_fit else np.broadcast_to(x, (B,) + x.shape)  # per fit, without copies
    result.extras.update(best_fit=best, data=y, weights=w, mask=mask, indep={xname: xb},
                         model=Model(func, independent_vars=[xname]))


def minpack_info(resid_ext, popt, per_fit, shared):
    """MINPACK's ``fjac`` (n, m), ``ipvt`` (n,) and ``qtf`` (n,) per fit
    (leading batch axis): from the QR factorisation ``J = Q R`` of the
    weighted Jacobian at the solution, unpivoted (``ipvt = 0..n-1``, 0-based
    as scipy returns it), so that scipy's recipe ``invR = inv(triu(fjac.T[:n]))``,
    ``invR[ipvt] = invR``, ``invR @ invR.T`` gives the unscaled covariance;
    ``qtf = Qᵀ fvec``."""
    def one(t, p):
        return jacobian(lambda u: resid_ext(u, p, shared), t)

    J, r = jax.vmap(one)(jnp.asarray(popt), per_fit)
    J, r = np.asarray(J, dtype=float), np.asarray(r, dtype=float)
    B, m, n = J.shape
    Q, R = np.linalg.qr(J)  # (B, m, k), (B, k, n), k = min(m, n)
    fjac = np.zeros((B, n, m))
    k = R.shape[1]
    fjac[:, :, :k] = np.swapaxes(R, 1, 2)
    qtf = np.einsum("bmk,bm->bk", Q, r)
    return fjac, np.broadcast_to(np.arange(n), (B, n)).copy(), qtf


def outputs(result, absolute_sigma, full_output, info_fn=None):
    """(popt, pcov) or scipy's full_output tuple; warnings and errors as scipy's."""
    a = result._a
    popt = a["values_all"].copy()
    pcov = a["covar"].copy()
    bad = np.isnan(pcov).any(axis=(1, 2))
    if not absolute_sigma:
        bad |= a["ndata"] <= popt.shape[1]
    pcov[bad] = np.inf
    ok = np.atleast_1d(result.success)
    if not result.batched and not ok[0]:
        raise RuntimeError(f"Optimal parameters not found: {result.message}")
    if bad.any():
        where = f" for {int(bad.sum())} of {len(bad)} fits" if result.batched else ""
        warnings.warn(f"Covariance of the parameters could not be estimated{where}", warning_category(),
                      stacklevel=3)
    if result.batched and not ok.all():
        warnings.warn(f"{int((~ok).sum())} of {len(ok)} fits did not converge; their status is in ier "
                      "(full_output=True)", warning_category(), stacklevel=3)
    one = (lambda v: v) if result.batched else (lambda v: v[0])
    if not full_output:
        return one(popt), one(pcov)
    info = {"nfev": result.nfev, "fvec": result.residual, "status": result.status, "result": result}
    if info_fn is not None:
        fjac, ipvt, qtf = info_fn(popt)
        info.update(fjac=one(fjac), ipvt=one(ipvt), qtf=one(qtf))
    ier = ier_codes(a["status"])
    return one(popt), one(pcov), info, result.message, one(ier)
