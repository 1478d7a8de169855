"""Batched fit statistics at the solution (pure jnp, jitted, lmfit's conventions)."""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..params._bounds import to_external
from ..problem._pack import ParamSpec, values_from_external
from ..solver import bucket_size, jacobian_t
from ..solver._smallla import cholesky_factor, lower_inverse
from ..solver._threads import cpu_threads, even_parts, map_parts, on_cpu
from ..solver._xla import jit as xla_jit

MIN_PART = 256  # fits per thread below which the statistics stay on one thread


class Stats(NamedTuple):
    values: np.ndarray  # (B, nparams) every parameter, ties evaluated
    residual: np.ndarray  # (B, m)
    chisqr: np.ndarray  # (B,)
    covar: np.ndarray  # (B, nfree, nfree), NaN where not estimable
    stderr: np.ndarray  # (B, nparams), NaN where not estimable, 0 for fixed
    errorbars: np.ndarray  # (B,) bool
    # fits at a saddle (negative curvature along J's near-null direction,
    # see _covar_svd): their indices (k,) and a start off each saddle, external (k, nfree)
    saddles: tuple = (np.zeros(0, np.int64), np.zeros((0, 0)))


def _linearised(resid_ext, spec, th, pi, shared):
    """At one fit's solution: the column-scaled Jacobian in external
    parameters (transposed, n x m), its column norms, the residual, every
    parameter's value and their Jacobian ``G`` with respect to the free ones
    (ties propagate errors through it)."""
    v = to_external(th, pi["lo"], pi["hi"])
    Jt, r = jacobian_t(lambda t: resid_ext(t, pi, shared), v)

    def allvals(t):
        d = values_from_external(spec, t, pi["fixed"], pi["tied_lo"], pi["tied_hi"])
        return jnp.stack([jnp.asarray(d[n], v.dtype) for n in spec.names])

    G, vals = jax.jacfwd(lambda t: (allvals(t),) * 2, has_aux=True)(v)
    cn = jnp.sqrt(jnp.sum(Jt * Jt, axis=-1))
    cs = jnp.where(cn > 0, cn, 1.0)
    return Jt / cs[:, None], cs, jnp.all(cn > 0), r, vals, G


def residual_at(resid_ext, v, pi, shared):
    """One fit's residual at external free values ``v``, as the statistics
    compute it (``engine/_residuals`` evaluates it again when it is read)."""
    return resid_ext(v, pi, shared)


def cond_fast(dtype):
    """Largest 1-norm condition number of the column-scaled JᵀJ for which
    its Cholesky inverse is trusted (relative error about cond * eps:
    4e-11 in float64, 2e-5 in float32); beyond it the SVD of J is used."""
    return float(np.finfo(dtype).eps) ** (-1.0 / 3.0)


@partial(xla_jit, static_argnums=(0, 1))
def _at_solution(resid_ext, spec: ParamSpec, theta, p, shared):
    """Statistics of every fit; the covariance from the Cholesky factor of
    the scaled normal equations (fast, fused). ``ok`` is False where that
    is not accurate enough (or the matrix is singular): those fits are
    redone by :func:`_covar_svd`."""
    def one(th, pi):
        Js, cs, ok_cols, r, vals, G = _linearised(resid_ext, spec, th, pi, shared)
        A = jnp.sum(Js[:, None, :] * Js[None, :, :], axis=-1)
        Y = lower_inverse(cholesky_factor(A))
        inv = Y.T @ Y
        cond = jnp.max(jnp.sum(jnp.abs(A), axis=0)) * jnp.max(jnp.sum(jnp.abs(inv), axis=0))
        ok = ok_cols & jnp.isfinite(cond) & (cond <= cond_fast(A.dtype))
        cov = inv / (cs[:, None] * cs[None, :])
        return vals, r, jnp.sum(r * r), cov, G, ok

    return jax.vmap(one, in_axes=(0, 0))(theta, p)


