"""GroupFitResult <-> dict (plain data and numpy arrays), the layout that
``GroupFitResult.save`` writes (.npz or .json, as a FitResult's files) and
``batchfit.load_result`` reads back."""

from __future__ import annotations

import numpy as np

from ..results._export import params_dict, plain_extras, to_dict
from ..results._load import _field, from_dict, template_from
from ._layout import GroupLayout

FORMAT = "batchfit.GroupFitResult"
VERSION = 1
STAT_KEYS = ("status", "nfev", "ndata", "nfree", "chisqr", "redchi", "aic", "bic", "errorbars")


def encode(res) -> dict:
    """A GroupFitResult as a dict of plain Python values and numpy arrays."""
    lay = res._lay
    return {
        "format": FORMAT, "version": VERSION, "method": res.method, "solver": res.solver,
        "layout": {"G": int(lay.G), "K": int(lay.K), "grouped": bool(lay.grouped),
                   "shared": list(lay.shared), "local": list(lay.local)},
        "params": params_dict(res._template),
        "nvarys": int(res.nvarys),
        "var_names": None if res.var_names is None else list(res.var_names),
        "stats": {k: np.asarray(res._stats[k]) for k in STAT_KEYS},
        "values": {n: np.asarray(v) for n, v in res._values.items()},
        "stderr": {n: np.asarray(v) for n, v in res._stderr.items()},
        "init": {n: np.asarray(v) for n, v in res._init.items()},
        "covar_shared": None if res._covar_shared is None else np.asarray(res._covar_shared),
        "covar": None if res._covar is None else np.asarray(res._covar),
        "extras": plain_extras(res.extras),
        "flat": None if res.flat is None else to_dict(res.flat),
    }


def _array(v, what, shape=None):
    if not isinstance(v, np.ndarray) or v.dtype.kind not in "biuf":
        raise ValueError(f"field {what!r} must be a numeric array, got {type(v).__name__}")
    if shape is not None and v.shape not in shape:
        raise ValueError(f"field {what!r} has shape {v.shape}, expected {' or '.join(map(str, shape))}")
    return v


def decode(d) -> dict:
    """GroupFitResult's constructor arguments from :func:`encode`'s dict
    (checked: errors name the field at fault)."""
    if d.get("version") != VERSION:
        raise ValueError(f"unsupported GroupFitResult format version {d.get('version')!r} (expected {VERSION})")
    lay = _field(d, "layout", dict)
    G, K = _field(lay, "G", int, "layout."), _field(lay, "K", int, "layout.")
    shared, local = _field(lay, "shared", list, "layout."), _field(lay, "local", list, "layout.")
    if G < 1 or K < 1:
        raise ValueError(f"field 'layout': G = {G} and K = {K} must be >= 1")
    layout = GroupLayout(G, K, bool(_field(lay, "grouped", bool, "layout.")), tuple(shared), tuple(local))
    stats = _field(d, "stats", dict)
    missing = sorted(set(STAT_KEYS) - set(stats))
    if missing:
        raise ValueError(f"field 'stats' lacks {missing}")
    stats = {k: _array(stats[k], f"stats.{k}", [(G,)]) for k in STAT_KEYS}
    per = {}
    for key in ("values", "stderr", "init"):
        f = _field(d, key, dict)
        if sorted(f) != sorted(shared + local):
            raise ValueError(f"field {key!r} must hold the parameters {shared + local}, got {sorted(f)}")
        per[key] = {n: _array(f[n], f"{key}.{n}", [(G,)] if n in shared else [(G, K)]) for n in f}
    cov = {}
    for key in ("covar_shared", "covar"):
        v = d.get(key)
        cov[key] = None if v is None else _array(v, key)
        if v is not None and (v.ndim != 3 or v.shape[0] != G or v.shape[1] != v.shape[2]):
            raise ValueError(f"field {key!r} has shape {v.shape}, expected ({G}, n, n)")
    flat = d.get("flat")
    var_names = d.get("var_names")
    return {"layout": layout, "template": template_from(d), "method": _field(d, "method", str),
            "stats": stats, "values": per["values"], "stderr": per["stderr"], "init": per["init"],
            "nvarys": _field(d, "nvarys", int), "flat": None if flat is None else from_dict(flat),
            "covar_shared": cov["covar_shared"], "covar": cov["covar"],
            "var_names": None if var_names is None else list(var_names),
            "solver": _field(d, "solver", str), "extras": dict(d.get("extras") or {})}
