"""Writing ``batchfit fit``'s results: a table (.csv, .parquet) or a saved result (.npz, .json)."""

from __future__ import annotations

import csv
import importlib.util
import os

import numpy as np

from ._args import OUT_SUFFIXES, CLIError
from ._readers import _suffix


def _columns_without_pandas(res) -> dict:
    """The columns of ``res.to_dataframe()`` (and its ``fit`` index), built
    without pandas."""
    from ..groups._result import GroupFitResult
    from ..solver import RESULTS

    st = np.atleast_1d(np.asarray(res.status))
    codes = [RESULTS(int(c)) for c in st]
    cols = {}
    if isinstance(res, GroupFitResult):
        G, K = len(res), res.ndatasets
        cols["group"] = np.repeat(np.arange(G), K)
        cols["dataset"] = np.tile(np.arange(K), G)
        params = res.params
        for n in res.shared_names + res.local_names:  # to_dataframe's order
            p = params[n]
            for key, v in ((n, p.value), (f"{n}_stderr", p.stderr)):
                a = np.asarray(v, dtype=float).reshape((G, -1))
                cols[key] = (a if a.shape[1] == K else np.repeat(a, K, axis=1)).reshape(G * K)
        for k in ("chisqr", "redchi", "aic", "bic", "nfev", "ndata"):
            cols[k] = np.repeat(np.atleast_1d(getattr(res, k)), K)
        cols["status"] = np.repeat([c.name for c in codes], K)
        cols["success"] = np.repeat([c.success for c in codes], K)
        return cols
    cols["fit"] = np.arange(len(codes))
    for n, p in res.params.items():
        cols[n] = np.atleast_1d(p.value)
        cols[f"{n}_stderr"] = np.atleast_1d(p.stderr)
    for k in ("chisqr", "redchi", "aic", "bic", "nfev", "ndata"):
        cols[k] = np.atleast_1d(getattr(res, k))
    cols["status"] = [c.name for c in codes]
    cols["success"] = [c.success for c in codes]
    cols["message"] = [c.message for c in codes]
    return cols


def result_table(res, labels=None) -> dict:
    """The results as ordered columns (name -> array): those of
    ``res.to_dataframe()`` (with the ``fit`` index as the first column of a
    FitResult's table), then ``label`` when the datasets have names."""
    try:
        import pandas  # noqa: F401
    except ImportError:
        cols = _columns_without_pandas(res)
    else:
        df = res.to_dataframe()
        if df.index.name is not None:
            df = df.reset_index()
        cols = {str(c): df[c].to_numpy() for c in df.columns}
    if labels is not None:
        key = "dataset" if "dataset" in cols else "fit"
        idx = np.asarray(cols[key], dtype=int)
        out = {}
        for k, v in cols.items():
            out[k] = v
            if k == key:
                out["label"] = np.asarray(labels)[idx]
        cols = out
    return cols


def _cell(v):
    if isinstance(v, (bool, np.bool_)):
        return "True" if v else "False"
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return str(v)


def _write_csv(cols: dict, path):
    names = list(cols)
    n = len(next(iter(cols.values()))) if cols else 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(names)
        for i in range(n):
            w.writerow([_cell(cols[k][i]) for k in names])


def _check_out(path):
    ext = _suffix(path)
    if ext not in OUT_SUFFIXES:
        raise CLIError(f"--out {path!r}: unsupported type {ext or '(none)'!r}; "
                       f"expected one of {', '.join(OUT_SUFFIXES)}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise CLIError(f"--out {path!r}: folder {folder!r} does not exist")
    if ext == ".parquet":
        if importlib.util.find_spec("pandas") is None:
            raise CLIError("--out .parquet needs pandas and pyarrow (pip install batchfit[parquet]); "
                           "or write .csv, .npz or .json")
        if importlib.util.find_spec("pyarrow") is None and importlib.util.find_spec("fastparquet") is None:
            raise CLIError("--out .parquet needs pyarrow or fastparquet (pip install batchfit[parquet]); "
                           "or write .csv, .npz or .json")


def write_results(res, path, labels=None) -> str:
    """Write ``res`` to ``path`` by its suffix (see the module docs); returns
    a one-line description."""
    from ..groups._result import GroupFitResult

    ext = _suffix(path)
    if ext in (".npz", ".json"):
        res.save(path)
        what = (f"{len(res) if res.batched else 1} group(s)" if isinstance(res, GroupFitResult)
                else f"{len(res) if res.batched else 1} fit(s)")
        return f"result of {what} (batchfit.load_result reads it)"
    cols = result_table(res, labels)
    nrows = len(next(iter(cols.values())))
    if ext == ".csv":
        _write_csv(cols, path)
    else:
        import pandas as pd

        pd.DataFrame(cols).to_parquet(path)
    return f"{nrows} rows"
