"""Curvature along coordinates folded by a bound transform (one fit, arrays only)."""

from __future__ import annotations

import jax.numpy as jnp

from . import _linsolve as ls

# Fold detection (see fold_curvature): a column below FOLD of its running
# maximum whose cosines agree to FOLD_TOL across a step, crossed at a slope
# of at least FOLD_SLOPE times that maximum per unit step.
FOLD = 0.1
FOLD_TOL = 0.1
FOLD_SLOPE = 0.1


def _cosines(kind, M, v, chi2):
    """Cosines between the columns of J (off the diagonal) and of each
    column with the residual, and the column norms."""
    G = ls.gram(kind, M)
    cn = jnp.sqrt(jnp.abs(jnp.diagonal(G)))
    inv = 1.0 / jnp.where(cn > 0, cn, 1.0)
    K = G * inv[:, None] * inv[None, :]
    K = jnp.where(jnp.eye(K.shape[-1], dtype=bool), 0.0, K)
    rn = jnp.sqrt(jnp.where(chi2 > 0, chi2, 1.0))
    return K, ls.grad(kind, M, v) * inv / rn, cn


def fold_curvature(kind, M, v, chi2, M_new, v_new, chi2_new, dth, ok, C, Dmax):
    """Curvature of chi2 along internal coordinates that fold: the updated ``C``.

    A bound transform makes a column ``J_j = x'(u_j) J_ext`` whose norm
    vanishes on the bound while its direction does not change. The
    Gauss-Newton model misses the curvature ``x''(u_j) J_extᵀr`` that holds
    an active bound's parameter there: it predicts a large reduction from a
    huge step across the bound, every such step overshoots, and the
    damping that stops it (sized for the small column) stalls all the
    other parameters. A fold shows over one step as a collapsed column
    (below ``FOLD`` of its running maximum) that changed its norm but not
    its direction: crossing the fold flips it, so its cosines with the
    other columns flip sign (once per crossing column) and its gradient
    flips while keeping its cosine with the residual. Along a fold so
    recognised (and crossed at the transform's slope, see ``steep``) the
    secant ``(g_new - g - JᵀJ dθ)_j / dθ_j`` measures the
    missing curvature; later steps along it update it, a negative one
    clears it, and it is dropped once the column is no longer collapsed.
    Columns that merely decay (an exponential's rate running off, which
    never flips a column) are never taken for folds.
    """
    K0, c0, cn0 = _cosines(kind, M, v, chi2)
    K1, c1, cn1 = _cosines(kind, M_new, v_new, chi2_new)
    # crossing a fold flips the column and the gradient along it; the
    # cosines of two columns then change sign once for each that crossed
    crossed = c0 * c1 < 0
    flip = jnp.where(crossed, -1.0, 1.0)
    kept = jnp.max(jnp.abs(K1 - flip[:, None] * flip[None, :] * K0), axis=1,
                   initial=0.0) <= FOLD_TOL
    # ... and the gradient along it scales with the column: both vanish on
    # the bound (relative test: a small cosine is no evidence)
    a0, a1 = jnp.abs(c0), jnp.abs(c1)
    kept = kept & (jnp.abs(a1 - a0) <= FOLD_TOL * jnp.maximum(a0, a1))
    moved = ok & (dth != 0) & (cn0 > 0) & (cn1 > 0)
    ratio = flip * cn1 / jnp.where(cn0 > 0, cn0, 1.0)
    informative = moved & kept & (jnp.abs(ratio - 1.0) >= 0.1)
    y = ls.grad(kind, M_new, v_new) - ls.grad(kind, M, v) - ls.gn_hvp(kind, M, dth)
    c = y / jnp.where(moved, dth, 1.0)
    collapsed = cn1 < FOLD * Dmax
    # A bound's fold is one of the transform's own: |x'(u)| rises from the
    # fold at the rate of its maximum (sin, sqrt(u²+1)), so over a step
    # across it (cn0 + cn1) / |dθ| is about the column's running maximum.
    # A column flipped by another parameter (its amplitude through zero)
    # stays far smaller than its own step would make a transform's column.
    steep = cn0 + cn1 >= FOLD_SLOPE * jnp.abs(dth) * Dmax
    # a fold is recognised when a step crosses it; later steps along a
    # recognised fold update its curvature, a negative one clears it
    seen = informative & (c > 0) & jnp.isfinite(c) & ((crossed & steep) | (C > 0))
    return jnp.where(collapsed, jnp.where(seen, c, jnp.where(informative & (c <= 0), 0.0, C)), 0.0)
