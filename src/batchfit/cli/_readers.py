"""Reading the data, x and weights files of ``batchfit fit`` (.npy, .npz, .csv, .h5, .zarr).

A .npy file is memory-mapped, not read: with the automatic chunk size a file
larger than the memory budget streams through the fit chunk by chunk. HDF5
datasets and Zarr arrays stream the same way (``_stream``).
"""

from __future__ import annotations

import csv
import os
import sys

import numpy as np

from . import _stream
from ._args import DATA_SUFFIXES, PROG, CLIError


def _suffix(path):
    return os.path.splitext(os.fspath(path))[1].lower()


def _looks_like_file(text):
    return _suffix(text) in DATA_SUFFIXES + (".txt",)


def _check_file(path, role):
    if not os.path.exists(path):
        raise CLIError(f"{role} file {path!r} not found")
    if _suffix(path) == ".zarr":
        return
    if not os.path.isfile(path):
        raise CLIError(f"{role} {path!r} is not a file")
    if _suffix(path) not in DATA_SUFFIXES:
        raise CLIError(f"{role} file {path!r}: unsupported type {_suffix(path) or '(none)'!r}; "
                       f"expected one of {', '.join(DATA_SUFFIXES)}")


def _numeric(a, where):
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise CLIError(f"{where}: expected numbers, got an array of dtype {a.dtype}")
    return a.astype(np.float32 if a.dtype == np.float32 else np.float64, copy=False)


def _read_npy(path):
    """The array of a .npy file, memory-mapped (read-only) where it can be: a
    float file is not read whole into memory, the fit reads it chunk by chunk."""
    try:
        try:
            a = np.load(path, mmap_mode="r", allow_pickle=False)
        except ValueError:  # object arrays cannot be mapped: let the plain load refuse them
            a = np.load(path, allow_pickle=False)
        return _numeric(a, path)
    except ValueError as err:
        raise CLIError(f"{path}: cannot read ({err}); object arrays are refused (no unpickling)") from None


class _Container:
    """Named arrays of a .npz or .h5 file or a .zarr store."""

    def __init__(self, path):
        self.path = path
        if _suffix(path) == ".zarr":
            self.names = _stream.zarr_names(path)
        elif _suffix(path) == ".npz":
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
        if _suffix(self.path) == ".zarr":
            return _stream.zarr_array(self.path, key)
        h5py = _h5py()
        with h5py.File(self.path, "r") as f:
            return _stream.h5_array(f, key, self.path)

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
        raise CLIError("reading .h5 files needs h5py (pip install batchfit[hdf5]); or convert to .npz") from None
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
    if ext in (".npz", ".h5", ".hdf5", ".zarr"):
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
