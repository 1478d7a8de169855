"""Small dense linear algebra in plain jnp, unrolled over the n columns.

For the few-parameter systems of curve fitting these beat batched LAPACK
calls (one fused XLA loop body, no custom calls), and they avoid a
thread-pool deadlock seen with LAPACK custom calls inside a vmapped
``while_loop`` on small CPUs.

``loops=True`` gives the same results from a ``fori_loop`` over the
columns instead: a program whose size does not grow with n, so it
compiles several times faster (n = 7: 1.2 s against 4.5 s for a
refined Cholesky solve) and runs about 3.5x slower per solve. The
solver uses it for small batches, where compiling is most of the time.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def qr_r(A, b, rtol=None):
    """``R`` and ``Qᵀ b`` of the thin QR of ``A`` (k, n), by CGS2.

    Classical Gram-Schmidt with one re-orthogonalisation ("twice is
    enough") gives Q orthonormal to working precision. A column whose part
    orthogonal to the previous ones is at most ``rtol`` times its norm
    (default ``1e-3 eps``: exact dependence only) is taken as dependent: it
    gets a zero diagonal in R and contributes nothing to ``Qᵀ b``.
    """
    k, n = A.shape
    dtype = A.dtype
    qs = []
    R = jnp.zeros((n, n), dtype)
    tiny = jnp.finfo(dtype).tiny
    if rtol is None:
        rtol = 1e-3 * jnp.finfo(dtype).eps
    for j in range(n):
        v = A[:, j]
        if qs:
            Q = jnp.stack(qs, axis=1)
            c1 = Q.T @ v
            v = v - Q @ c1
            c2 = Q.T @ v
            v = v - Q @ c2
            R = R.at[:j, j].set(c1 + c2)
        nrm = jnp.sqrt(v @ v)
        scale = jnp.sqrt(A[:, j] @ A[:, j])
        dep = nrm <= rtol * scale + tiny
        R = R.at[j, j].set(jnp.where(dep, 0.0, nrm))
        qs.append(jnp.where(dep, 0.0, v / jnp.where(dep, 1.0, nrm)))
    Q = jnp.stack(qs, axis=1)
    return R, Q.T @ b


def _forward_loop(L, b):
    b = jnp.asarray(b)

    def body(i, y):
        return y.at[i].set((b[i] - L[i] @ y) / L[i, i])

    return jax.lax.fori_loop(0, b.shape[-1], body, jnp.zeros_like(b))


def _backward_loop(R, b):
    b = jnp.asarray(b)
    n = b.shape[-1]

    def body(k, x):
        i = n - 1 - k
        return x.at[i].set((b[i] - R[i] @ x) / R[i, i])

    return jax.lax.fori_loop(0, n, body, jnp.zeros_like(b))


def solve_upper(R, b, loops=False):
    """Back substitution ``R x = b`` (R upper triangular)."""
    if loops:
        return _backward_loop(R, b)
    n = b.shape[-1]
    x = [None] * n
    for i in reversed(range(n)):
        s = b[i]
        for j in range(i + 1, n):
            s = s - R[i, j] * x[j]
        x[i] = s / R[i, i]
    return jnp.stack(x)


def _cholesky_loop(M):
    M = jnp.asarray(M)
    n = M.shape[-1]
    idx = jnp.arange(n)

    def body(j, L):  # column j from the filled columns < j (the rest of L is 0)
        row = L[j]
        ljj = jnp.sqrt(M[j, j] - row @ row)  # NaN when not positive definite
        c = (M[:, j] - L @ row) / ljj
        col = jnp.where(idx > j, c, jnp.where(idx == j, ljj, 0.0))
        return jax.lax.dynamic_update_slice(L, col[:, None], (0, j))

    return jax.lax.fori_loop(0, n, body, jnp.zeros_like(M))


def cholesky_factor(M, loops=False):
    """Lower-triangular ``L`` with ``L Lᵀ = M`` (NaN where M is not SPD)."""
    if loops:
        return _cholesky_loop(M)
    n = M.shape[-1]
    L = [[jnp.zeros((), M.dtype)] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            s = M[i, j]
            for k in range(j):
                s = s - L[i][k] * L[j][k]
            if i == j:
                L[i][j] = jnp.sqrt(s)  # NaN when not positive definite
            else:
                L[i][j] = s / L[j][j]
    return jnp.stack([jnp.stack(row) for row in L]) if n else jnp.zeros((0, 0), M.dtype)


def cholesky_apply(L, b, loops=False):
    """Solve ``L Lᵀ x = b`` given the factor from :func:`cholesky_factor`."""
    if loops:
        return _backward_loop(L.T, _forward_loop(L, b))
    n = b.shape[-1]
    y = [None] * n
    for i in range(n):
        s = b[i]
        for k in range(i):
            s = s - L[i, k] * y[k]
        y[i] = s / L[i, i]
    return solve_upper(L.T, jnp.stack(y)) if n else jnp.zeros((0,), b.dtype)


def lower_inverse(L, loops=False):
    """``L⁻¹`` of a lower-triangular ``L`` by forward substitution, one row
    at a time (n vector operations, so the program stays small for large n)."""
    n = L.shape[-1]
    eye = jnp.eye(n, dtype=L.dtype)
    if loops:
        def body(i, Y):  # row i of L⁻¹ from the rows above it (the rest of Y is 0)
            return Y.at[i].set((eye[i] - L[i] @ Y) / L[i, i])

        return jax.lax.fori_loop(0, n, body, jnp.zeros_like(L))
    rows = []
    for i in range(n):
        s = eye[i]
        if rows:
            s = s - L[i, :i] @ jnp.stack(rows)
        rows.append(s / L[i, i])
    return jnp.stack(rows) if n else jnp.zeros((0, 0), L.dtype)
