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

import jax.numpy as jnp

from ._smallla import cholesky_solve, qr_r, solve_upper

SOLVERS = ("qr", "cholesky")


def reduce(kind, J, r):
    """(M, v) representing ``min ||J p + r||``."""
    if kind == "qr":
        return qr_r(J, r)
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
        R2, qtb = qr_r(stacked, rhs)
        ps = solve_upper(R2, qtb)
    else:
        As = M / (D[:, None] * D[None, :])
        ps = -cholesky_solve(As + lam * eye, v / D)
    return ps / D
