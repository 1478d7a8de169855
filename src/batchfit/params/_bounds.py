"""lmfit/MINUIT bound transforms between external and internal values.

* two-sided: ``v = lo + (sin(u) + 1) (hi - lo) / 2``
* lower only: ``v = lo - 1 + sqrt(u² + 1)``
* upper only: ``v = hi + 1 - sqrt(u² + 1)``
* none: ``v = u``

The kind is chosen per element and branch-free, so per-fit bounds may
differ in kind inside one batch.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

# Internal offset used when a start sits exactly on a bound, where the
# transform's derivative vanishes and the fit could never leave the bound.
BOUND_NUDGE = 1e-3


def to_external(u, lo, hi):
    """Internal -> external (jnp, differentiable, branch-free)."""
    has_lo = jnp.isfinite(lo)
    has_hi = jnp.isfinite(hi)
    lo0 = jnp.where(has_lo, lo, 0.0)
    hi0 = jnp.where(has_hi, hi, 0.0)
    both = lo0 + (jnp.sin(u) + 1.0) * (hi0 - lo0) / 2.0
    root = jnp.sqrt(u * u + 1.0)
    lower = lo0 - 1.0 + root
    upper = hi0 + 1.0 - root
    return jnp.where(
        has_lo & has_hi, both, jnp.where(has_lo, lower, jnp.where(has_hi, upper, u))
    )


def to_internal(v, lo, hi):
    """External -> internal (numpy), nudged off an exact bound."""
    v, lo, hi = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (v, lo, hi)))
    has_lo, has_hi = np.isfinite(lo), np.isfinite(hi)
    out = v.copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        b = has_lo & has_hi
        arg = np.clip(2.0 * (v - lo) / np.where(b, hi - lo, 1.0) - 1.0, -1.0, 1.0)
        ub = np.arcsin(arg)
        ub = np.where(arg <= -1.0, -np.pi / 2 + BOUND_NUDGE, ub)
        ub = np.where(arg >= 1.0, np.pi / 2 - BOUND_NUDGE, ub)
        ul = np.sqrt(np.maximum((v - lo + 1.0) ** 2 - 1.0, 0.0))
        uh = np.sqrt(np.maximum((hi - v + 1.0) ** 2 - 1.0, 0.0))
    out = np.where(b, ub, out)
    out = np.where(has_lo & ~has_hi, np.maximum(ul, BOUND_NUDGE), out)
    out = np.where(has_hi & ~has_lo, np.maximum(uh, BOUND_NUDGE), out)
    return out
