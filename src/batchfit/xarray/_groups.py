"""Shared-parameter groups over a dimension (``shared=``, ``shared_dims=``).

The datasets along ``shared_dims`` form one group (K datasets sharing the
``shared`` parameters); every other preserved point is one of G groups, all
fitted in one call of :meth:`batchfit.Model.fit` with ``shared=``. Shared
values, standard errors and the group's statistics are repeated over the
group's datasets; each dataset's covariance covers the shared parameters
and its own (NaN for groups with more free parameters than batchfit keeps
the full covariance of).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..distributed._kernel import (
    ONE_AT_A_TIME,
    STATS,
    as_float,
    canonical,
    column,
    pack_fields,
)
from ..fitting._curve_fit_out import OptimizeWarning
from ..fitting._model import Model
from ..groups._layout import local_name


def group_dims(func, shared, shared_dims, preserved, names):
    """The preserved dimensions along which ``shared`` parameters are shared ([] for none)."""
    if shared is None and shared_dims is None:
        return []
    if shared is None or shared_dims is None:
        raise ValueError("batchfit curvefit: shared= and shared_dims= go together")
    if not isinstance(func, Model):
        raise TypeError("batchfit curvefit: shared= needs func to be a batchfit Model")
    dims = [shared_dims] if isinstance(shared_dims, str) else list(shared_dims)
    bad = [d for d in dims if d not in preserved]
    if bad:
        raise ValueError(f"batchfit curvefit: shared_dims {bad} are not preserved dimensions of the "
                         f"data {preserved}")
    unknown = [p for p in ([shared] if isinstance(shared, str) else shared) if p not in names]
    if unknown:
        raise ValueError(f"batchfit curvefit: shared names {unknown}, which are not fit parameters {names}")
    return dims


def expand(a, obj, dims):
    """A coordinate or parameter DataArray given every one of ``dims`` (broadcast, no copy)."""
    missing = {d: obj.sizes[d] for d in dims if d not in a.dims}
    return a.expand_dims(missing) if missing else a


def fit_group_block(model, names, y, coords, params, batch, ncore, ngroup, skipna, kwargs, shared):
    """One block (*G, *S, *core) -> (*G, *S, width): G groups of K = prod(S) datasets."""
    shared = [shared] if isinstance(shared, str) else list(shared)
    model = canonical(model)
    S = y.shape[len(batch):len(batch) + ngroup]
    G, K = int(np.prod(batch, dtype=int)), int(np.prod(S, dtype=int))
    y3 = np.asarray(y).reshape(G, K, -1)
    m = y3.shape[-1]
    xs = []
    for c in coords:
        c = np.asarray(c)
        c = c.reshape((1,) * (y.ndim - c.ndim) + c.shape)
        one = all(s == 1 for s in c.shape[:len(batch)])
        xs.append(c.reshape(K, m) if one else np.broadcast_to(c, y.shape).reshape(G, K, m))
    if any(x.ndim == 3 for x in xs):
        xs = [np.broadcast_to(x, (G, K, m)) for x in xs]
    iv = model.independent_vars
    indep = dict(zip(iv, xs)) if len(iv) == len(xs) else {iv[0]: np.stack(xs, axis=-2)}
    n = len(names)
    full = batch + tuple(S)
    p = []
    for a in params:
        a = np.asarray(a, dtype=float)
        a = a.reshape((1,) * (len(full) - a.ndim) + a.shape) if a.ndim else a
        p.append(np.broadcast_to(a, full).reshape(G, K))
    pars = model.make_params()
    for j, nm in enumerate(names):
        cols = [p[i * n + j] for i in range(3)]
        cols = [c[:, 0] if nm in shared else c for c in cols]
        pars[nm].set(value=column(cols[0]), min=column(cols[1]), max=column(cols[2]))
    opts = dict(kwargs or {})
    opts.setdefault("nan_policy", "omit" if skipna else "propagate")
    with ONE_AT_A_TIME, warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        res = model.fit(y3, pars, shared=shared, **indep, **opts)
    N = G * K

    def per_dataset(a):
        a = np.asarray(np.nan if a is None else a, dtype=float)
        return np.broadcast_to(a.reshape(G, -1) if a.size == G * K or a.size == G else a, (G, K)).reshape(N)

    values = np.stack([per_dataset(res.params[nm].value) for nm in names], axis=1)
    stderr = np.stack([per_dataset(as_float(res.params[nm].stderr, 1) if res.params[nm].stderr is None
                                   else res.params[nm].stderr) for nm in names], axis=1)
    covar = np.full((G, K, n, n), np.nan)
    cov = res.covar
    if cov is not None:
        cov = np.asarray(cov, dtype=float).reshape(G, *np.shape(cov)[-2:])
        vn = list(res.var_names)
        for k in range(K):
            idx = [(j, vn.index(nm if nm in shared else local_name(nm, k))) for j, nm in enumerate(names)
                   if (nm if nm in shared else local_name(nm, k)) in vn]
            for a, fa in idx:
                for b, fb in idx:
                    covar[:, k, a, b] = cov[:, fa, fb]
    stats = {k: per_dataset(getattr(res, k)) for k in STATS}
    packed = pack_fields(values, stderr, covar.reshape(N, n, n), stats)
    return packed.reshape(full + (packed.shape[-1],))
