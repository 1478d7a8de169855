"""Batched fit statistics at the solution (pure jnp, jitted, lmfit's conventions)."""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._bounds import to_external
from ._pack import ParamSpec, values_from_external
from .solver import jacobian


class Stats(NamedTuple):
    values: np.ndarray  # (B, nparams) every parameter, ties evaluated
    residual: np.ndarray  # (B, m)
    chisqr: np.ndarray  # (B,)
    covar: np.ndarray  # (B, nfree, nfree), NaN where not estimable
    stderr: np.ndarray  # (B, nparams), NaN where not estimable, 0 for fixed
    errorbars: np.ndarray  # (B,) bool


@partial(jax.jit, static_argnums=(0, 1))
def _at_solution(resid_ext, spec: ParamSpec, theta, p, shared):
    def one(th, pi):
        v = to_external(th, pi["lo"], pi["hi"])
        J, r = jacobian(lambda t: resid_ext(t, pi, shared), v)

        def allvals(t):
            d = values_from_external(spec, t, pi["fixed"], pi["tied_lo"], pi["tied_hi"])
            return jnp.stack([jnp.asarray(d[n], v.dtype) for n in spec.names])

        G, vals = jax.jacfwd(lambda t: (allvals(t),) * 2, has_aux=True)(v)
        cn = jnp.sqrt(jnp.sum(J * J, axis=0))
        ok_cols = jnp.all(cn > 0)
        cs = jnp.where(cn > 0, cn, 1.0)
        _, s, Vt = jnp.linalg.svd(J / cs, full_matrices=False)
        rcond = 10.0 * jnp.finfo(J.dtype).eps * max(J.shape)
        ok = ok_cols & (s[-1] > rcond * s[0]) & jnp.all(jnp.isfinite(s))
        inv_s2 = 1.0 / jnp.where(s > 0, s, 1.0) ** 2
        cov = (Vt.T * inv_s2) @ Vt / (cs[:, None] * cs[None, :])
        cov = jnp.where(ok, cov, jnp.nan)
        return vals, r, r @ r, cov, G, ok

    return jax.vmap(one, in_axes=(0, 0))(theta, p)


def compute(resid_ext, spec, theta, per_fit, shared, ndata, scale_covar=True) -> Stats:
    """Statistics for every fit of a batch (host numpy out)."""
    vals, r, chi2, cov, G, ok = _at_solution(resid_ext, spec, theta, per_fit, shared)
    vals, r, chi2, cov, G, ok = map(np.asarray, (vals, r, chi2, cov, G, ok))
    nfree = np.maximum(ndata - spec.nfree, 1)
    with np.errstate(over="ignore", invalid="ignore"):  # failed fits may overflow
        if scale_covar:
            cov = cov * (chi2 / nfree)[:, None, None]
        var = np.einsum("bij,bjk,bik->bi", G, cov, G)
        stderr = np.sqrt(np.maximum(var, 0.0))
    fixed_idx = [spec.names.index(n) for n in spec.fixed]
    stderr[:, fixed_idx] = 0.0
    return Stats(vals, r, chi2, cov, stderr, ok)


def info_criteria(chisqr, ndata, nvarys):
    """lmfit's chi-square based statistics: redchi, aic, bic."""
    ndata = np.asarray(ndata, dtype=float)
    nfree = np.maximum(ndata - nvarys, 1)
    redchi = chisqr / nfree
    n = np.maximum(ndata, 1)
    neg2ll = n * np.log(np.maximum(chisqr, 1e-250) / n)
    return redchi, neg2ll + 2 * nvarys, neg2ll + np.log(n) * nvarys


def correlations(covar):
    """Correlation matrices from covariances (NaN stays NaN)."""
    d = np.sqrt(np.abs(np.diagonal(covar, axis1=-2, axis2=-1)))
    with np.errstate(invalid="ignore", divide="ignore"):
        return covar / (d[..., :, None] * d[..., None, :])
