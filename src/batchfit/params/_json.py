"""Parameters as JSON, in lmfit's layout.

``{"unique_symbols": {...}, "params": [[name, value, vary, expr, min, max,
brute_step, stderr, correl, init_value, user_data], ...]}``: scalar
Parameters written here load in lmfit (``lmfit.Parameters().loads``) and
lmfit's JSON loads here. Arrays (a batch's values) are written as lmfit
writes arrays: ``{"__class__": "NDArray", "__shape__", "__dtype__",
"value"}``. Infinite bounds are ``Infinity``, as lmfit writes them.
"""

from __future__ import annotations

import json

import numpy as np

FIELDS = ("name", "value", "vary", "expr", "min", "max", "brute_step", "stderr", "correl",
          "init_value", "user_data")


def _encode(v):
    if isinstance(v, np.ndarray):
        return {"__class__": "NDArray", "__shape__": list(v.shape), "__dtype__": v.dtype.name,
                "value": v.ravel().tolist()}
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, dict):
        return {str(k): _encode(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_encode(x) for x in v]
    return v


def _decode(v):
    if isinstance(v, dict):
        cls = v.get("__class__")
        if cls == "NDArray":
            return np.array(v["value"], dtype=v["__dtype__"]).reshape(v["__shape__"])
        if cls in ("List", "Tuple"):
            return [_decode(x) for x in v["value"]]
        if cls == "Dict":
            return {k: _decode(x) for k, x in v.items() if k != "__class__"}
        return {k: _decode(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_decode(x) for x in v]
    return v


def dumps(params, **kws) -> str:
    rows = []
    for p in params.values():
        rows.append([_encode(getattr(p, f, None)) for f in FIELDS])
    symbols = {n: v for n, v in ((n, p._value) for n, p in params.items())
               if isinstance(v, float) and params[n].expr is None}
    return json.dumps({"unique_symbols": symbols, "params": rows}, **kws)


def loads(params, s, **kws):
    """Clear ``params`` and fill it from JSON ``s`` (ours or lmfit's)."""
    from ._parameter import Parameter

    try:
        tmp = json.loads(s, **kws)
        rows = tmp["params"]
    except (TypeError, KeyError, json.JSONDecodeError) as err:
        raise ValueError(f"Parameters.loads: not a Parameters JSON string ({err})") from None
    built = []
    for row in rows:
        if not isinstance(row, list) or len(row) < 6:
            raise ValueError(f"Parameters.loads: a parameter must be a list of its fields "
                             f"{list(FIELDS)}, got {row!r:.80}")
        state = dict(zip(FIELDS, [_decode(x) for x in row]))
        p = Parameter(state["name"], vary=bool(state["vary"]),
                      min=state["min"], max=state["max"], brute_step=state.get("brute_step"),
                      user_data=state.get("user_data"))
        p._value = None if state["value"] is None else np.array(state["value"], dtype=float) \
            if np.ndim(state["value"]) else float(state["value"])
        for f in ("stderr", "init_value"):
            v = state.get(f)
            setattr(p, f, None if v is None else (float(v) if np.ndim(v) == 0 else np.asarray(v, float)))
        p.correl = state.get("correl")
        built.append((p, state["expr"]))
    params.clear()
    for p, _ in built:
        params.add(p)
    for p, ex in built:  # ties last: they may use parameters listed after them
        if ex is not None and str(ex).strip():
            p.expr = ex
    return params
