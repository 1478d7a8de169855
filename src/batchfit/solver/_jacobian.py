"""Residual, Jacobian and the reduced linear model of one fit, arrays only.

``resid_fn(theta, args, shared) -> r`` maps the internal parameters of ONE
fit to its residual vector (m,); see ``_lm.py``. The Jacobian is exact
(autodiff) and exists only inside the fused evaluation.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from . import _linsolve as ls


def jacobian_t(fn, theta):
    """``(Jᵀ, fn(theta))`` by exact autodiff, the Jacobian transposed (n, m).

    Forward mode (one pushforward per parameter, vmapped over the identity)
    when there are no more parameters than residuals, the usual case;
    reverse mode otherwise. The tangent axis comes first so that every
    later reduction runs along the residual axis: with ``jax.jacfwd``'s
    (m, n) layout the short parameter axis is the contiguous one and the
    reductions to JᵀJ are about twice as slow under vmap.
    """
    n = theta.shape[-1]
    eye = jnp.eye(n, dtype=theta.dtype)
    # forward mode first: tracing it also tells m, so fn is traced once (no eval_shape),
    # which matters for a cold start; in the rare n > m case it is dead code XLA drops
    r, Jt = jax.vmap(lambda d: jax.jvp(fn, (theta,), (d,)), out_axes=(None, 0))(eye)
    if n <= r.size:
        return Jt, r
    J, r = jax.jacrev(lambda t: (fn(t),) * 2, has_aux=True)(theta)
    return J.T, r


def jacobian(fn, theta):
    """``(J, fn(theta))``, J of shape (m, n): see :func:`jacobian_t`."""
    Jt, r = jacobian_t(fn, theta)
    return Jt.T, r


def evaluate(resid_fn, kind, theta, args, shared):
    """Residual, chi-square and the reduced linear model ``(M, v)``.

    The Jacobian exists only inside this fused computation; it is never
    returned.
    """
    Jt, r = jacobian_t(lambda t: resid_fn(t, args, shared), theta)
    M, v = ls.reduce(kind, Jt, r)
    return jnp.sum(r * r), M, v
