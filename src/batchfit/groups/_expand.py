"""The model's parameters per dataset for the block-arrow (Schur) group
fit, and the datasets' frozen copies of per-dataset parameters."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..params import Parameters
from ._layout import GroupLayout, _per_group, frozen_per_dataset, vary_table


def pin_frozen(tl, p):
    """Per-dataset values with the frozen copies (``p["lfree"]`` False) at
    their fixed values ``p["lfix"]``: the residual does not depend on them."""
    return jnp.where(p["lfree"], tl, p["lfix"]) if "lfree" in p else tl


def expand_params(params, lay: GroupLayout) -> Parameters:
    """The model's parameters with one value per dataset, shape (G*K,); a
    per-dataset parameter frozen in some datasets varies (those datasets
    pin it, see :func:`frozen_mask`)."""
    G, K = lay.G, lay.K
    vary = vary_table(params, lay)
    out = Parameters()
    for n in lay.shared + lay.local:
        p = params[n]
        local = n in lay.local

        def col(v, attr):
            a = _per_group(v, n, attr, lay, local)
            return np.repeat(a, K) if not local else np.asarray(a).reshape(G * K)

        out.add(n, value=None if p.value is None else col(p.value, "value"), vary=bool(np.any(vary[n])),
                min=col(p.min, "min"), max=col(p.max, "max"), expr=p.expr)
    return out


def frozen_mask(params, lay: GroupLayout, names):
    """(G*K, len(names)) True where a dataset's copy of a per-dataset free
    parameter varies; None when none is frozen anywhere."""
    vary = vary_table(params, lay)
    if not frozen_per_dataset(vary):
        return None
    G, K = lay.G, lay.K
    return np.stack([np.broadcast_to(vary[n], (G, K)).reshape(G * K) for n in names], axis=1)
