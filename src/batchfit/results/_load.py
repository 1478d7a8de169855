"""Saved results back: dict -> FitResult, .npz/.json files -> FitResult (no pickle)."""

from __future__ import annotations

import json
import os

import numpy as np

from ..params import Parameter, Parameters
from ..problem._pack import ParamSpec
from ._base import ARRAYS
from ._export import FORMAT, VERSION, _kind
from ._result import FitResult


def from_dict(d: dict) -> FitResult:
    """The FitResult described by :func:`to_dict`'s output."""
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise ValueError(f"not a saved batchfit FitResult (format is not {FORMAT!r})")
    if d.get("version") != VERSION:
        raise ValueError(f"unsupported FitResult format version {d.get('version')!r} (expected {VERSION})")
    s = d["spec"]
    spec = ParamSpec(tuple(s["names"]), tuple(s["free"]), tuple(s["fixed"]),
                     tuple((n, ex) for n, ex in s["tied"]))
    template = Parameters()
    for name, f in d["params"].items():
        template.add(Parameter(name, value=f["value"], vary=f["vary"], min=f["min"], max=f["max"],
                               expr=f["expr"]))
    missing = set(ARRAYS) - set(d["arrays"])
    if missing:
        raise ValueError(f"saved FitResult lacks arrays {sorted(missing)}")
    return FitResult(spec=spec, template=template, method=d["method"], batched=bool(d["batched"]),
                     extras=dict(d.get("extras") or {}), **{k: d["arrays"][k] for k in ARRAYS})


def _decode(tree, fetch):
    if isinstance(tree, dict):
        if "__ndarray__" in tree:
            return fetch(tree["__ndarray__"])
        if "__broadcast__" in tree:
            a = _decode(tree["array"], fetch)
            return np.broadcast_to(a, (int(tree["__broadcast__"]),) + a.shape)
        if "__float__" in tree:
            return float(tree["__float__"])
        return {k: _decode(v, fetch) for k, v in tree.items()}
    return tree


def load_result(path) -> FitResult:
    """Read a FitResult written by :meth:`FitResult.save` (.npz or .json).

    No pickle is involved (.npz files are read with ``allow_pickle=False``).
    The result's params, stderr, correlations, statistics, report and the
    data of a Model fit equal the saved ones; the Model object is not saved.

    Example:
      >>> import os, tempfile, numpy as np, batchfit as bf
      >>> x = np.linspace(0, 1, 11)
      >>> res = bf.Model(lambda x, a, b: a * x + b).fit(2 * x + 1 + 0.1 * np.sin(9 * x), x=x, a=1, b=0)
      >>> with tempfile.TemporaryDirectory() as folder:
      ...     res.save(os.path.join(folder, "fit.npz"))
      ...     back = bf.load_result(os.path.join(folder, "fit.npz"))
      >>> bf.fit_report(back) == bf.fit_report(res), bool(back.params["a"].stderr == res.params["a"].stderr)
      (True, True)
    """
    ext = _kind(path)
    if ext == ".json":
        with open(path, encoding="utf-8") as fh:
            tree = json.load(fh)
        fetch = lambda t: np.array(t["data"], dtype=np.dtype(t["dtype"])).reshape(t["shape"])  # noqa: E731
        return from_dict(_decode(tree, fetch))
    with np.load(path, allow_pickle=False) as z:
        if "__meta__" not in z.files:
            raise ValueError(f"{os.fspath(path)!r} is not a saved batchfit FitResult")
        meta = json.loads(str(z["__meta__"]))
        return from_dict(_decode(meta, lambda key: z[key]))
