"""Host-side preparation of model data: batch, pad ragged, mask, validate."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

NAN_POLICIES = ("raise", "omit", "propagate")


class ModelData(NamedTuple):
    B: int
    batched: bool
    m: int
    per_fit: dict  # "y", "mask", "weights" -> (B, m) arrays
    shared: dict  # "weights" -> (m,) when common to every fit
    indep_fit: dict  # independent variable -> (B, ...): (B, m), or any trailing axes (the model's)
    indep_shared: dict  # independent variable -> (m,), or any shape the model takes
    ndata: np.ndarray  # (B,) number of valid points


def _is_ragged(a):
    return isinstance(a, (list, tuple)) and len(a) > 0 and all(np.ndim(v) == 1 for v in a) and len(
        {len(v) for v in a}
    ) > 1


def _to_array(a, name, dtype):
    if isinstance(a, (list, tuple)) and any(np.ndim(v) != np.ndim(a[0]) for v in a):
        raise ValueError(f"{name}: ragged nesting is not supported")
    arr = np.asarray(a)
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got dtype {arr.dtype}")
    if arr.dtype.kind == "b" and name.split("[")[0] == "data":
        raise TypeError(f"{name} is boolean (dtype bool): pass measured values as numbers "
                        "(e.g. data.astype(float) if 0/1 is really meant)")
    return _readonly(arr.astype(dtype, copy=False), a)


def _readonly(arr, source):
    """``arr`` itself when it is a new array; a read-only view when it shares
    the caller's memory (no copy of large data, and no write can reach it)."""
    if isinstance(source, np.ndarray) and np.shares_memory(arr, source):
        arr = arr.view(np.ndarray)
        arr.flags.writeable = False
    return arr


def shape_hint(md: ModelData) -> str:
    """For an error on the model's output shape: the independent variables
    whose shapes are not one value per point (``(m,)``, ``(N, m)``), which
    were passed to the model whole (or per fit with trailing axes)."""
    want = f"({md.m},)" + (f" or ({md.B}, {md.m})" if md.batched else "")
    odd = [f"{n} has shape {a.shape}" for n, a in md.indep_shared.items() if a.shape != (md.m,)]
    odd += [f"{n} has shape {a.shape}" for n, a in md.indep_fit.items() if a.shape != (md.B, md.m)]
    if not odd:
        return ""
    return (f"; {', '.join(odd)}, but data needs {want} for one value per point (other shapes are "
            "passed to the model whole, or per fit with a leading axis N)")


def per_fit_arrays(per_fit_args, label="minimize"):
    """``minimize``'s ``per_fit_args``: a tuple of numeric arrays sharing a
    leading axis N (one row per fit). Returns ``(arrays, N)``; ``((), None)``
    when there are none. Inputs are not copied or modified."""
    if per_fit_args is None:
        return (), None
    if not isinstance(per_fit_args, (tuple, list)):
        raise TypeError(f"{label}: per_fit_args must be a tuple of arrays (one row per fit), "
                        f"got {type(per_fit_args).__name__}")
    out, sizes = [], {}
    for i, a in enumerate(per_fit_args):
        arr = np.asarray(a)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{label}: per_fit_args[{i}] must be a numeric array, got dtype {arr.dtype}")
        if arr.ndim == 0:
            raise ValueError(f"{label}: per_fit_args[{i}] is a scalar; each must have a leading axis "
                             "N (one row per fit): pass common values in args")
        sizes.setdefault(arr.shape[0], []).append(i)
        out.append(_readonly(arr, a))
    if len(sizes) > 1:
        desc = ", ".join(f"per_fit_args{v} {n}" for n, v in sizes.items())
        raise ValueError(f"{label}: per_fit_args disagree on the number of fits N (leading axis): {desc}")
    if not out:
        return (), None
    N = out[0].shape[0]
    if N == 0:
        raise ValueError(f"{label}: per_fit_args hold no fits (N = 0)")
    return tuple(out), N


ROWS = 1 << 14  # rows per block of the whole-data checks (bounded temporaries)


def _blocks(B):
    return ((i, min(i + ROWS, B)) for i in range(0, B, ROWS))


def _pad(rows, m, name, dtype, fill=0.0):
    out = np.full((len(rows), m), fill, dtype=dtype)
    for i, r in enumerate(rows):
        out[i, : len(r)] = _to_array(r, f"{name}[{i}]", dtype)
    return out


