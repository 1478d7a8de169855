"""Linear algebra of one step, for the two ways of keeping the linear model.

The solver state never holds the (m, n) Jacobian J. It holds a small
``(M, v)`` pair that represents the linearised problem ``min ||J p + r||``:

* ``"qr"``: ``M = R`` and ``v = Qᵀ r`` from a QR factorisation of J. Steps
  are solved as least-squares problems on ``[R; sqrt(lam) D]``, so the
  conditioning is that of J (the accurate default).
* ``"cholesky"``: ``M = JᵀJ`` and ``v = Jᵀ r`` (normal equations), solved by
  Cholesky; about twice cheaper and squares the condition number.

Every function here is for ONE fit and is vmapped by the caller.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

SOLVERS = ("qr", "cholesky")


def reduce(kind, J, r):
    """(M, v) representing ``min ||J p + r||``."""
    if kind == "qr":
        Q, R = jnp.linalg.qr(J, mode="reduced")
        return R, Q.T @ r
    return J.T @ J, J.T @ r


def grad(kind, M, v):
    """``Jᵀ r``."""
    return M.T @ v if kind == "qr" else v


def colnorms(kind, M):
    """Column norms of J."""
    if kind == "qr":
        return jnp.sqrt(jnp.sum(M * M, axis=0))
    return jnp.sqrt(jnp.abs(jnp.diagonal(M)))


def jp_sq(kind, M, p):
    """``||J p||²``."""
    if kind == "qr":
        q = M @ p
        return q @ q
    return p @ (M @ p)


def lam_floor(kind, dtype, n):
    """Smallest damping that keeps a step well posed in this representation."""
    eps = jnp.finfo(dtype).eps
    return (4.0 * eps) ** 2 * n if kind == "qr" else 16.0 * eps * n


def damped_step(kind, M, v, D, lam):
    """Minimiser ``p`` of ``||J p + r||² + lam ||D p||²``.

    Solved in variables scaled by ``D``. A failed factorisation yields a
    non-finite step, which the caller treats as a rejected step.
    """
    n = v.shape[-1]
    eye = jnp.eye(n, dtype=M.dtype)
    if kind == "qr":
        Rs = M / D[None, :]
        stacked = jnp.concatenate([Rs, jnp.sqrt(lam) * eye], axis=0)
        rhs = jnp.concatenate([-v, jnp.zeros_like(v)])
        Q2, R2 = jnp.linalg.qr(stacked, mode="reduced")
        ps = jax.scipy.linalg.solve_triangular(R2, Q2.T @ rhs, lower=False)
    else:
        As = M / (D[:, None] * D[None, :])
        L = jnp.linalg.cholesky(As + lam * eye)
        ps = -jax.scipy.linalg.cho_solve((L, True), v / D)
    return ps / D


def pinv_step(kind, M, v, D):
    """Gauss-Newton step ``p = -pinv(J) r`` (on the D-scaled problem)."""
    n = v.shape[-1]
    eps = jnp.finfo(M.dtype).eps
    if kind == "qr":
        Rs = M / D[None, :]
        U, s, Vt = jnp.linalg.svd(Rs, full_matrices=False)
        keep = s > 10.0 * eps * n * jnp.max(s)
        inv = jnp.where(keep, 1.0 / jnp.where(keep, s, 1.0), 0.0)
        ps = -(Vt.T @ (inv * (U.T @ v)))
    else:
        As = M / (D[:, None] * D[None, :])
        w, Qe = jnp.linalg.eigh(As)
        keep = w > 10.0 * eps * n * jnp.max(jnp.abs(w))
        inv = jnp.where(keep, 1.0 / jnp.where(keep, w, 1.0), 0.0)
        ps = -(Qe @ (inv * (Qe.T @ (v / D))))
    return ps / D
