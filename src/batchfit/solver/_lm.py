"""One Levenberg-Marquardt (or Gauss-Newton) fit: init and step, arrays only.

``resid_fn(theta, args, shared) -> r`` maps the internal parameters
``theta`` (n,) of ONE fit, that fit's data ``args`` (a pytree of arrays) and
data common to every fit ``shared`` (a pytree) to its residual vector (m,).
Batching is done by the caller with ``jax.vmap`` over ``theta`` and ``args``.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from . import _linsolve as ls
from ._fold import FOLD, fold_curvature
from ._jacobian import evaluate
from ._config import LMConfig
from ._restart import SUSPECT, after_step, with_restart
from ._results import RESULTS, LMState

_ACCEPT = 0.1  # minimum gain ratio for an accepted step (MINPACK: 1e-4)
DSCALE_FLOOR = 1e-3
_COLLAPSE = 1e-12  # largest fall of a Jacobian column's norm in one accepted step


def _finite(*xs):
    ok = jnp.bool_(True)
    for x in xs:
        ok = ok & jnp.all(jnp.isfinite(x))
    return ok


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


def _trial_step(resid_fn, cfg: LMConfig, s: LMState, args, shared):
    """One trial step with one residual+Jacobian evaluation, before the fold
    curvature and the restart policy (see :func:`lm_step`); returns the new
    state, the fold curvature's inputs, whether a column folds, whether the
    fit ran and whether a column collapsed.

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
    C = jnp.where(cn0 < FOLD * Dmax, s.C, 0.0)
    xnorm = jnp.linalg.norm(Dc * s.theta)
    lam0 = ls.lam_floor(kind, dtype, s.theta.shape[-1])
    D0 = jnp.sqrt(Dc * Dc + C / lam0)
    if gn:
        p0 = ls.damped_step(kind, s.A, s.g, D0, lam0, cfg.small_programs)
    else:
        # the Gauss-Newton and the damped step, solved side by side (one
        # vectorised factorisation: half the program, so half the compile)
        both = jax.vmap(partial(ls.damped_step, kind, loops=cfg.small_programs), in_axes=(None, None, 0, 0))(
            s.A, s.g, jnp.stack([D0, jnp.sqrt(D * D + C / s.lam)]),
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
    # the inputs of the fold curvature (C of the next state, see lm_steps)
    fold_in = (s.A, s.g, s.chi2, M_new, v_new, chi2_new, theta_new - s.theta, ok, C, Dmax)
    folds = running & jnp.any(ls.colnorms(kind, M_new) < FOLD * Dmax)
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
        C=C.astype(dtype),  # replaced by the fold curvature (lm_steps) in LM
        lam=lam_new.astype(dtype),
        nu=nu_new.astype(dtype),
        nfev=nfev,
        status=status,
        restart=s.restart,
    )
    return new, fold_in, folds, running, jnp.any(cn < SUSPECT * D_new)


def _finish(cfg: LMConfig, new: LMState, s: LMState, running, collapsed) -> LMState:
    if cfg.method == "lm" and cfg.restart:  # a suspect end (stalled, or a column collapsed) is run again once
        new = after_step(new, running, collapsed, lambda t: t.chi2, cfg.ftol)
    return jax.tree_util.tree_map(lambda a, b: jnp.where(running, a, b), new, s)


def lm_step(resid_fn, cfg: LMConfig, s: LMState, args, shared) -> LMState:
    """One step of ONE fit (see :func:`lm_steps`, which steps a batch)."""
    new, fold_in, _, running, collapsed = _trial_step(resid_fn, cfg, s, args, shared)
    if cfg.method == "lm":
        new = new._replace(C=fold_curvature(cfg.linear_solver, *fold_in).astype(new.C.dtype))
    return _finish(cfg, new, s, running, collapsed)


def lm_steps(resid_fn, cfg: LMConfig, s: LMState, args, shared) -> LMState:
    """One step of every fit of a batch (leading axis of ``s`` and ``args``).

    Equal to ``jax.vmap(lm_step)``, but the fold curvature (about a third
    of a W1 step's arithmetic) is computed only when some running fit of
    the batch has a collapsed column (``lax.cond`` on the whole batch);
    otherwise it is zero for every fit, as :func:`fold_curvature` gives.
    """
    trial = jax.vmap(partial(_trial_step, resid_fn, cfg), in_axes=(0, 0, None))
    new, fold_in, folds, running, collapsed = trial(s, args, shared)
    if cfg.method == "lm":
        fold = jax.vmap(partial(fold_curvature, cfg.linear_solver))
        C = jax.lax.cond(jnp.any(folds), lambda f: fold(*f), lambda f: jnp.zeros_like(f[-2]), fold_in)
        new = new._replace(C=C.astype(new.C.dtype))
    return jax.vmap(partial(_finish, cfg))(new, s, running, collapsed)
