"""``batchfit fit``: fit a built-in model to every dataset of a file.

::

    batchfit fit DATA --model NAME [--x X] [--shared p1,p2] [--param SPEC ...]
                 [--weights W] [--dtype float32|float64] [--chunk-size N]
                 [--out RESULTS] [--progress | --no-progress]

Input (``DATA``), one dataset per row:

- ``.npy``: an array (N, m) of N datasets of m points ((m,) is one dataset;
  with ``--shared``, (K, m) is one group of K datasets and (G, K, m) is G
  groups). Read with ``allow_pickle=False``.
- ``.npz``: arrays by name: the data is ``--data-key`` (default: ``data``,
  or the only array); x is ``--x-key`` (default: ``x`` when present).
- ``.h5``/``.hdf5`` (needs h5py): datasets by path, the same keys.
- ``.csv``: comma-separated numbers, one dataset per row and one point per
  column. A first line with a field that is not a number is a header (names,
  otherwise ignored); lines starting with ``#`` are comments. Empty fields
  and rows shorter than the longest are missing points (NaN), which the fit
  leaves out: datasets of unequal length. With ``--layout columns`` the file
  is transposed: a header row names the columns, ``--x NAME`` is the column
  of x values and every other column is one dataset (its name is kept in a
  ``label`` column of the results).

``--x`` is a file (.npy, .npz, .csv, .h5) holding x of shape (m,) or one
row per dataset; or ``first-row`` (the first row of a .csv holds x, the
datasets follow); or a column name (``--layout columns``); or an array name
in the data .npz/.h5. Without it x is the data file's ``x`` array if there
is one, else 0, 1, ..., m-1. ``--weights`` (multiplying the residual,
1/sigma) is read the same way (a file, or an array name in the data file);
its shape is (m,) or that of the data.

``--model`` is a name of :data:`batchfit.models.MODELS`, with constructor
options after colons, and components joined by ``+``:
``polynomial:degree=2``, ``gaussian+linear``,
``gaussian:prefix=g1_+gaussian:prefix=g2_+constant``. Starting values come
from the models' vectorised ``guess`` (one start per dataset; for a shared
parameter the median over the group's datasets), unless ``--no-guess``.
``--param NAME=VALUE[,min=LO][,max=HI][,vary=true|false][,expr=EXPR]``
overrides them (``NAME,min=0`` keeps the guessed value; ``expr`` comes last
and may contain commas). Guessed starts are clipped into the bounds.

Output (``--out``), chosen by the suffix:

- ``.csv`` (or ``.parquet`` with pandas and pyarrow or fastparquet): one
  row per fit, the columns of :meth:`FitResult.to_dataframe` (``fit``,
  each parameter and ``<name>_stderr``, ``chisqr``, ``redchi``, ``aic``,
  ``bic``, ``nfev``, ``ndata``, ``status``, ``success``, ``message``). With
  ``--shared``: one row per dataset (``group``, ``dataset``), shared values
  repeated over the group's datasets, the group's statistics
  (:meth:`GroupFitResult.to_dataframe`). .csv needs no pandas.
- ``.npz`` / ``.json``: :meth:`FitResult.save` (read back with
  :func:`batchfit.load_result`); with ``--shared`` the table's columns.

A report (:func:`batchfit.fit_report`; a summary for a batch) is printed at
the end. Errors in the input print one line ``batchfit fit: error: ...`` to
stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import math
import os
import sys
import time

import numpy as np

DATA_SUFFIXES = (".npy", ".npz", ".csv", ".h5", ".hdf5")
OUT_SUFFIXES = (".csv", ".parquet", ".npz", ".json")
FIELDS = ("value", "min", "max", "vary", "expr")
PROG = "batchfit fit"


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


# --------------------------------------------------------------------------
# argument parsing
# --------------------------------------------------------------------------
def add_parser(sub) -> argparse.ArgumentParser:
    """Register the ``fit`` subcommand on argparse subparsers ``sub``."""
    p = sub.add_parser("fit", help="fit a built-in model to every dataset of a file",
                       description="Fit a built-in model to every dataset (row) of DATA "
                                   "(.npy, .npz, .csv, .h5) and write one row of results per fit.",
                       epilog="See 'python -c \"import batchfit.cli; help(batchfit.cli)\"' for the "
                              "file layouts.")
    p.add_argument("data", metavar="DATA", help="data file: .npy, .npz, .csv (one dataset per row), .h5")
    p.add_argument("--model", required=True,
                   help="built-in model name(s), e.g. gaussian, gaussian+constant, polynomial:degree=2")
    p.add_argument("--x", dest="x", metavar="X",
                   help="x values: a file, 'first-row', a column (--layout columns) or an array name")
    p.add_argument("--data-key", help="array name of the data in a .npz/.h5 file (default: data)")
    p.add_argument("--x-key", help="array name of x in the .npz/.h5 data file or --x file (default: x)")
    p.add_argument("--layout", choices=("rows", "columns"), default="rows",
                   help=".csv layout: one dataset per row (default) or per column")
    p.add_argument("--shared", metavar="P1,P2",
                   help="parameters shared by all datasets (DATA (K, m) is one group, (G, K, m) G groups)")
    p.add_argument("--param", action="append", default=[], metavar="SPEC",
                   help="NAME=VALUE[,min=LO][,max=HI][,vary=BOOL][,expr=EXPR]; repeatable")
    p.add_argument("--no-guess", action="store_true",
                   help="start from the model's defaults and --param instead of its guess")
    p.add_argument("--weights", metavar="W", help="weights (1/sigma): a file or an array name in DATA")
    p.add_argument("--method", choices=("leastsq", "gauss_newton"), default="leastsq")
    p.add_argument("--nan-policy", choices=("omit", "raise", "propagate"), default="omit",
                   help="missing (NaN) points: left out of the fit (default)")
    p.add_argument("--dtype", choices=("float32", "float64"), default=None)
    p.add_argument("--group-solver", choices=("auto", "dense", "schur"), default="auto")
    p.add_argument("--max-nfev", type=int, default=None)
    p.add_argument("--chunk-size", type=int, default=None, metavar="N", help="fit N datasets at a time")
    p.add_argument("--checkpoint", metavar="DIR", help="keep finished chunks in DIR; a rerun resumes")
    p.add_argument("--out", metavar="RESULTS", help="results file: .csv, .parquet, .npz or .json")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar (default: for 10,000 fits or more on a terminal)")
    p.add_argument("--quiet", action="store_true", help="print no report")
    return p


def _number(text, what):
    try:
        return float(text)
    except ValueError:
        raise CLIError(f"{what} must be a number, got {text!r}") from None


def _bool(text, what):
    t = text.strip().lower()
    if t in ("1", "true", "yes", "on"):
        return True
    if t in ("0", "false", "no", "off"):
        return False
    raise CLIError(f"{what} must be true or false, got {text!r}")


def parse_param(text: str) -> tuple[str, dict]:
    """``--param`` syntax -> ``(name, fields)``.

    ``NAME=VALUE[,min=LO][,max=HI][,vary=BOOL][,expr=EXPR]``; the value may
    be left out (``NAME,min=0``); ``expr`` comes last and may hold commas.

    Example:
      >>> parse_param("center=0.5,min=0,max=1")
      ('center', {'value': 0.5, 'min': 0.0, 'max': 1.0})
      >>> parse_param("c,vary=false")
      ('c', {'vary': False})
      >>> parse_param("fwhm,expr=maximum(sigma, 1)")
      ('fwhm', {'expr': 'maximum(sigma, 1)'})
    """
    what = f"--param {text!r}"
    tokens = text.split(",")
    head = tokens[0].strip()
    name, _, value = head.partition("=")
    name = name.strip()
    if not name.isidentifier():
        raise CLIError(f"{what}: expected NAME=VALUE[,min=LO][,max=HI][,vary=BOOL][,expr=EXPR]; "
                       f"{name!r} is not a parameter name")
    fields = {}
    if "=" in head:
        fields["value"] = _number(value.strip(), f"{what}: the value")
    rest = tokens[1:]
    for i, tok in enumerate(rest):
        key, eq, val = tok.partition("=")
        key = key.strip().lower()
        if not eq or key not in FIELDS:
            raise CLIError(f"{what}: {tok.strip()!r} is not one of value=, min=, max=, vary=, expr=")
        if key in fields:
            raise CLIError(f"{what}: {key} given twice")
        if key == "expr":
            fields["expr"] = ",".join([val] + rest[i + 1:]).strip()
            break
        fields[key] = _bool(val, f"{what}: vary") if key == "vary" else _number(val.strip(), f"{what}: {key}")
    for key in ("min", "max"):
        if key in fields and math.isnan(fields[key]):
            raise CLIError(f"{what}: {key} must not be NaN")
    return name, fields


def _option_value(text):
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    low = text.lower()
    if low in ("true", "false"):
        return low == "true"
    return text


def build_model(spec: str):
    """The model of a ``--model`` string: built-in names (with ``:key=value``
    constructor options) joined by ``+``.

    Example:
      >>> build_model("gaussian:prefix=g1_+constant").param_names
      ['g1_amplitude', 'g1_center', 'g1_sigma', 'c']
      >>> build_model("polynomial:degree=2").param_names
      ['c0', 'c1', 'c2']
    """
    from .models import MODELS, get_model

    parts = [t.strip() for t in spec.split("+")]
    if not spec.strip() or any(not t for t in parts):
        raise CLIError(f"--model {spec!r}: empty model name; known models: {', '.join(MODELS)}")
    models = []
    for term in parts:
        name, *opts = term.split(":")
        kw = {}
        for o in opts:
            k, eq, v = o.partition("=")
            if not eq or not k.strip().isidentifier():
                raise CLIError(f"--model {spec!r}: option {o!r} is not KEY=VALUE")
            kw[k.strip()] = _option_value(v.strip())
        if name.strip().lower() not in MODELS:
            raise CLIError(f"--model: unknown model {name.strip()!r}; known models: {', '.join(MODELS)}")
        try:
            models.append(get_model(name.strip(), **kw))
        except (TypeError, ValueError) as err:
            raise CLIError(f"--model {term!r}: {err}") from None
    model = models[0]
    try:
        for m in models[1:]:
            model = model + m
    except NameError as err:
        raise CLIError(f"--model {spec!r}: {err}") from None
    if model.independent_vars != ["x"]:
        raise CLIError(f"--model {spec!r}: the model's independent variables are {model.independent_vars}; "
                       "the command line fits models of one variable x")
    return model


# --------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------
def _suffix(path):
    return os.path.splitext(os.fspath(path))[1].lower()


def _looks_like_file(text):
    return _suffix(text) in DATA_SUFFIXES + (".txt",)


def _check_file(path, role):
    if not os.path.exists(path):
        raise CLIError(f"{role} file {path!r} not found")
    if not os.path.isfile(path):
        raise CLIError(f"{role} {path!r} is not a file")
    if _suffix(path) not in DATA_SUFFIXES:
        raise CLIError(f"{role} file {path!r}: unsupported type {_suffix(path) or '(none)'!r}; "
                       f"expected one of {', '.join(DATA_SUFFIXES)}")


def _numeric(a, where):
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise CLIError(f"{where}: expected numbers, got an array of dtype {a.dtype}")
    return a.astype(np.float32 if a.dtype == np.float32 else np.float64)


def _read_npy(path):
    try:
        return _numeric(np.load(path, allow_pickle=False), path)
    except ValueError as err:
        raise CLIError(f"{path}: cannot read ({err}); object arrays are refused (no unpickling)") from None


class _Container:
    """Named arrays of a .npz or .h5 file."""

    def __init__(self, path):
        self.path = path
        if _suffix(path) == ".npz":
            try:
                with np.load(path, allow_pickle=False) as z:
                    self.names = list(z.files)
            except (ValueError, OSError) as err:
                raise CLIError(f"{path}: not a readable .npz file ({err})") from None
        else:
            h5py = _h5py()
            try:
                with h5py.File(path, "r") as f:
                    names = []
                    f.visititems(lambda n, obj: names.append(n) if isinstance(obj, h5py.Dataset) else None)
                    self.names = names
            except OSError as err:
                raise CLIError(f"{path}: not a readable HDF5 file ({err})") from None

    def __contains__(self, key):
        return key in self.names

    def get(self, key, option):
        if key not in self.names:
            raise CLIError(f"{self.path}: no array {key!r} ({option}); it holds {', '.join(self.names) or 'none'}")
        where = f"{self.path}[{key!r}]"
        if _suffix(self.path) == ".npz":
            try:
                with np.load(self.path, allow_pickle=False) as z:
                    return _numeric(z[key], where)
            except ValueError as err:
                raise CLIError(f"{where}: cannot read ({err}); object arrays are refused") from None
        h5py = _h5py()
        with h5py.File(self.path, "r") as f:
            return _numeric(f[key][()], where)

    def pick(self, key, option, default):
        """Array ``key``; else ``default`` if present; else the only array."""
        if key is not None:
            return self.get(key, option)
        if default in self.names:
            return self.get(default, option)
        if len(self.names) == 1:
            return self.get(self.names[0], option)
        raise CLIError(f"{self.path} holds {', '.join(self.names) or 'no arrays'}; "
                       f"choose one with {option}")


def _h5py():
    try:
        import h5py
    except ImportError:
        raise CLIError("reading .h5 files needs h5py (pip install h5py); or convert to .npz") from None
    return h5py


def _read_csv(path):
    """(header names or None, float array with NaN for missing points)."""
    rows, header, first = [], None, True
    with open(path, newline="", encoding="utf-8-sig") as fh:
        for lineno, fields in enumerate(csv.reader(fh), start=1):
            if not fields or all(not f.strip() for f in fields) or fields[0].lstrip().startswith("#"):
                continue
            vals = []
            bad = None
            for j, f in enumerate(fields):
                f = f.strip()
                if not f:
                    vals.append(np.nan)
                    continue
                try:
                    vals.append(float(f))
                except ValueError:
                    bad = (j, f)
                    break
            if bad is not None:
                if first:
                    header = [f.strip() for f in fields]
                    first = False
                    continue
                j, f = bad
                col = f" ({header[j]!r})" if header is not None and j < len(header) else ""
                raise CLIError(f"{path}: line {lineno}, column {j + 1}{col}: {f!r} is not a number")
            first = False
            rows.append(vals)
    if not rows:
        raise CLIError(f"{path}: no data rows")
    m = max(len(r) for r in rows)
    out = np.full((len(rows), m), np.nan)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return header, out


def _read_any(path, role, key=None, key_option="--data-key", default_key="data"):
    """The one array of a file, for --x / --weights / data."""
    _check_file(path, role)
    ext = _suffix(path)
    if ext == ".npy":
        return _read_npy(path)
    if ext in (".npz", ".h5", ".hdf5"):
        return _Container(path).pick(key, key_option, default_key)
    _, a = _read_csv(path)
    return a[0] if a.shape[0] == 1 else a


class Inputs:
    """Data, x, weights and dataset labels read from the command line."""

    def __init__(self, data, x, weights, labels, source):
        self.data, self.x, self.weights, self.labels, self.source = data, x, weights, labels, source


def read_inputs(args) -> Inputs:
    """Read DATA, --x and --weights as the options say (see the module docs)."""
    path = args.data
    _check_file(path, "data")
    ext = _suffix(path)
    x = weights = labels = None
    container = header = None
    if ext == ".csv" and args.layout == "columns":
        header, table = _read_csv(path)
        if header is None:
            raise CLIError(f"{path}: --layout columns needs a header row naming the columns")
        if len(header) < table.shape[1]:
            header = header + [f"column_{j + 1}" for j in range(len(header), table.shape[1])]
        cols = list(range(table.shape[1]))
        if args.x is not None and args.x in header:
            j = header.index(args.x)
            x = table[:, j]
            cols.remove(j)
        elif args.x is not None and not _looks_like_file(args.x):
            raise CLIError(f"{path}: no column {args.x!r} for --x; columns: {', '.join(header)}")
        if not cols:
            raise CLIError(f"{path}: no data columns besides x")
        data = table[:, cols].T
        labels = [header[j] for j in cols]
    elif ext == ".csv":
        header, data = _read_csv(path)
        if args.x == "first-row":
            if data.shape[0] < 2:
                raise CLIError(f"{path}: --x first-row needs a row of x and at least one dataset row")
            x, data = data[0], data[1:]
    elif ext == ".npy":
        data = _read_npy(path)
    else:
        container = _Container(path)
        data = container.pick(args.data_key, "--data-key", "data")
    if args.layout == "columns" and ext != ".csv":
        raise CLIError(f"--layout columns applies to .csv files, not {path!r}")
    if args.x == "first-row" and (ext != ".csv" or args.layout != "rows"):
        raise CLIError("--x first-row applies to .csv files with one dataset per row")

    if x is None and args.x is not None and args.x != "first-row":
        if container is not None and args.x in container and not os.path.isfile(args.x):
            x = container.get(args.x, "--x")
        elif _looks_like_file(args.x) or os.path.isfile(args.x):
            x = _read_any(args.x, "--x", args.x_key, "--x-key", "x")
        elif container is not None:
            raise CLIError(f"--x {args.x!r}: not a file, and {path} has no array {args.x!r} "
                           f"(it holds {', '.join(container.names)})")
        else:
            raise CLIError(f"--x {args.x!r}: not a file (.npy, .npz, .csv, .h5) or 'first-row'")
    elif x is None and container is not None and (args.x_key is not None or "x" in container):
        x = container.get(args.x_key or "x", "--x-key")
    elif args.x_key is not None and x is None:
        raise CLIError(f"--x-key {args.x_key!r} needs a .npz/.h5 data file or --x file")

    if args.weights is not None:
        if container is not None and args.weights in container and not os.path.isfile(args.weights):
            weights = container.get(args.weights, "--weights")
        else:
            weights = _read_any(args.weights, "--weights", None, "--weights", "weights")
    return Inputs(data, x, weights, labels, path)


def _check_shapes(inp: Inputs, shared):
    d = inp.data
    if d.size == 0:
        raise CLIError(f"{inp.source}: the data is empty (shape {d.shape})")
    if shared is None:
        if d.ndim == 1:
            d = d[None]
        if d.ndim != 2:
            raise CLIError(f"{inp.source}: data of shape {d.shape}: expected (N, m), one dataset per row "
                           "(3-D data (G, K, m) needs --shared)")
    elif d.ndim not in (2, 3):
        raise CLIError(f"{inp.source}: data of shape {d.shape}: with --shared expected (K, m) for one "
                       "group or (G, K, m) for G groups")
    inp.data = d
    m = d.shape[-1]
    if inp.x is None:
        print(f"{PROG}: no x given: using x = 0, 1, ..., {m - 1}", file=sys.stderr)
        inp.x = np.arange(m, dtype=float)
    for what, a in (("--x", inp.x), ("--weights", inp.weights)):
        if a is None:
            continue
        a = np.asarray(a)
        if a.ndim == 2 and a.shape[0] == 1 and d.shape[-2:] != a.shape:
            a = a[0]
        ok = a.shape == (m,) or a.shape == d.shape or (d.ndim == 3 and a.shape == d.shape[1:]) or (
            what == "--weights" and a.ndim == 0)
        if not ok:
            want = f"({m},) or {d.shape}" + (f" or {d.shape[1:]}" if d.ndim == 3 else "")
            raise CLIError(f"{what}: shape {a.shape} does not fit data of shape {d.shape} (expected {want})")
        if what == "--x":
            inp.x = a
        else:
            inp.weights = a


# --------------------------------------------------------------------------
# starting values
# --------------------------------------------------------------------------
def _guess(model, data2, x2):
    """Union of the components' guesses for data (n, m)."""
    comps = getattr(model, "components", None) or [model]
    params = None
    for c in comps:
        try:
            p = c.guess(data2, x=x2)
        except NotImplementedError:
            raise CLIError(f"model {c.name} has no guess: give every start with --param NAME=VALUE "
                           "and --no-guess") from None
        params = p if params is None else params | p
    return params


