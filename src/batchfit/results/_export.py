"""FitResult -> dict, pandas DataFrame, .npz/.json files (read back by ``_load``).

``to_dict`` is the one faithful description of a result: the parameter
template (names, values, bounds, vary, expr), the parameter structure, every
per-fit array and the numeric extras of a Model fit (``best_fit``, ``data``,
``weights``, ``mask``, independent variables). Objects that are not data
(the ``Model`` itself) are left out. Files hold exactly that dict: .npz with
the arrays as entries and the rest as one JSON string (loaded with
``allow_pickle=False``), or .json with arrays as tagged lists.
"""

from __future__ import annotations

import json
import os

import numpy as np

from ..solver import RESULTS
from ._base import ARRAYS

FORMAT = "batchfit.FitResult"
VERSION = 2  # 2: the values over every parameter are 'values_all' (1: 'values')
STAT_COLUMNS = ("chisqr", "redchi", "aic", "bic", "nfev", "ndata", "status", "success", "message")


# -- dict -------------------------------------------------------------------
def _plain(v):
    """``v`` as plain Python/numpy data, or raise TypeError."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, dict):
        out = {}
        for k, u in v.items():
            try:
                out[str(k)] = _plain(u)
            except TypeError:
                continue
        return out
    if isinstance(v, (list, tuple)) or (hasattr(v, "__array__") and not callable(v)):
        try:
            a = np.asarray(v)
        except ValueError:  # ragged nesting
            a = None
        if a is not None and a.dtype.kind in "biuf":
            return a
    raise TypeError(f"not data: {type(v).__name__}")


def to_dict(result) -> dict:
    """A FitResult as a dict of plain Python values and numpy arrays.

    Keys: ``format``, ``version``, ``method``, ``batched``, ``spec``
    (``names``, ``free``, ``fixed``, ``tied`` as ``[name, expr]`` pairs),
    ``params`` (the starting Parameters: name -> ``value``, ``min``,
    ``max``, ``vary``, ``expr``), ``arrays`` (every per-fit array, leading
    batch axis, e.g. ``values_all`` over ``spec["names"]``, ``covar`` over
    ``spec["free"]``) and ``extras`` (numeric extras such as ``best_fit``).
    ``json.dumps(d, default=lambda a: a.tolist())`` serialises it; non-finite
    numbers then appear as NaN/Infinity, as Python's json writes them.
    """
    spec = result._spec
    params = params_dict(result._template)
    return {
        "format": FORMAT,
        "version": VERSION,
        "method": result.method,
        "batched": bool(result.batched),
        "spec": {"names": list(spec.names), "free": list(spec.free), "fixed": list(spec.fixed),
                 "tied": [list(t) for t in spec.tied]},
        "params": params,
        "arrays": {k: result._a[k] for k in ARRAYS},
        "extras": plain_extras(result.extras),
    }


def plain_extras(extras) -> dict:
    """The numeric extras, plus the Model's name and labels (not the Model)."""
    return _plain(extras) | _model_name(extras)


def params_dict(template) -> dict:
    """Parameters as name -> ``value``, ``min``, ``max``, ``vary``, ``expr``."""
    return {n: {"value": p.value, "min": p.min, "max": p.max, "vary": p.vary, "expr": p.expr}
            for n, p in template.items()}


def _model_name(extras) -> dict:
    """The Model's name, report label and argument names (the Model itself
    is not data), for titles, reports and ``best_values``."""
    model = extras.get("model")
    name = getattr(model, "name", None)
    if name is None:  # a loaded result keeps what it was saved with
        return {k: extras[k] for k in ("model_name", "model_label", "model_param_names") if k in extras}
    return {"model_name": str(name), "model_label": str(model._label()),
            "model_param_names": [str(n) for n in model.param_names]}


# -- pandas -----------------------------------------------------------------
def to_dataframe(result):
    """One row per fit: each parameter and its stderr, then statistics.

    Columns: ``<name>``, ``<name>_stderr`` for every parameter, then
    ``chisqr``, ``redchi``, ``aic``, ``bic``, ``nfev``, ``ndata``,
    ``status`` (the :class:`RESULTS` name), ``success``, ``message``.
    """
    try:
        import pandas as pd
    except ImportError as err:
        raise ImportError("FitResult.to_dataframe needs pandas: pip install batchfit[pandas]") from err
    a = result._a
    cols = {}
    for j, n in enumerate(result._spec.names):
        for key, arr in ((n, a["values_all"]), (f"{n}_stderr", a["stderr_all"])):
            if key in cols or key in STAT_COLUMNS:
                raise ValueError(f"to_dataframe: column {key!r} of parameter {n!r} clashes with another column")
            cols[key] = arr[:, j]
    codes = [RESULTS(int(c)) for c in a["status"]]
    cols.update(chisqr=a["chisqr"], redchi=a["redchi"], aic=a["aic"], bic=a["bic"], nfev=a["nfev"],
                ndata=a["ndata"], status=[c.name for c in codes], success=[c.success for c in codes],
                message=[c.message for c in codes])
    return pd.DataFrame(cols, index=pd.RangeIndex(len(codes), name="fit"))


# -- files ------------------------------------------------------------------
def _encode(tree, store, path=""):
    """Replace arrays in ``tree`` by tags; ``store(key, array)`` keeps them.

    An array broadcast along its leading axis (a stride-0 view, as per-fit
    copies of shared data) is stored once with its length.
    """
    if isinstance(tree, dict):
        return {k: _encode(v, store, f"{path}/{k}" if path else k) for k, v in tree.items()}
    if isinstance(tree, np.ndarray):
        if tree.ndim and tree.shape[0] > 1 and tree.strides[0] == 0:
            return {"__broadcast__": tree.shape[0], "array": _encode(tree[0], store, path)}
        return {"__ndarray__": store(path, tree)}
    if isinstance(tree, float) and not np.isfinite(tree):
        return {"__float__": repr(tree)}
    return tree


def _json_array(a):
    return {"dtype": a.dtype.str, "shape": list(a.shape), "data": a.ravel().tolist()}


def _kind(path) -> str:
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in (".npz", ".json"):
        raise ValueError(f"path must end in .npz or .json, got {os.fspath(path)!r}")
    return ext


def _atomic(path, write, text: bool):
    """Call ``write(fh)`` on a temporary file in ``path``'s folder, then rename it
    to ``path`` (atomic): a failure or a kill midway leaves ``path`` as it was
    (absent, or the previous file), never half written."""
    path = os.fspath(path)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") if text else open(tmp, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save(result, path) -> None:
    """Write ``result`` to ``path`` (.npz or .json, chosen by the suffix).

    The file is written under a temporary name in the same folder and renamed
    into place, so an interrupted save never leaves a half-written file.
    """
    write_dict(to_dict(result), path)


def write_dict(d, path) -> None:
    """Write a result's dict (``to_dict``'s layout: arrays and plain data) to
    ``path`` (.npz or .json, chosen by the suffix), atomically."""
    ext = _kind(path)
    if ext == ".json":
        tree = _encode(d, lambda key, a: _json_array(a))
        _atomic(path, lambda fh: json.dump(tree, fh, allow_nan=True), text=True)
        return
    arrays = {}

    def keep(key, a):
        arrays[key] = a
        return key

    meta = _encode(d, keep)
    text = np.array(json.dumps(meta, allow_nan=False))
    _atomic(path, lambda fh: np.savez_compressed(fh, __meta__=text, **arrays), text=False)
