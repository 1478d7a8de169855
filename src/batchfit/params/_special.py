"""Special functions of lmfit's derived-parameter expressions, in jnp.

``gamfcn``, ``loggammafcn`` and ``betalnfnc`` are lmfit's names (its
expressions for ``height`` of Pearson7 and Student's t models);
``loggamma_re(a, b)`` is ``Re log Gamma(a + ib)`` (lmfit writes
``real(loggammafcn(a + b*1j))``, which needs complex numbers that tie
expressions do not have); ``erfcx(y)`` is ``Re w(iy)`` for real y (lmfit's
``real(wofz(1j*y))``). Host evaluation (``xp=numpy``) runs the same
functions in float64, whatever JAX's x64 setting.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy import special as jsp


def loggamma_re(a, b):
    """``Re log Gamma(a + ib)`` = ``log|Gamma(a + ib)|``."""
    z = jnp.asarray(a) + 1j * jnp.asarray(b)
    return jnp.real(jsp.loggamma(z))


SPECIAL = {
    "gamfcn": jsp.gamma,
    "loggammafcn": jsp.gammaln,
    "betalnfnc": jsp.betaln,
    "loggamma_re": loggamma_re,
    "erf": jsp.erf,
    "erfc": jsp.erfc,
    "erfcx": jsp.erfcx,
    "log1p": jnp.log1p,
}
SPECIAL_ARITY = {"betalnfnc": 2, "loggamma_re": 2}


def _x64():
    fn = getattr(jax, "enable_x64", None)
    if fn is None:  # jax < 0.5
        from jax.experimental import enable_x64 as fn  # type: ignore[no-redef]
    return fn(True)


def _host(fn):
    def call(*args):
        with _x64():
            return np.asarray(fn(*[np.asarray(a, dtype=float) for a in args]))
    return call


HOST_SPECIAL = {name: _host(fn) for name, fn in SPECIAL.items()}