def _robust_guess(model, data2, x2):
    """Guess from every dataset; datasets the guess cannot use (too few
    finite points) get the median start of the others."""
    try:
        return _guess(model, data2, x2)
    except ValueError:
        pass
    finite = np.isfinite(data2) & np.isfinite(np.broadcast_to(x2, data2.shape))
    need = max(3, len(model.param_names) + 1)
    ok = finite.sum(axis=1) >= need
    if not ok.any():
        raise CLIError(f"guess for model {model.name}: no dataset has {need} finite points")
    try:
        sub = _guess(model, data2[ok], x2 if x2.ndim == 1 else x2[ok])
    except ValueError as err:
        raise CLIError(f"guess for model {model.name}: {err}") from None
    n = data2.shape[0]
    for p in sub.values():
        for field in ("value", "min", "max"):
            v = getattr(p, field)
            if isinstance(v, np.ndarray) and v.shape == (int(ok.sum()),):
                full = np.full(n, np.nanmedian(v) if np.isfinite(v).any() else np.nan)
                full[ok] = v
                setattr(p, field, full)
    return sub


def starting_params(model, inp: Inputs, shared, param_specs, no_guess):
    """Parameters: the guess (per dataset; the group median for shared
    ones) or the model's defaults, then the ``--param`` fields."""
    d = inp.data
    lead = d.shape[:-1]  # (N,), (K,) or (G, K)
    names = model._all_names()
    for name, _ in param_specs:
        if name not in names:
            raise CLIError(f"--param {name}: model {model.name} has no parameter {name!r}; "
                           f"it has {', '.join(names)}")
    if no_guess:
        params = model.make_params()
    else:
        m = d.shape[-1]
        n = int(np.prod(lead))
        x = np.asarray(inp.x, dtype=float)
        x2 = x if x.ndim == 1 else np.broadcast_to(x, d.shape).reshape(n, m)
        params = _robust_guess(model, d.reshape(n, m).astype(float), x2)
        for p in params.values():
            for field in ("value", "min", "max"):
                v = getattr(p, field)
                if isinstance(v, np.ndarray) and v.size == n:
                    v = v.reshape(lead)
                    if p.name in (shared or ()):
                        v = {"value": np.nanmedian, "min": np.min, "max": np.max}[field](v, axis=-1)
                    setattr(p, field, v)
    user = {}
    for name, fields in param_specs:
        user.setdefault(name, {}).update(fields)
    for name, fields in user.items():
        p = params[name]
        if p.expr is not None and "expr" not in fields and set(fields) & {"value", "min", "max", "vary"}:
            raise CLIError(f"--param {name}: {name} is tied (expr {p.expr!r}); set its expr or the "
                           "parameters it depends on")
        try:
            if "expr" in fields:
                p.expr = fields["expr"] or None
            for key in ("min", "max", "vary"):
                if key in fields:
                    setattr(p, key, fields[key])
            if "value" in fields:
                p.value = fields["value"]
        except Exception as err:  # ExprError, ValueError
            raise CLIError(f"--param {name}: {err}") from None
    if shared is not None:
        # derived parameters of the built-in models (fwhm, height: ties to
        # per-dataset or shared ones) are left out of group fits unless named
        # with --param: GroupFitResult reports the model's own parameters
        from .params import Parameters

        params = Parameters({n: p for n, p in params.items()
                             if n in model.param_names or n in user})
    for name, p in params.items():
        if p.expr is not None or p.value is None:
            if p.value is None and p.expr is None:
                raise CLIError(f"parameter {name!r} has no starting value; give one with --param {name}=VALUE")
            continue
        if "value" in user.get(name, {}):
            continue  # the user's start is checked by the fit
        v = np.asarray(p.value, dtype=float)
        if not np.all(np.isfinite(v)):
            fill = np.nanmedian(v) if np.isfinite(v).any() else 1.0
            v = np.where(np.isfinite(v), v, fill)
        lo, hi = np.asarray(p.min, dtype=float), np.asarray(p.max, dtype=float)
        if np.all(lo < hi):
            v = np.clip(v, lo, hi)
        p.value = v
    return params


