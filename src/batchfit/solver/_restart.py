"""One restart from the start, with heavier damping, of a fit that ended suspect.

A fit ends *suspect* when it stalls (the damping overflowed) or converges
with a Jacobian column collapsed to below ``SUSPECT`` of its running
maximum: a parameter that stopped acting on the residual. That is how a
first, nearly Gauss-Newton step from a poor start strands a fit in a
wrong basin: a bounded parameter driven onto a fold of its transform
(``sigma -> 0``, where the peak vanishes; a centre onto its bound, a
saddle whose negative curvature the Gauss-Newton model cannot see), or
a peak moved off the data while its amplitude runs away. Such a fit is
run once more from its start with the initial damping ``RESTART_TAU``
times larger (short, gradient-like first steps that keep to the basin
of the start), and the better of the two runs is returned (issue 13).
Fits that end cleanly, nearly all, pay nothing but a few selects per step.

The state of either solver (``LMState``, ``ArrowState``) carries a
:class:`Restart` in its ``restart`` field; the helpers here only use the
fields both share (``lam``, ``nfev``, ``status``) and the chi-square the
caller passes, so arrays only, as everywhere in the solver.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from ._results import RESULTS, success_codes

SUSPECT = 1e-3  # a column below this fraction of its running maximum has collapsed
RESTART_TAU = 100.0  # initial damping of the restart, relative to the first run's
RESTART_AFTER = 100  # consecutive steps with a collapsed column that end the first run


class Restart(NamedTuple):
    start: Any  # the state after init (its own ``restart`` is None)
    best: Any  # the first run's final state, once it ended suspect
    stage: jax.Array  # () int32: 0 first run, 1 the restart
    slow: jax.Array  # () int32: consecutive steps of the first run with a collapsed column


def with_restart(s):
    """``s`` (fresh from init, ``restart=None``) with its restart record."""
    return s._replace(restart=Restart(s, s, jnp.int32(0), jnp.int32(0)))


def succeeded(status):
    ok = jnp.bool_(False)
    for c in success_codes():
        ok = ok | (status == c)
    return ok


def _select(c, a, b):
    return jax.tree_util.tree_map(lambda x, y: jnp.where(c, x, y), a, b)


def after_step(new, running, collapsed, chi2_of, ftol):
    """Apply the restart policy to the state ``new`` after one step.

    ``running``: the fit ran this step; ``collapsed``: some column of
    ``new`` is below ``SUSPECT`` of its running maximum; ``chi2_of(state)``:
    its chi-square; ``ftol``: the relative band within which two runs'
    chi-squares count as equal (a success is then preferred, and on a tie
    the first run). A first run that keeps a column collapsed for
    ``RESTART_AFTER`` steps (a peak walking off the data while its
    amplitude runs away, thousands of steps of negligible progress) is cut
    short as STALLED and restarted at once.
    """
    R = new.restart
    ended = running & (new.status != RESULTS.RUNNING)
    slow = jnp.where(running & (R.stage == 0) & collapsed & ~ended, R.slow + 1, 0)
    cut = running & (R.stage == 0) & (slow >= RESTART_AFTER)
    bare = new._replace(restart=None, status=jnp.where(cut, RESULTS.STALLED, new.status).astype(new.status.dtype))
    suspect = (bare.status == RESULTS.STALLED) | (succeeded(bare.status) & collapsed)
    again = (ended | cut) & (R.stage == 0) & suspect
    fresh = R.start._replace(restart=None, lam=R.start.lam * RESTART_TAU, nfev=new.nfev)
    # the restart ended: keep the first run where it is better
    c1, c2 = chi2_of(R.best), chi2_of(bare)
    band = ftol * jnp.minimum(c1, c2)
    s1, s2 = succeeded(R.best.status), succeeded(bare.status)
    first = (c1 < c2 - band) | ((jnp.abs(c1 - c2) <= band) & (s1 | ~s2))
    keep_first = ended & (R.stage == 1) & first
    out = _select(again, fresh, _select(keep_first, R.best._replace(restart=None, nfev=new.nfev), bare))
    return out._replace(restart=Restart(R.start, _select(again, bare, R.best),
                                        jnp.where(again, jnp.int32(1), R.stage), slow.astype(jnp.int32)))
