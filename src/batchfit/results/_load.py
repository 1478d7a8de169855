"""Saved results back: dict -> FitResult, .npz/.json files -> FitResult (no pickle)."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np

from ..params import Parameter, Parameters
from ..params._expr import parse
from ..problem._pack import ParamSpec
from ._base import ARRAYS
from ._export import FORMAT, VERSION, _kind
from ._result import FitResult


def from_dict(d: dict) -> FitResult:
    """The FitResult described by :func:`to_dict`'s output (checked: errors
    name the field at fault)."""
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise ValueError(f"not a saved batchfit FitResult (format is not {FORMAT!r})")
    if d.get("version") not in (1, VERSION):
        raise ValueError(f"unsupported FitResult format version {d.get('version')!r} (expected {VERSION})")
    if d["version"] == 1 and isinstance(d.get("arrays"), dict) and "values" in d["arrays"]:
        d = d | {"arrays": {("values_all" if k == "values" else k): v for k, v in d["arrays"].items()}}
    s = _field(d, "spec", dict)
    names, free, fixed = (_names(s, k) for k in ("names", "free", "fixed"))
    tied = _field(s, "tied", list, "spec.")
    if not all(isinstance(t, list) and len(t) == 2 and all(isinstance(u, str) for u in t) for t in tied):
        raise ValueError("field 'spec.tied' must be a list of [name, expr] pairs")
    if sorted(free + fixed + [n for n, _ in tied]) != sorted(names):
        raise ValueError("field 'spec': free, fixed and tied names do not partition spec.names")
    for n, ex in tied:
        parse(ex, f"field 'spec.tied' of {n!r}")  # an ExprError (a ValueError) names it
    spec = ParamSpec(tuple(names), tuple(free), tuple(fixed), tuple((n, ex) for n, ex in tied))
    template = template_from(d)
    arrays = _field(d, "arrays", dict)
    missing = set(ARRAYS) - set(arrays)
    if missing:
        raise ValueError(f"saved FitResult lacks arrays {sorted(missing)}")
    arrays = {k: arrays[k] for k in ARRAYS}
    extras = dict(d.get("extras") or {})
    _check_shapes(arrays, extras, spec, bool(d.get("batched")))
    return FitResult(spec=spec, template=template, method=_field(d, "method", str),
                     batched=bool(_field(d, "batched", bool)), extras=extras, **arrays)


def template_from(d) -> Parameters:
    """The Parameters of field ``params`` (errors name the parameter)."""
    template = Parameters()
    for name, f in _field(d, "params", dict).items():
        if not isinstance(f, dict) or set(f) != {"value", "min", "max", "vary", "expr"}:
            raise ValueError(f"field 'params.{name}' must hold value, min, max, vary and expr")
        try:
            template.add(Parameter(name, value=f["value"], vary=f["vary"], min=f["min"], max=f["max"],
                                   expr=f["expr"]))
        except (TypeError, ValueError) as err:
            raise ValueError(f"field 'params.{name}': {err}") from None
    return template


def _field(d, key, kind, prefix=""):
    if key not in d:
        raise ValueError(f"field '{prefix}{key}' is missing")
    if not isinstance(d[key], kind):
        raise ValueError(f"field '{prefix}{key}' must be a {kind.__name__}, got {type(d[key]).__name__}")  # noqa: TRY004 (a bad file)
    return d[key]


def _names(spec, key):
    v = _field(spec, key, list, "spec.")
    if not all(isinstance(n, str) for n in v):
        raise ValueError(f"field 'spec.{key}' must be a list of names")
    return v


def _check_shapes(arrays, extras, spec, batched):
    """Every per-fit array over the same fits, with the spec's sizes."""
    for k, a in arrays.items():
        if not isinstance(a, np.ndarray) or a.dtype.kind not in "biuf":
            raise ValueError(f"field 'arrays.{k}' must be a numeric array, got {type(a).__name__}")
    B = arrays["status"].shape[0] if arrays["status"].ndim == 1 else -1
    if B < 1 or (not batched and B != 1):
        raise ValueError(f"field 'arrays.status' has shape {arrays['status'].shape}, expected (N,) with "
                         f"N >= 1{'' if batched else ' (N = 1 for a single fit)'}")
    res = arrays["residual"]
    m = res.shape[1] if res.ndim == 2 else -1
    nf, nn = len(spec.free), len(spec.names)
    want = {k: (B,) for k in ("nfev", "ndata", "nfree", "chisqr", "redchi", "aic", "bic", "errorbars")}
    want.update(covar=(B, nf, nf), init_vals=(B, nf), values_all=(B, nn), stderr_all=(B, nn), residual=(B, m))
    for k, shape in want.items():
        if arrays[k].shape != shape:
            raise ValueError(f"field 'arrays.{k}' has shape {arrays[k].shape}, expected {shape} "
                             f"({B} fits, {nf} free of {nn} parameters{f', {m} points' if m >= 0 else ''})")
    for k in ("best_fit", "data", "weights", "mask"):
        a = extras.get(k)
        if a is not None and np.shape(a) != (B, m):
            raise ValueError(f"field 'extras.{k}' has shape {np.shape(a)}, expected {(B, m)}")
    for k, a in (extras.get("indep") or {}).items():
        if a is not None and np.shape(a) not in ((m,), (B, m)):
            raise ValueError(f"field 'extras.indep.{k}' has shape {np.shape(a)}, expected {(m,)} or {(B, m)}")


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


