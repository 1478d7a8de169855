"""Minimise a scalar objective with an optax optimiser. Arrays only.

``f(theta, p, shared) -> scalar`` is the objective of ONE fit at the
internal (unbounded) parameters ``theta``; ``p`` holds that fit's arrays
and ``shared`` those common to the batch. A batch is vmapped: each fit
runs until its own stopping rule holds (converged fits are held fixed by
the batched ``select`` while the slowest runs on).

Stopping rules, tested after every iteration, in order:

- the objective or its gradient is not finite: ``DIVERGED`` (the last
  finite iterate is kept); at the start ``NONFINITE_START``;
- ``max|grad| <= gtol * max(1, |f|)``: ``GTOL``;
- ``|f_prev - f| <= ftol * max(1, |f|)`` on an iteration that did not
  increase ``f``: ``FTOL``;
- ``max_iter`` iterations: ``MAX_NFEV``.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp

from ._results import RESULTS
from ._xla import jit as xla_jit

#: the optax optimisers, by the name of their optax function, which takes the learning
#: rate (L-BFGS has its own line search). optax is imported when a scalar method is
#: first used, not with batchfit (a cold start that fits by least squares never loads it).
OPTIMIZERS = ("lbfgs", "adam", "adamw", "nadam", "adabelief", "rmsprop", "sgd")


@dataclasses.dataclass(frozen=True)
class ScalarConfig:
    """Options of the optax-driven scalar minimisation (hashable).

    Args:
      method: one of :data:`OPTIMIZERS`.
      max_iter: iterations per fit before ``MAX_NFEV``.
      gtol: relative tolerance on the largest gradient component.
      ftol: relative tolerance on the change of the objective.
      learning_rate: step size of the first-order methods (not L-BFGS).
    """

    method: str = "lbfgs"
    max_iter: int = 10000
    gtol: float = 1e-9
    ftol: float = 1e-15
    learning_rate: float = 1e-2

    def optimizer(self):
        import optax

        if self.method not in OPTIMIZERS:  # as a missing key of the name table did
            raise KeyError(self.method)
        make = getattr(optax, self.method)
        return make() if self.method == "lbfgs" else make(self.learning_rate)


class ScalarState(NamedTuple):
    theta: jax.Array  # (n,) internal parameters
    f: jax.Array  # () objective at theta
    g: jax.Array  # (n,) gradient at theta
    opt: tuple  # the optax state
    nit: jax.Array  # () iterations done
    status: jax.Array  # () int32 RESULTS code; 0 while running


def _finite(*xs):
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in xs]))


def minimize_one(f, cfg: ScalarConfig, theta0, p, shared) -> ScalarState:
    """Run one fit to its stopping rule."""
    import optax
    import optax.tree_utils as otu

    fun = lambda t: f(t, p, shared)
    opt = cfg.optimizer()
    vg = jax.value_and_grad(fun)
    f0, g0 = vg(theta0)
    ok0 = _finite(f0, g0)
    status0 = jnp.where(ok0, RESULTS.RUNNING, RESULTS.NONFINITE_START).astype(jnp.int32)
    s0 = ScalarState(theta0, f0, g0, opt.init(theta0), jnp.int32(0), status0)
    lbfgs = cfg.method == "lbfgs"
    vg_state = optax.value_and_grad_from_state(fun) if lbfgs else None

    def step(s: ScalarState) -> ScalarState:
        if lbfgs:
            value, grad = vg_state(s.theta, state=s.opt)
            upd, st = opt.update(grad, s.opt, s.theta, value=value, grad=grad, value_fn=fun)
            theta = optax.apply_updates(s.theta, upd)
            fn, gn = otu.tree_get(st, "value"), otu.tree_get(st, "grad")
        else:
            upd, st = opt.update(s.g, s.opt, s.theta)
            theta = optax.apply_updates(s.theta, upd)
            fn, gn = vg(theta)
        nit = s.nit + 1
        ok = _finite(fn, gn, theta)
        scale = jnp.maximum(1.0, jnp.abs(fn))
        gconv = jnp.max(jnp.abs(gn)) <= cfg.gtol * scale
        fconv = (fn <= s.f) & (s.f - fn <= cfg.ftol * scale)
        status = jnp.select([~ok, gconv, fconv, nit >= cfg.max_iter],
                            [RESULTS.DIVERGED, RESULTS.GTOL, RESULTS.FTOL, RESULTS.MAX_NFEV],
                            RESULTS.RUNNING).astype(jnp.int32)
        new = ScalarState(theta, fn, gn, st, nit, status)
        return jax.tree_util.tree_map(lambda a, b: jnp.where(ok, a, b), new, s._replace(status=status))

    return jax.lax.while_loop(lambda s: s.status == RESULTS.RUNNING, step, s0)


def _solve(f, cfg, theta0, per_fit, shared):
    out = jax.vmap(lambda t, p: minimize_one(f, cfg, t, p, shared))(theta0, per_fit)
    return out.theta, out.f, out.nit, out.status


solve_scalar = xla_jit(_solve, static_argnums=(0, 1))
solve_scalar.__doc__ = """Minimise ``f`` for every fit of a batch: ``theta0`` (B, n), ``per_fit``
arrays with leading axis B. Returns ``(theta, f, nit, status)``."""
