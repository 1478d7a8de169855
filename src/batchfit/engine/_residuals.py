"""A chunked batch's residual, (N, m), computed from the fitted values when read.

The statistics pass evaluates every fit's residual at its solution, chunk by
chunk; a chunked run keeps none of them. ``result.residual`` (and a Model
fit's ``best_fit``, derived from it) evaluates the residual function again
at the fitted values, with the fit's own arrays, in blocks of ``ROWS``
datasets padded to a bucket (one compiled shape per bucket), only for the
rows read (see ``results/_lazy``).
"""

from __future__ import annotations

from functools import partial

import jax
import numpy as np

from ..problem._compat import x64_context
from ..results._lazy import LazyRows
from ..solver import bucket_size
from ..solver._xla import jit as xla_jit
from ..stats._compute import residual_at

ROWS = 1 << 14  # datasets per block


@partial(xla_jit, static_argnums=(0,))
def _rows(resid_ext, v, per_fit, shared):
    return jax.vmap(lambda t, p: residual_at(resid_ext, t, p, shared))(v, per_fit)


def lazy_residual(refit, values_all, tail, dtype) -> LazyRows:
    """The residual of every fit of ``refit``'s batch at ``values_all``
    (B, nparams: the free columns are the external values), pending."""
    spec = refit.spec
    free = [spec.names.index(n) for n in spec.free]

    def rows(a, b):
        out = np.empty((b - a,) + tuple(tail), dtype=dtype)
        with x64_context(dtype):
            for i in range(a, b, ROWS):
                j = min(i + ROWS, b)
                idx = np.minimum(np.arange(i, i + bucket_size(j - i)), j - 1)
                v = np.asarray(values_all[idx][:, free], dtype=dtype)
                p = jax.tree_util.tree_map(lambda x: x[idx], refit.per_fit)
                out[i - a:j - a] = np.asarray(_rows(refit.resid_ext, v, p, refit.shared))[:j - i]
        return out

    return LazyRows(rows, 0, values_all.shape[0], tail, dtype)
