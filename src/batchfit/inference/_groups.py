"""Interval tools on shared-parameter group results, through their flat problem.

A group of K datasets is, for ``conf_interval`` and ``eval_uncertainty``,
one fit of its flat parameter vector: the shared parameters as they are
and each per-dataset parameter ``p`` as ``p_0 ... p_{K-1}`` (the dense
group solver's problem, ``groups._fit.dense_problem``, which a Schur fit
builds on first use). :class:`FlatView` presents a
:class:`~batchfit.groups.GroupFitResult` as that flat batch (one row per
group) with the group fit's own values, statistics and covariance, so the
single-fit machinery runs on every group of a result in one solver call.
"""

from __future__ import annotations

import numpy as np

from ._profile import refit_of


def is_group_result(result) -> bool:
    return hasattr(result, "_lay") and hasattr(result, "shared_names")


class FlatView:
    """The flat batch (one fit per group) of a group result: what
    ``conf_interval`` reads from a :class:`~batchfit.FitResult`."""

    def __init__(self, res, what):
        refit, _ = refit_of(res, what)
        lay = res._lay
        spec = refit.spec
        self._spec, self.batched, self.nvarys = spec, res.batched, res.nvarys
        self.extras = {"refit": res.extras["refit"]}
        self.statistic = res.extras.get("statistic", "chi2")
        G = len(res)
        self._G = G
        vals = np.full((G, len(spec.names)), np.nan)
        for j, name in enumerate(spec.names):
            base, k = flat_source(name, lay)
            if base is not None:
                v = np.asarray(res._values[base], dtype=float)
                vals[:, j] = v if k is None else v[:, k]
        if res._covar is None or res.var_names is None:
            raise ValueError(f"{what} needs the group's full covariance, which this result does not keep "
                             "(more free parameters per group than GroupFitResult keeps it for, or groups "
                             "that freeze different datasets)")
        order = [res.var_names.index(n) for n in spec.free] if set(spec.free) <= set(res.var_names) else None
        if order is None or len(order) != len(res.var_names):
            raise ValueError(f"{what}: the group's free parameters {res.var_names} differ from its flat "
                             f"problem's {list(spec.free)}")
        cov = np.asarray(res._covar, dtype=float)[:, order][:, :, order]
        st = res._stats
        self._a = {"values_all": vals, "covar": cov, "chisqr": st["chisqr"], "nfree": st["nfree"],
                   "redchi": st["redchi"], "status": st["status"], "errorbars": st["errorbars"],
                   "ndata": st["ndata"]}

    def __len__(self):
        return self._G


def flat_source(name, lay):
    """(group parameter, dataset index or None) of a flat name, or (None, None)."""
    if name in lay.shared:
        return name, None
    for base in lay.local:
        pre = f"{base}_"
        if name.startswith(pre) and name[len(pre):].isdigit() and int(name[len(pre):]) < lay.K:
            return base, int(name[len(pre):])
    return None, None


def flat_names(p_names, res, free):
    """The flat names of ``p_names``: a shared name as it is, a per-dataset
    name as its K copies that vary, a flat name (``p_k``) as it is."""
    if p_names is None:
        return list(free)
    lay = res._lay
    out = []
    for name in ([p_names] if isinstance(p_names, str) else list(p_names)):
        if name in lay.local:
            copies = [f"{name}_{k}" for k in range(lay.K) if f"{name}_{k}" in free]
            if not copies:
                raise ValueError(f"conf_interval: per-dataset parameter {name!r} varies in no dataset; "
                                 f"free: {list(free)}")
            out += copies
        elif name in free:
            out.append(name)
        else:
            raise ValueError(f"conf_interval: {name!r} is not a free parameter of the groups; free: "
                             f"{list(free)} (a per-dataset parameter may be named as a whole)")
    return out