# --------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------
def _columns_without_pandas(res) -> dict:
    """The columns of ``res.to_dataframe()`` (and its ``fit`` index), built
    without pandas."""
    from ._group_result import GroupFitResult
    from .solver import RESULTS

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
            raise CLIError("--out .parquet needs pandas and pyarrow (pip install pandas pyarrow); "
                           "or write .csv, .npz or .json")
        if importlib.util.find_spec("pyarrow") is None and importlib.util.find_spec("fastparquet") is None:
            raise CLIError("--out .parquet needs pyarrow or fastparquet (pip install pyarrow); "
                           "or write .csv, .npz or .json")


def write_results(res, path, labels=None) -> str:
    """Write ``res`` to ``path`` by its suffix (see the module docs); returns
    a one-line description."""
    from ._group_result import GroupFitResult

    ext = _suffix(path)
    if ext in (".npz", ".json") and not isinstance(res, GroupFitResult):
        res.save(path)
        return f"result of {len(res) if res.batched else 1} fit(s) (batchfit.load_result reads it)"
    cols = result_table(res, labels)
    nrows = len(next(iter(cols.values())))
    if ext == ".csv":
        _write_csv(cols, path)
    elif ext == ".parquet":
        import pandas as pd

        pd.DataFrame(cols).to_parquet(path)
    elif ext == ".npz":
        with open(path, "wb") as fh:
            np.savez_compressed(fh, **{k: (np.asarray(v).astype(str) if np.asarray(v).dtype == object
                                           else np.asarray(v)) for k, v in cols.items()})
    else:
        table = {k: np.asarray(v).tolist() for k, v in cols.items()}
        with open(path, "w", encoding="utf-8") as fh:
            json.dump({"format": "batchfit.table", "columns": table}, fh)
    return f"{nrows} rows"


