"""One Levenberg-Marquardt (or Gauss-Newton) fit: init and step, arrays only.

``resid_fn(theta, args, shared) -> r`` maps the internal parameters
``theta`` (n,) of ONE fit, that fit's data ``args`` (a pytree of arrays) and
data common to every fit ``shared`` (a pytree) to its residual vector (m,).
Batching is done by the caller with ``jax.vmap`` over ``theta`` and ``args``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from . import _linsolve as ls
from ._config import LMConfig
from ._restart import SUSPECT, after_step, with_restart
from ._results import RESULTS, LMState

_ACCEPT = 0.1  # minimum gain ratio for an accepted step (MINPACK: 1e-4)
DSCALE_FLOOR = 1e-3
_COLLAPSE = 1e-12  # largest fall of a Jacobian column's norm in one accepted step


def jacobian_t(fn, theta):
    """``(Jᵀ, fn(theta))`` by exact autodiff, the Jacobian transposed (n, m).

    Forward mode (one pushforward per parameter, vmapped over the identity)
    when there are no more parameters than residuals, the usual case;
    reverse mode otherwise. The tangent axis comes first so that every
    later reduction runs along the residual axis: with ``jax.jacfwd``'s
    (m, n) layout the short parameter axis is the contiguous one and the
    reductions to JᵀJ are about twice as slow under vmap.
    """
    m = jax.eval_shape(fn, theta).size
    n = theta.shape[-1]
    if n <= m:
        eye = jnp.eye(n, dtype=theta.dtype)
        r, Jt = jax.vmap(lambda d: jax.jvp(fn, (theta,), (d,)), out_axes=(None, 0))(eye)
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


def _finite(*xs):
    ok = jnp.bool_(True)
    for x in xs:
        ok = ok & jnp.all(jnp.isfinite(x))
    return ok


# Fold detection (see fold_curvature): a column below _FOLD of its running
# maximum whose cosines agree to _FOLD_TOL across a step, crossed at a slope
# of at least _FOLD_SLOPE times that maximum per unit step.
_FOLD = 0.1
_FOLD_TOL = 0.1
_FOLD_SLOPE = 0.1


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
    (below ``_FOLD`` of its running maximum) that changed its norm but not
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
                   initial=0.0) <= _FOLD_TOL
    # ... and the gradient along it scales with the column: both vanish on
    # the bound (relative test: a small cosine is no evidence)
    a0, a1 = jnp.abs(c0), jnp.abs(c1)
    kept = kept & (jnp.abs(a1 - a0) <= _FOLD_TOL * jnp.maximum(a0, a1))
    moved = ok & (dth != 0) & (cn0 > 0) & (cn1 > 0)
    ratio = flip * cn1 / jnp.where(cn0 > 0, cn0, 1.0)
    informative = moved & kept & (jnp.abs(ratio - 1.0) >= 0.1)
    y = ls.grad(kind, M_new, v_new) - ls.grad(kind, M, v) - ls.gn_hvp(kind, M, dth)
    c = y / jnp.where(moved, dth, 1.0)
    collapsed = cn1 < _FOLD * Dmax
    # A bound's fold is one of the transform's own: |x'(u)| rises from the
    # fold at the rate of its maximum (sin, sqrt(u²+1)), so over a step
    # across it (cn0 + cn1) / |dθ| is about the column's running maximum.
    # A column flipped by another parameter (its amplitude through zero)
    # stays far smaller than its own step would make a transform's column.
    steep = cn0 + cn1 >= _FOLD_SLOPE * jnp.abs(dth) * Dmax
    # a fold is recognised when a step crosses it; later steps along a
    # recognised fold update its curvature, a negative one clears it
    seen = informative & (c > 0) & jnp.isfinite(c) & ((crossed & steep) | (C > 0))
    return jnp.where(collapsed, jnp.where(seen, c, jnp.where(informative & (c <= 0), 0.0, C)), 0.0)


def lm_init(resid_fn, cfg: LMConfig, theta0, args, shared) -> LMState:
    """Evaluate the start and build the initial state of one fit."""
    kind = cfg.linear_solver
    chi2, M, v = evaluate(resid_fn, kind, theta0, args, shared)
    cn = ls.colnorms(kind, M)
    D = jnp.where(cn > 0, cn, 1.0)
    status = jnp.where(
        _finite(chi2, M, v),
        jnp.where(chi2 == 0, RESULTS.ZERO_RESIDUAL, RESULTS.RUNNING),
        RESULTS.NONFINITE_START,
    ).astype(jnp.int32)
    one = jnp.ones((), theta0.dtype)
    s = LMState(theta0, chi2, M, v, D, jnp.zeros_like(D), cfg.tau * one, 2.0 * one,
                jnp.int32(1), status)
    return with_restart(s) if (cfg.restart and cfg.method == "lm") else s


def lm_step(resid_fn, cfg: LMConfig, s: LMState, args, shared) -> LMState:
    """One trial step with one residual+Jacobian evaluation.

    Finished fits pass through unchanged, so a batch can be stepped in
    lock-step. Convergence is judged on the (nearly) undamped Gauss-Newton
    step: a damped step can be short merely because the damping is large.
    Once the GN step's predicted reduction is below ``ftol`` it is safe and
    is taken instead, so a fit ends on full Gauss-Newton steps. Coordinates
    folded by an active bound carry the curvature the GN model misses
    (:func:`fold_curvature`), so a parameter on its bound neither stalls
    the fit nor blocks its convergence tests. A fit that ends suspect
    (stalled, or a column collapsed) is run once more from its start with
    heavier damping (``_restart.py``).
    """
    kind = cfg.linear_solver
    dtype = s.theta.dtype
    eps = jnp.finfo(dtype).eps
    running = s.status == RESULTS.RUNNING
    chi2_safe = jnp.where(s.chi2 > 0, s.chi2, 1.0)
    gn = cfg.method == "gauss_newton"
    # Two scalings. Dc, the current column norms of J, defines the
    # (nearly) undamped Gauss-Newton step and the convergence tests. The
    # damped step uses Dc floored at a fraction of its running maximum Dmax:
    # the pure running max (MINPACK) over-damps once a model's scale falls,
    # pure current norms let parameters evaporate.
    Dmax = s.D
    cn0 = ls.colnorms(kind, s.A)
    Dc = jnp.where(cn0 > 0, cn0, jnp.where(Dmax > 0, Dmax, 1.0))
    D = jnp.maximum(Dc, DSCALE_FLOOR * Dmax)
    # C: curvature along folded coordinates (bounds active), missing from
    # JᵀJ; it enters both steps as extra damping, lam D'² = lam D² + C, so
    # such a coordinate takes Newton steps onto its bound.
    C = jnp.where(cn0 < _FOLD * Dmax, s.C, 0.0)
    xnorm = jnp.linalg.norm(Dc * s.theta)
    lam0 = ls.lam_floor(kind, dtype, s.theta.shape[-1])
    D0 = jnp.sqrt(Dc * Dc + C / lam0)
    if gn:
        p0 = ls.damped_step(kind, s.A, s.g, D0, lam0)
    else:
        # the Gauss-Newton and the damped step, solved side by side (one
        # vectorised factorisation: half the program, so half the compile)
        both = jax.vmap(ls.damped_step, in_axes=(None, None, None, 0, 0))(
            kind, s.A, s.g, jnp.stack([D0, jnp.sqrt(D * D + C / s.lam)]),
            jnp.stack([lam0 * jnp.ones_like(s.lam), s.lam]))
        p0, pd = both[0], both[1]
    pred0 = ls.jp_sq(kind, s.A, p0) + 2.0 * lam0 * jnp.sum((Dc * p0) ** 2) + jnp.sum(C * p0 * p0)
    # near: the GN model predicts no significant reduction any more
    near_raw = _finite(p0, pred0) & (pred0 <= cfg.ftol * chi2_safe)
    x0_small = _finite(p0) & (jnp.linalg.norm(Dc * p0) <= cfg.xtol * xnorm)
    # The GN step is below the rounding of theta: no step of this model can
    # change the parameters any more, whatever reduction it predicts (e.g. a
    # zero-residual fit whose chi2 sits at its rounding floor).
    x_round = _finite(p0) & (xnorm > 0) & (jnp.linalg.norm(Dc * p0) <= eps * xnorm)
    if gn:
        p, Dp, lam, near = p0, Dc, lam0, near_raw
    else:
        # GN is tried only right after an accepted step (nu is reset to 2
        # then), so a rejected GN step falls back to damping.
        near = near_raw & (s.nu <= 2.0)
        p = jnp.where(near, p0, pd)
        Dp = jnp.where(near, Dc, D)
        lam = jnp.where(near, lam0, s.lam)
    p_ok = _finite(p)
    p = jnp.where(p_ok, p, 0.0)
    dxnorm = jnp.linalg.norm(Dc * p)
    x_conv = p_ok & near & (dxnorm <= cfg.xtol * xnorm)

    theta_new = s.theta + p
    chi2_new, M_new, v_new = evaluate(resid_fn, kind, theta_new, args, shared)
    ok = p_ok & _finite(chi2_new, M_new, v_new)
    if not gn:
        # A step that kills a parameter's column outright (its norm falls by
        # more than _COLLAPSE at once: a rate running off so that its term
        # vanishes everywhere) strands the fit where that parameter no longer
        # acts, however good chi2 looks there (NIST MGH17 from its first
        # start; MINPACK stalls the same way). Such a step is rejected, so
        # the damping grows and the column can only fade over several steps,
        # which a fit that really needs it gone can still take.
        cn_new = ls.colnorms(kind, M_new)
        ok = ok & ~jnp.any((cn0 > 0) & (cn_new < _COLLAPSE * cn0))

    # predicted reduction of the linear model, >= 0 (MINPACK's prered form)
    pred = ls.jp_sq(kind, s.A, p) + 2.0 * lam * jnp.sum((Dp * p) ** 2) + jnp.sum(C * p * p)
    actual = s.chi2 - chi2_new
    rho = jnp.where(
        pred > 0, actual / jnp.where(pred > 0, pred, 1.0), jnp.where(actual > 0, 1.0, 0.0)
    )
    small_f = jnp.abs(actual) <= cfg.ftol * chi2_safe
    # Stopping on a small reduction of chi2 alone leaves poorly determined
    # parameters short of the optimum (chi2 is flat there), so the ftol test
    # also needs the step to be small in the xtol sense, or chi2 to sit at
    # its floating-point floor.
    floor = 8.0 * eps * chi2_safe
    settled = (dxnorm <= cfg.xtol * xnorm) | (jnp.abs(actual) <= floor)

    if gn:
        accept = ok
        f_conv = ok & near & small_f & settled
        lam_new, nu_new = s.lam, s.nu
        fail, fail_code = ~ok, RESULTS.DIVERGED
    else:
        # At convergence the actual and predicted reductions are rounding
        # noise and so is rho. Decisions there are made against a band far
        # above that noise (0.1 ftol chi2): a negligible GN step is taken
        # unless it raises chi2 by more, and actual > 2 pred (rho > 2) vetoes
        # convergence only beyond it. Otherwise the last ~xtol of every value
        # and the status would depend on rounding, i.e. on the batch's shape.
        band = 0.1 * cfg.ftol * chi2_safe
        accept = ok & ((rho > _ACCEPT) | (x_conv & (chi2_new <= s.chi2 + band)))
        f_conv = ok & near & small_f & settled & (actual <= 2.0 * pred + band)
        shrink = jnp.maximum(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
        lam_new = jnp.where(accept, s.lam * shrink, s.lam * s.nu)
        lam_new = jnp.maximum(lam_new, jnp.finfo(dtype).tiny)
        nu_new = jnp.where(accept, 2.0, 2.0 * s.nu)
        fail = ~jnp.isfinite(lam_new) | (lam_new > 1e30) | ~jnp.isfinite(nu_new)
        # No step helps, yet the GN model predicts no significant reduction
        # either: converged to working precision (e.g. a zero-residual fit
        # whose chi2 is below rounding noise), not a failure.
        fail_code = jnp.where(
            near_raw, RESULTS.FTOL, jnp.where(x0_small, RESULTS.XTOL, RESULTS.STALLED)
        )

    nfev = s.nfev + 1
    if gn:
        C_new = C
    else:
        C_new = fold_curvature(kind, s.A, s.g, s.chi2, M_new, v_new, chi2_new,
                               theta_new - s.theta, ok, C, Dmax)
    M_acc = jnp.where(accept, M_new, s.A)
    v_acc = jnp.where(accept, v_new, s.g)
    chi2_acc = jnp.where(accept, chi2_new, s.chi2)
    cn = ls.colnorms(kind, M_acc)
    cos = jnp.abs(ls.grad(kind, M_acc, v_acc)) / jnp.where(cn > 0, cn, 1.0)
    g_conv = accept & jnp.any(cn > 0) & (jnp.max(cos) <= cfg.gtol * jnp.sqrt(jnp.where(chi2_acc > 0, chi2_acc, 1.0)))

    # No parameter moves the residual any more (e.g. the model under- or
    # overflowed): a zero gradient there is not convergence.
    dead = jnp.all(cn0 == 0) & (s.chi2 > 0)
    status = jnp.select(
        [
            dead,
            accept & (chi2_new == 0),
            f_conv & x_conv,
            f_conv,
            x_conv,
            x_round,
            g_conv,
            fail,
            nfev >= cfg.max_nfev,
        ],
        [
            RESULTS.DIVERGED if gn else RESULTS.STALLED,
            RESULTS.ZERO_RESIDUAL,
            RESULTS.FTOL_XTOL,
            RESULTS.FTOL,
            RESULTS.XTOL,
            RESULTS.XTOL,
            RESULTS.GTOL,
            fail_code,
            RESULTS.MAX_NFEV,
        ],
        RESULTS.RUNNING,
    ).astype(jnp.int32)

    D_new = jnp.where(accept, jnp.maximum(Dmax, cn), Dmax)
    new = LMState(
        theta=jnp.where(accept, theta_new, s.theta),
        chi2=chi2_acc,
        A=M_acc,
        g=v_acc,
        D=D_new,
        C=C_new.astype(dtype),
        lam=lam_new.astype(dtype),
        nu=nu_new.astype(dtype),
        nfev=nfev,
        status=status,
        restart=s.restart,
    )
    if not gn and cfg.restart:  # a suspect end (stalled, or a column collapsed) is run again once
        new = after_step(new, running, jnp.any(cn < SUSPECT * D_new), lambda t: t.chi2, cfg.ftol)
    return jax.tree_util.tree_map(lambda a, b: jnp.where(running, a, b), new, s)
