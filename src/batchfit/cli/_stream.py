"""HDF5 and Zarr inputs as read-only memory maps, so they stream through the
fit chunk by chunk as a .npy file does.

- A contiguous, uncompressed HDF5 dataset is mapped in place (no copy).
- A chunked or compressed HDF5 dataset, and any Zarr array, is copied block
  by block (at most :data:`BLOCK_BYTES` in memory at a time) into a
  temporary .npy file, which is then mapped. This needs free disk space the
  size of the array in ``$TMPDIR``; the file is removed when the process
  exits.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import numpy as np

from ._args import CLIError

BLOCK_BYTES = 64 << 20
_SPOOL: list[str] = []


def _float_dtype(dtype, where):
    if dtype.kind not in "biuf":
        raise CLIError(f"{where}: expected numbers, got an array of dtype {dtype}")
    return np.dtype(np.float32 if dtype == np.float32 else np.float64)


def _spool_dir():
    if not _SPOOL:
        _SPOOL.append(tempfile.mkdtemp(prefix="batchfit-spool-"))
        atexit.register(shutil.rmtree, _SPOOL[0], True)
    return _SPOOL[0]


def spool(src, where):
    """Copy array-like ``src`` (``.shape``, ``.dtype``, slicing along axis
    0) into a temporary .npy file block by block; return it memory-mapped
    read-only."""
    shape = tuple(src.shape)
    dtype = _float_dtype(np.dtype(src.dtype), where)
    if len(shape) == 0 or shape[0] == 0 or np.prod(shape[1:], dtype=np.int64) == 0:
        return np.asarray(src[()], dtype=dtype)
    path = os.path.join(_spool_dir(), f"{len(os.listdir(_spool_dir()))}.npy")
    try:
        out = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
        row = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
        step = max(1, BLOCK_BYTES // max(row, 1))
        for i in range(0, shape[0], step):
            out[i:i + step] = np.asarray(src[i:i + step], dtype=dtype)
        out.flush()
        del out
    except OSError as err:
        raise CLIError(f"{where}: cannot copy it to a temporary file in {_spool_dir()} to stream it "
                       f"({err}); free disk space, set TMPDIR, or convert it to .npy") from None
    return np.load(path, mmap_mode="r")


def h5_array(f, key, path):
    """Dataset ``key`` of the open h5py File ``f``, memory-mapped."""
    dset = f[key]
    where = f"{path}[{key!r}]"
    dtype = np.dtype(dset.dtype)
    _float_dtype(dtype, where)
    offset = dset.id.get_offset() if dset.chunks is None and dset.compression is None else None
    if offset is not None and dtype.kind == "f" and dtype.isnative and dset.size > 0:
        a = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=dset.shape)
        return a if dtype in (np.float32, np.float64) else a.astype(np.float64)
    if dset.ndim == 0:
        return np.asarray(dset[()], dtype=_float_dtype(dtype, where))
    return spool(dset, where)


def _zarr():
    try:
        import zarr
    except ImportError:
        raise CLIError("reading .zarr stores needs zarr (pip install batchfit[zarr]); or convert to .npy") from None
    return zarr


def zarr_names(path):
    """The array names of a Zarr store (a group), or ``[""]`` for a bare array."""
    zarr = _zarr()
    try:
        node = zarr.open(path, mode="r")
    except Exception as err:  # zarr raises its own error types per version
        raise CLIError(f"{path}: not a readable Zarr store ({err})") from None
    if hasattr(node, "shape"):
        return [""]
    names = []

    def walk(group, prefix):
        for name, child in group.members():
            full = f"{prefix}{name}"
            if hasattr(child, "shape"):
                names.append(full)
            else:
                walk(child, full + "/")

    walk(node, "")
    return sorted(names)


def zarr_array(path, key):
    """Array ``key`` of the Zarr store at ``path`` ("" for a bare array), streamed."""
    zarr = _zarr()
    node = zarr.open(path, mode="r")
    arr = node if key == "" else node[key]
    return spool(arr, f"{path}[{key!r}]" if key else path)
