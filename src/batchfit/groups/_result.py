"""Results of shared-parameter group fits: per-group statistics, shared
values (one per group) and per-dataset values (K per group)."""

from __future__ import annotations

import numpy as np

from ..params import Parameters
from ..results._base import StatusView, check_index
from ..results._export import write_dict
from ..results._load import register_format
from ..solver import RESULTS
from . import _save
from ._layout import GroupLayout, local_name, split_groups

FULL_COVAR_MAX = 64  # free parameters per group up to which the full covariance is kept

# per-group statistics, leading axis G
STATS = ("status", "nfev", "ndata", "nfree", "chisqr", "redchi", "aic", "bic", "errorbars")


class GroupFitResult(StatusView):
    """Result of ``Model.fit(..., shared=[...])``.

    For one group (data of shape (K, m)) ``params[name].value`` is a scalar
    for a shared parameter and an array of shape (K,) for a per-dataset
    one; for G groups (data (G, K, m)) these gain a leading axis G, and the
    statistics (``chisqr``, ``redchi``, ``aic``, ``bic``, ``nfev``,
    ``ndata``, ``nfree``, ``status``, ``success``, ``message``) are per
    group. ``result[g]`` is the result of group g.

    ``covar_shared`` is the covariance of the shared free parameters.
    For groups of up to ``FULL_COVAR_MAX`` free parameters, ``covar`` and
    ``correl`` cover all of them, in the order of ``var_names`` (shared,
    then each per-dataset parameter ``p`` as ``p_0 ... p_{K-1}``); for
    larger groups they are None. Dense solves also keep the flat
    :class:`~batchfit.FitResult` (``result.flat``).
    """

    def __init__(self, *, layout: GroupLayout, template: Parameters, method: str, stats: dict,
                 values: dict, stderr: dict, init: dict, nvarys: int, flat=None, covar_shared=None,
                 covar=None, var_names=None, solver="dense", extras=None):
        self._lay = layout
        self._template = template
        self.method = method
        self._stats = {k: np.asarray(stats[k]) for k in STATS}
        self._values, self._stderr, self._init = values, stderr, init
        self.nvarys = nvarys
        self.flat = flat
        self._covar_shared = covar_shared
        self._covar = covar
        self.var_names = list(var_names) if var_names is not None else None
        self.solver = solver
        self.extras = dict(extras or {})
        self.batched = layout.grouped
        self.shared_names = list(layout.shared)
        self.local_names = list(layout.local)
        self.ndatasets = layout.K
        self._params = None

    @classmethod
    def from_flat(cls, flat, template, lay: GroupLayout, extras=None):
        """From the dense solve's flat FitResult (batch axis = groups)."""
        names = flat._spec.names
        vals, errs = flat._a["values_all"], flat._a["stderr_all"]
        free = list(flat._spec.free)
        init_all = np.full(vals.shape, np.nan)
        for k, n in enumerate(free):
            init_all[:, names.index(n)] = flat._a["init_vals"][:, k]

        def gather(a, n):
            if n in lay.shared:
                return a[:, names.index(n)]
            return np.stack([a[:, names.index(local_name(n, k))] for k in range(lay.K)], axis=1)

        pnames = lay.shared + lay.local
        cov = flat._a["covar"]
        idx = [free.index(n) for n in lay.shared if n in free]
        return cls(layout=lay, template=template, method=flat.method,
                   stats={k: flat._a[k] for k in STATS},
                   values={n: gather(vals, n) for n in pnames},
                   stderr={n: gather(errs, n) for n in pnames},
                   init={n: gather(init_all, n) for n in pnames},
                   nvarys=flat.nvarys, flat=flat, covar_shared=cov[:, idx][:, :, idx],
                   covar=cov, var_names=flat.var_names, solver="dense", extras=extras)

    # -- batch plumbing -------------------------------------------------
    def __len__(self):
        return self._lay.G

    def _get(self, a):
        return a if self.batched else a[0]

    def __getitem__(self, g) -> "GroupFitResult":
        G = len(self)
        g = check_index(g, G, "GroupFitResult", "group", f"{G} groups")
        sl = slice(g, g + 1)
        cut = lambda v: v[sl] if isinstance(v, np.ndarray) and v.ndim and v.shape[0] == G else v  # noqa: E731
        extras = {k: ({n: cut(a) for n, a in v.items()} if isinstance(v, dict) else cut(v))
                  for k, v in self.extras.items()}
        return GroupFitResult(
            layout=self._lay._replace(G=1, grouped=False), template=_group_template(self._template, g),
            method=self.method,
            stats={k: v[sl] for k, v in self._stats.items()},
            values={k: v[sl] for k, v in self._values.items()},
            stderr={k: v[sl] for k, v in self._stderr.items()},
            init={k: v[sl] for k, v in self._init.items()},
            nvarys=int(self.nvarys[g]) if np.ndim(self.nvarys) else self.nvarys,
            flat=None if self.flat is None else self.flat[g],
            covar_shared=None if self._covar_shared is None else self._covar_shared[sl],
            covar=None if self._covar is None else self._covar[sl], var_names=self.var_names,
            solver=self.solver, extras=extras)

    def __dir__(self):
        # statistics and extras are served by __getattr__: list them for tab completion
        return sorted(set(super().__dir__()) | set(self._stats) | set(self.extras))

    def __getattr__(self, key):
        if key.startswith("_"):
            raise AttributeError(key)
        stats = self.__dict__.get("_stats", {})
        if key in stats:
            return self._get(stats[key])
        extras = self.__dict__.get("extras", {})
        if key in extras:
            v = extras[key]
            return v if (self.batched or not isinstance(v, np.ndarray)) else v[0]
        raise AttributeError(f"GroupFitResult has no attribute {key!r}")

    @property
    def covar_shared(self):
        return None if self._covar_shared is None else self._get(self._covar_shared)

    @property
    def covar(self):
        return None if self._covar is None else self._get(self._covar)

    @property
    def correl(self):
        from ..stats._compute import correlations

        return None if self._covar is None else self._get(correlations(self._covar))

    @property
    def _status(self):
        return self._stats["status"]

    @property
    def values(self) -> dict:
        """Name -> fitted value of every parameter (tied ones included), as lmfit."""
        return {n: self._get(v) for n, v in self._values.items()}

    @property
    def best_values(self) -> dict:
        """The model function's arguments only (derived parameters left out), as lmfit."""
        names = getattr(self.extras.get("model"), "param_names", None) or self.extras.get("model_param_names")
        if names is None:
            names = [n for n in self._values if self._template[n].expr is None]
        return {n: v for n, v in self.values.items() if n in names}

    def valuesdict(self) -> dict:
        return self.values

    def fit_report(self, **kwargs) -> str:
        """The text report (see :func:`batchfit.fit_report`)."""
        from ..report._text import fit_report

        return fit_report(self, **kwargs)

    @property
    def params(self) -> Parameters:
        """The model's parameters with fitted values and stderr: shared ones
        one per group, per-dataset ones K per group."""
        if self._params is None:
            out = self._template.copy()
            for n in out:
                p = out[n]
                p.value = self._get(self._values[n])
                p.stderr = self._get(self._stderr[n])
                p.init_value = self._get(self._init[n])
            self._params = out
        return self._params

    def to_dataframe(self):
        """One row per dataset (``group``, ``dataset``): every parameter's
        value and stderr (shared ones repeated over the group's datasets)
        and the group's statistics. Needs pandas."""
        try:
            import pandas as pd
        except ImportError as err:
            raise ImportError("to_dataframe needs pandas: pip install batchfit[pandas]") from err
        G, K = self._lay.G, self._lay.K
        cols = {"group": np.repeat(np.arange(G), K), "dataset": np.tile(np.arange(K), G)}
        for n in self._values:
            for key, src in ((n, self._values), (f"{n}_stderr", self._stderr)):
                a = np.asarray(src[n])
                cols[key] = (a if a.ndim == 2 else np.repeat(a[:, None], K, axis=1)).reshape(G * K)
        for k in ("chisqr", "redchi", "aic", "bic", "nfev", "ndata"):
            cols[k] = np.repeat(self._stats[k], K)
        st = self._stats["status"]
        cols["status"] = np.repeat([RESULTS(int(c)).name for c in st], K)
        cols["success"] = np.repeat(np.isin(st, [int(r) for r in RESULTS if r.success]), K)
        return pd.DataFrame(cols)

    def to_dict(self) -> dict:
        """Everything the result holds as plain Python values and numpy
        arrays (the layout of :func:`batchfit.groups._save.encode`)."""
        return _save.encode(self)

    @classmethod
    def from_dict(cls, d: dict) -> GroupFitResult:
        """The GroupFitResult described by :meth:`to_dict`'s output."""
        return cls(**_save.decode(d))

    def save(self, path) -> None:
        """Write to ``path``: .npz (no pickle) or .json, atomically; read back
        with :func:`batchfit.load_result`. The Model object is not saved."""
        write_dict(self.to_dict(), path)

    def eval_uncertainty(self, sigma=1, **kwargs):
        """The uncertainty band of every dataset's model (lmfit's
        ``ModelResult.eval_uncertainty`` of the group written as one flat
        fit): ``t_ppf((prob + 1) / 2, nfree) * sqrt(diag(J C Jᵀ))`` with
        ``C`` the group's full covariance and ``J`` the exact Jacobian of
        the model curves with respect to all its free parameters. ``**kwargs``
        may give other independent variables ((m,), (K, m) or (G, K, m);
        default: the fit's). Returns and sets ``dely`` (and
        ``dely_predicted``): (K, m) for one group, (G, K, m) for G groups."""
        from ..inference._group_uncertainty import group_eval_uncertainty

        return group_eval_uncertainty(self, sigma, **kwargs)

    def plot(self, *, fig=None, max_datasets=8, **kwargs):
        """Data and best fit of every dataset of one group (up to
        ``max_datasets``), residuals below; returns the Figure. Keywords:
        see :func:`batchfit.report.plot_group`."""
        from ..report._plot_group import plot_group

        return plot_group(self, fig=fig, max_datasets=max_datasets, **kwargs)

    def __repr__(self):
        kind = f"{len(self)} groups" if self.batched else "1 group"
        return (f"<GroupFitResult: {kind} of {self.ndatasets} datasets, shared={self.shared_names}, "
                f"{int(np.sum(self.success))} succeeded, "
                f"solver={self.solver}>")


