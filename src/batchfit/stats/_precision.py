"""Is a fit's working precision enough for its answer? (float32 never lies)

A float32 fit can stop, and call itself converged, where float32 arithmetic
can no longer see the way to the optimum. Two measures, per fit, at the
solution, in units of the fit's own standard errors:

- **Representation.** A parameter's value can only move in steps of about
  ``eps * |value|``. Where that step is larger than its standard error
  (a centre at 1e4 with stderr 1e-4, in float32), the optimum lies between
  two representable values: ``ratio_repr = max_i eps |v_i| / stderr_i``.
- **Arithmetic.** The residual computed in the working dtype is compared with
  the same residual evaluated in float64 at the same parameters on the same
  inputs; their difference ``delta`` is what rounding did. Chi-square is then
  known only to ``dchi2 = 2 |r| |delta| + |delta|^2``, and every point with a
  chi-square within ``dchi2`` of the optimum looks as good: those lie up to
  ``d = sqrt(dchi2 / s^2)`` standard errors away (``s^2 = chi2 / nfree``).

A fit whose ``max(ratio_repr, d)`` exceeds :data:`LIMIT` cannot place its
parameters within its own error bars: its status becomes
``PRECISION_LIMITED`` (not a success). The float64 evaluation is one residual
per fit, no Jacobian: cheap beside the fit itself. float64 fits are not
judged (there is no wider dtype to compare with, and noise-free data, whose
error bars are themselves rounding, must still fit).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ..params._bounds import to_external
from ..problem._compat import x64_context
from ..problem._residual import ResidualTypeError
from ..solver._xla import jit as xla_jit

LIMIT = 0.5  # standard errors: beyond this a fit's precision, not its data, decides its answer


@partial(xla_jit, static_argnums=(0,))
def _rounding_norm(resid_ext, theta, p, shared, r):
    # the values in the working dtype, as the fit has them; then everything in float64
    v = jax.vmap(to_external)(theta, p["lo"], p["hi"])
    v, p, shared, r = widen((v, p, shared, r))

    def one(vi, pi, ri):
        return jnp.linalg.norm(resid_ext(vi, pi, shared) - ri)

    return jax.vmap(one)(v, p, r)


def widen(tree):
    """Floating leaves cast to float64, inside a jitted function traced under
    ``x64_context(float64)`` (eagerly, each cast would be a program compiled
    on a first call)."""
    return jax.tree_util.tree_map(
        lambda a: jnp.asarray(a, jnp.float64) if jnp.issubdtype(jnp.asarray(a).dtype, jnp.floating)
        else jnp.asarray(a), tree)


def rounding_norm(resid_ext, theta, per_fit, shared, r):
    """``|r - r64|`` per fit (B,): the rounding in the working-dtype residual
    ``r`` (B, m), against float64 at the same (working-dtype) parameters and
    inputs (one residual evaluation per fit, reduced on the device). A model
    that computes in float32 whatever its inputs has no float64 to compare
    with: zeros (only the representation measure then speaks)."""
    with x64_context(np.float64):
        try:
            return np.asarray(_rounding_norm(resid_ext, theta, per_fit, shared, r))
        except ResidualTypeError:
            return np.zeros(theta.shape[0])


def repr_ratio(values, stderr, free, dtype):
    """``max eps |v_i| / stderr_i`` over the free parameters ``free`` (indices
    into the last axis) and every other trailing axis: per fit (or group)."""
    eps = float(np.finfo(dtype).eps)
    v = np.abs(np.asarray(values, np.float64)[..., free])
    se = np.asarray(stderr, np.float64)[..., free]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = eps * v / se
    return np.max(r.reshape(len(r), -1), axis=1) if r.size else np.zeros(len(r))


def rounding_ratio(chi2, nfree, rounding):
    """``d = sqrt(dchi2 / s^2)`` per fit: how many standard errors the
    chi-square's rounding (``rounding`` = |r - r64|) hides."""
    chi2, nd = np.asarray(chi2, np.float64), np.asarray(rounding, np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        dchi2 = 2.0 * np.sqrt(chi2) * nd + nd * nd
        d = np.sqrt(dchi2 * np.maximum(nfree, 1) / chi2)
    return np.where(chi2 > 0, d, np.where(nd > 0, np.inf, 0.0))


def precision_ratio(spec, values, stderr, chi2, nfree, rounding, dtype=np.float32):
    """``max(ratio_repr, d)`` per fit (module docstring; ``rounding`` from
    :func:`rounding_norm`); NaN where the standard errors are not estimable."""
    free = [spec.names.index(n) for n in spec.free]
    return np.maximum(repr_ratio(values, stderr, free, dtype), rounding_ratio(chi2, nfree, rounding))