# --------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------
def _fit(args):
    model = build_model(args.model)
    shared = None
    if args.shared is not None:
        shared = [s.strip() for s in args.shared.split(",") if s.strip()]
        if not shared:
            raise CLIError("--shared: give parameter names separated by commas")
        bad = [s for s in shared if s not in model.param_names]
        if bad:
            raise CLIError(f"--shared: model {model.name} has no parameter(s) {bad}; "
                           f"it has {', '.join(model.param_names)}")
        if args.chunk_size is not None or args.checkpoint is not None:
            raise CLIError("--chunk-size and --checkpoint do not apply to --shared fits")
    if args.chunk_size is not None and args.chunk_size < 1:
        raise CLIError(f"--chunk-size must be at least 1, got {args.chunk_size}")
    specs = [parse_param(t) for t in args.param]
    if args.out is not None:
        _check_out(args.out)
    inp = read_inputs(args)
    _check_shapes(inp, shared)
    params = starting_params(model, inp, shared, specs, args.no_guess)

    kw = dict(x=inp.x, weights=inp.weights, method=args.method, nan_policy=args.nan_policy,
              dtype=args.dtype, max_nfev=args.max_nfev)
    n = int(np.prod(inp.data.shape[:-1]))
    if shared is not None:
        kw.update(shared=shared, group_solver=args.group_solver)
    else:
        progress, chunk = args.progress, args.chunk_size
        if progress is None:
            progress = n >= 10_000 and sys.stderr.isatty()
        if progress and chunk is None:
            chunk = max(1_000, -(-n // 20))  # about 20 steps of the bar
        kw.update(chunk_size=chunk, checkpoint=args.checkpoint, progress=bool(progress))
    t0 = time.perf_counter()
    try:
        res = model.fit(inp.data, params, **kw)
    except (ValueError, TypeError) as err:
        raise CLIError(f"fit of model {model.name} to {inp.source}: {err}") from None
    elapsed = time.perf_counter() - t0
    if not args.quiet:
        from .report import fit_report

        print(fit_report(res))
        what = (f"{len(res)} group(s) of {res.ndatasets} datasets" if shared is not None
                else f"{n} dataset(s)")
        print(f"\nfitted {what} of {inp.data.shape[-1]} points, model {model.name}, "
              f"in {elapsed:.2f} s; status: {res.summary_counts()}")
    if args.out is not None:
        desc = write_results(res, args.out, inp.labels)
        if not args.quiet:
            print(f"results: {args.out} ({desc})")
    return res


def run(args) -> int:
    """Run ``batchfit fit`` with parsed arguments; 0 on success, 2 on a user error."""
    try:
        _fit(args)
    except CLIError as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    return 0


def main(argv=None) -> int:
    """``batchfit fit`` with the arguments after ``fit`` (default: ``sys.argv``).

    Example:
      >>> import contextlib, io, os, tempfile, numpy as np
      >>> x = np.linspace(-3, 3, 41)
      >>> data = np.stack([a * np.exp(-x**2 / 2) + 0.01 * np.cos(7 * x) for a in (1.0, 2.0)])
      >>> with tempfile.TemporaryDirectory() as d:
      ...     np.save(os.path.join(d, "y.npy"), data); np.save(os.path.join(d, "x.npy"), x)
      ...     with contextlib.redirect_stdout(io.StringIO()):
      ...         code = main([os.path.join(d, "y.npy"), "--model", "gaussian", "--x",
      ...                      os.path.join(d, "x.npy"), "--out", os.path.join(d, "r.csv")])
      ...     with open(os.path.join(d, "r.csv")) as fh:
      ...         rows = fh.read().splitlines()
      >>> code, rows[0].split(",")[:4], len(rows)
      (0, ['fit', 'amplitude', 'amplitude_stderr', 'center'], 3)
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="batchfit")
    add_parser(parser.add_subparsers(dest="cmd", required=True))
    return run(parser.parse_args(["fit"] + argv))