def _group_template(template, g):
    """The template of group g: a (G, K) per-dataset ``vary`` as group g's row."""
    if not any(isinstance(p.vary, np.ndarray) and p.vary.ndim == 2 for p in template.values()):
        return template
    out = template.copy()
    for p in out.values():
        if isinstance(p.vary, np.ndarray) and p.vary.ndim == 2:
            p.vary = p.vary[g]
    return out


register_format(_save.FORMAT, GroupFitResult.from_dict)


def fit_extras(md, G, K, resid, model) -> dict:
    """Data, weights, mask, independent variables and best fit as (G, K, m)
    arrays (best fit NaN where masked)."""

    def grouped(a):
        return split_groups(a, G, K)

    y = grouped(md.per_fit["y"])
    w = md.per_fit.get("weights", md.shared.get("weights"))
    wfull = np.broadcast_to(grouped(w) if (w is not None and w.ndim == 2) else
                            (w if w is not None else 1.0), y.shape)
    mask = grouped(md.per_fit["mask"]) if "mask" in md.per_fit else None
    r = np.asarray(resid).reshape(y.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        best = np.where(wfull != 0, r / np.where(wfull != 0, wfull, 1) + y, np.nan)
    if mask is not None:
        best = np.where(mask, best, np.nan)
    indep = {v: (grouped(md.indep_fit[v]) if v in md.indep_fit else
                 np.broadcast_to(md.indep_shared[v], y.shape) if md.indep_shared[v].shape == y.shape[-1:]
                 else md.indep_shared[v])  # of the model's own shape
             for v in list(md.indep_fit) + list(md.indep_shared)}
    weights = None if w is None else wfull  # (G, K, m), a broadcast view
    return dict(best_fit=best, data=y, weights=weights, mask=mask, residual=r, model=model, indep=indep)