_FORMATS = {}  # format name -> from_dict, for the other result classes (GroupFitResult)


def register_format(name: str, from_dict_fn) -> None:
    """Let :func:`load_result` read files whose ``format`` is ``name``
    (a result class above this stage registers its ``from_dict``)."""
    _FORMATS[name] = from_dict_fn


def _dispatch(d):
    fmt = d.get("format") if isinstance(d, dict) else None
    return _FORMATS[fmt](d) if fmt in _FORMATS else from_dict(d)


def load_result(path) -> FitResult:
    """Read a result written by :meth:`FitResult.save` or
    :meth:`GroupFitResult.save` (.npz or .json).

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
    where = repr(os.fspath(path))
    try:
        if ext == ".json":
            with open(path, encoding="utf-8") as fh:
                tree = json.load(fh)
            return _dispatch(_decode(tree, _json_fetch))
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:  # our handle: closed on errors
            if "__meta__" not in z.files:
                raise ValueError("not a saved batchfit FitResult (no __meta__ entry)")
            meta = json.loads(str(z["__meta__"]))

            def fetch(key):
                if not isinstance(key, str) or key not in z.files:
                    raise ValueError(f"field {key!r}: no such array in the file")
                return z[key]

            return _dispatch(_decode(meta, fetch))
    except OSError as err:
        if isinstance(err, FileNotFoundError | PermissionError | IsADirectoryError):
            raise
        raise ValueError(f"{where}: cannot be read as a saved FitResult: {err}") from None
    except (ValueError, EOFError, zipfile.BadZipFile, UnicodeDecodeError) as err:  # JSONDecodeError too
        raise ValueError(f"{where}: {_reason(err)}") from None
    except (KeyError, TypeError, AttributeError, IndexError) as err:
        raise ValueError(f"{where}: malformed FitResult metadata ({type(err).__name__}: {err})") from None


def _reason(err):
    if isinstance(err, json.JSONDecodeError):
        return f"not valid JSON (truncated or not a saved FitResult): {err}"
    if isinstance(err, (EOFError, zipfile.BadZipFile)):
        return f"not a readable .npz file (truncated or not a saved FitResult): {err}"
    if isinstance(err, UnicodeDecodeError):
        return "not a text JSON file (binary content: truncated, or e.g. a pickle saved as .json)"
    return str(err)


def _json_fetch(t):
    if not isinstance(t, dict) or not {"data", "dtype", "shape"} <= set(t):
        raise ValueError("malformed array entry (needs data, dtype and shape)")
    dt = np.dtype(t["dtype"])
    if dt.kind not in "biuf":
        raise ValueError(f"array of dtype {dt} (only numbers are loaded)")
    return np.array(t["data"], dtype=dt).reshape(t["shape"])