@partial(xla_jit, static_argnums=(0, 1))
def _covar_svd(resid_ext, spec: ParamSpec, theta, p, shared):
    """Covariance and its validity from the SVD of the scaled Jacobian:
    accurate to about cond(J) eps, for the fits the Cholesky path refused."""
    def one(th, pi):
        Js, cs, ok_cols, *_ = _linearised(resid_ext, spec, th, pi, shared)
        _, s, Vt = jnp.linalg.svd(Js.T, full_matrices=False)
        rcond = 10.0 * jnp.finfo(Js.dtype).eps * max(Js.shape)
        ok = ok_cols & (s[-1] > rcond * s[0]) & jnp.all(jnp.isfinite(s))
        inv_s2 = 1.0 / jnp.where(s > 0, s, 1.0) ** 2
        cov = (Vt.T * inv_s2) @ Vt / (cs[:, None] * cs[None, :])
        saddle, starts = _negative_curvature(resid_ext, th, pi, shared, cs, ok_cols)
        return jnp.where(ok, cov, jnp.nan), ok, saddle, starts

    return jax.vmap(one, in_axes=(0, 0))(theta, p)


def _negative_curvature(resid_ext, th, pi, shared, cs, ok_cols):
    """Whether an ill-conditioned solution is no minimum, and a start off it.

    Where J is (nearly) singular the Gauss-Newton model sees no curvature
    along its null direction, so a fit can converge to a stationary point
    that is no minimum there (a skewed peak started symmetric: the skew's
    column of J is parallel to the centre's, and chi2 falls only at third
    order). chi2 is probed along the softest direction of its full Hessian
    (second derivatives by autodiff, column-scaled), at ``±(0.1, 0.3, 1)
    sqrt(chi2)`` in scaled units, clipped to the bounds; a probe below chi2
    by more than its rounding makes the fit a saddle, and that probe is
    the start of its second run (``engine/_saddle.py``).
    """
    lo, hi = pi["lo"], pi["hi"]
    v = to_external(th, lo, hi)
    chi = lambda t: jnp.sum(resid_ext(t, pi, shared) ** 2)  # noqa: E731
    H = jax.hessian(chi)(v) / (cs[:, None] * cs[None, :])
    _, V = jnp.linalg.eigh(jnp.where(jnp.isfinite(H), H, 0.0))
    d = V[:, 0] / cs
    c0 = chi(v)
    ts = jnp.sqrt(c0) * jnp.array([0.1, 0.3, 1.0, -0.1, -0.3, -1.0], v.dtype)
    starts = jnp.clip(v + ts[:, None] * d, lo, hi)
    cp = jax.vmap(chi)(starts)
    cp = jnp.where(jnp.isfinite(cp), cp, jnp.inf)
    k = jnp.argmin(cp)
    eps = jnp.finfo(v.dtype).eps
    saddle = ok_cols & jnp.all(jnp.isfinite(H)) & (cp[k] < c0 * (1.0 - 1e3 * eps))
    return saddle, starts[k]


def compute(resid_ext, spec, theta, per_fit, shared, ndata, scale_covar=True, threads=None,
            n_real=None) -> Stats:
    """Statistics for every fit of a batch (host numpy out). On CPU the
    batch is split over ``threads`` (default: every core), as the solver's.
    Only the first ``n_real`` fits (default all) may be redone by the SVD;
    the rest is padding."""
    size = theta.shape[0]
    k = even_parts(size, cpu_threads(threads)) if on_cpu(theta) and size >= 2 * MIN_PART else 1
    vals, r, chi2, cov, G, ok = (np.array(a) for a in map_parts(
        lambda p, sub: _at_solution(resid_ext, spec, *sub, shared), (theta, per_fit), k, theta.dtype))
    redo = np.nonzero(~ok[:n_real])[0]
    saddles = Stats._field_defaults["saddles"]
    if redo.size:  # ill-conditioned or singular: the SVD decides, padded to a bucket
        idx = np.resize(redo, bucket_size(redo.size))
        sub = jax.tree_util.tree_map(lambda a: a[jnp.asarray(idx)], (theta, per_fit))
        cov_s, ok_s, sad_s, starts_s = map(np.asarray, _covar_svd(resid_ext, spec, *sub, shared))
        cov[redo], ok[redo] = cov_s[:redo.size], ok_s[:redo.size]
        sad = sad_s[:redo.size]
        saddles = (redo[sad], starts_s[:redo.size][sad])
    nfree = np.maximum(ndata - spec.nfree, 1)
    with np.errstate(over="ignore", invalid="ignore"):  # failed fits may overflow
        if scale_covar:
            cov = cov * (chi2 / nfree)[:, None, None]
        var = np.einsum("bij,bjk,bik->bi", G, cov, G)
        stderr = np.sqrt(np.maximum(var, 0.0))
    fixed_idx = [spec.names.index(n) for n in spec.fixed]
    stderr[:, fixed_idx] = 0.0
    return Stats(vals, r, chi2, cov, stderr, ok, saddles)


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