def prepare(data, indep: dict, weights, nan_policy: str, dtype) -> ModelData:
    """Validate and batch the data of a Model fit (never modifies inputs).

    Points with weight 0 are masked: they leave the fit and its statistics
    (``ndata``), as NaN points do under ``nan_policy="omit"``. Negative or
    non-finite weights are errors.

    An independent variable of shape (m,) is shared by every fit; with
    batched data one whose leading axis is N (``(N, m)``, or ``(N, ...)``
    with trailing axes of any shape, e.g. a response matrix per fit
    ``(N, nchan, nE)``) is per fit; any other shape is shared and passed to
    the model whole (e.g. an energy grid ``(nE,)`` or one response matrix).
    The model's output is checked against the data's shape before anything
    compiles.
    """
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}")
    mask = None
    if _is_ragged(data):
        lengths = np.array([len(d) for d in data])
        m = int(lengths.max())
        y = _pad(data, m, "data", dtype)
        mask = np.arange(m)[None, :] < lengths[:, None]
        batched = True
    else:
        y = _to_array(data, "data", dtype)
        if y.ndim not in (1, 2):
            raise ValueError(f"data must have shape (m,) or (N, m), got {y.shape}")
        batched = y.ndim == 2
        y = y if batched else y[None]
        m = y.shape[1]
    B = y.shape[0]
    if B == 0:
        raise ValueError("data holds no datasets (N = 0)")
    if m == 0:
        raise ValueError("data is empty (0 points)")

    per_fit, shared, indep_fit, indep_shared = {}, {}, {}, {}
    items = [(n, a, indep_fit, indep_shared) for n, a in indep.items()]
    items.append(("weights", weights, per_fit, shared))
    for name, a, fit_dict, shared_dict in items:
        if a is None:
            continue
        if _is_ragged(a):
            if mask is None or len(a) != B or any(len(v) != n for v, n in zip(a, mask.sum(1))):
                raise ValueError(f"{name}: ragged lengths must match the ragged data lengths")
            fit_dict[name] = _pad(a, m, name, dtype, fill=(1.0 if name == "weights" else 0.0))
            continue
        arr = _to_array(a, name, dtype)
        if name == "weights" and arr.ndim == 0:
            arr = np.full((m,), arr, dtype=dtype)
        if arr.shape == (m,):
            shared_dict[name] = arr
        elif batched and arr.shape == (B, m):
            fit_dict[name] = arr
        elif name != "weights" and arr.ndim >= 2 and batched and arr.shape[0] == B:
            fit_dict[name] = arr  # per fit, with the model's trailing axes
        elif name != "weights" and arr.ndim >= 1 and mask is None:
            shared_dict[name] = arr  # shared, of the model's own shape
        else:
            want = f"({m},) or ({B}, {m})" if batched else f"({m},)"
            raise ValueError(f"{name} has shape {arr.shape}, but data needs {want}")
    for name, arr in list(indep_fit.items()) + list(indep_shared.items()):
        if not np.all(np.isfinite(arr[mask] if (mask is not None and arr.shape == (B, m)) else arr)):
            raise ValueError(f"{name} contains NaN or inf")
    w = per_fit.get("weights", shared.get("weights"))
    if w is not None:
        wv = w[mask] if (mask is not None and w.ndim == 2) else w
        if not np.all(np.isfinite(wv)):
            raise ValueError("weights contain NaN or inf")
        if np.any(wv < 0):
            raise ValueError("weights must be >= 0 (they multiply the residual, as 1/sigma)")

    # a (B, m) validity mask only when some point is invalid; checked in row
    # blocks, so no full-size temporary is made for clean data
    valid = None if mask is None else mask.copy()
    for i0, i1 in _blocks(B):
        ok = np.ones((i1 - i0, m), dtype=bool) if valid is None else valid[i0:i1]
        if w is not None:  # a zero weight masks its point (which may then hold NaN)
            ok = ok & ((w[i0:i1] if w.ndim == 2 else w) != 0)
        bad = ~np.isfinite(y[i0:i1]) & ok
        if bad.any():
            if nan_policy == "raise":
                i, j = np.argwhere(bad)[0]
                where = f"data[{i0 + i}, {j}]" if batched else f"data[{j}]"
                raise ValueError(
                    f"data contains NaN or inf (first at {where}); pass nan_policy='omit' to mask "
                    "such points or 'propagate' to let those fits fail"
                )
            if nan_policy == "omit":
                ok = ok & ~bad
        if valid is None and not ok.all():
            valid = np.ones((B, m), dtype=bool)
        if valid is not None:
            valid[i0:i1] = ok
    if valid is not None:
        y = np.where(valid, y, 0.0).astype(dtype)
        per_fit["mask"] = valid
        ndata = valid.sum(axis=1)
    else:
        ndata = np.full(B, m)
    per_fit["y"] = y
    return ModelData(B, batched, m, per_fit, shared, indep_fit, indep_shared, ndata)
