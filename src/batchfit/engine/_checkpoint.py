"""The checkpoint directory of a chunked fit: fingerprint, chunk files, manifest.

A checkpoint is a directory::

    manifest.json        format, fingerprint of the inputs, chunk_size, number
                         of fits and chunks, finished chunk indices and the
                         SHA-256 of each finished chunk's result arrays
    chunk_000000.npz     the result arrays of chunk 0 (plain arrays only), with
                         the fingerprint and fit range of the chunk
    chunk_000001.npz     ...

Each chunk file, then the manifest, is written to a temporary name in the
folder and renamed into place, so an interrupted run (or a full disk) never
leaves a half-written file that a rerun would trust. A rerun with the same
inputs loads the finished chunks (``np.load(..., allow_pickle=False)``:
nothing is ever unpickled), checks each against its SHA-256 in the manifest
(an edited chunk is a :class:`CheckpointError` naming the file, as any
damaged chunk is) and fits only the others. Without a manifest (deleted),
every chunk file whose own fingerprint and fit range are this fit's is
reused and the manifest is written anew.

The fingerprint is a SHA-256 over everything that determines the results:
the per-fit and shared arrays (data, weights, independent variables,
starts, bounds), the parameter structure and ties, the solver options, the
dtype and the traced computation itself (the jaxpr of the residual
function, with its constants), so a changed model is noticed too.
"""

from __future__ import annotations

import hashlib
import io
import json
import os

import jax
import numpy as np

from ..results._base import ARRAYS
from ..results._export import _atomic

FORMAT = "batchfit-checkpoint"
VERSION = 1
MANIFEST = "manifest.json"


class CheckpointError(ValueError):
    """A checkpoint directory that does not belong to this fit, or is damaged.

    Example:
      >>> import tempfile, numpy as np
      >>> from batchfit import Parameters, minimize
      >>> p = Parameters(); p.add("a", np.array([1.0, 2.0, 3.0]))
      >>> folder = tempfile.mkdtemp()
      >>> def resid(p, y):
      ...     return p["a"] - y
      >>> res = minimize(resid, p, args=(np.array([1.0, 2.0]),), chunk_size=2, checkpoint=folder,
      ...                progress=False)
      >>> res.params["a"].value  # three fits, in chunks of two, saved in folder
      array([1.5, 1.5, 1.5])
      >>> try:  # other data, same folder
      ...     minimize(resid, p, args=(np.array([1.0, 3.0]),), chunk_size=2, checkpoint=folder,
      ...              progress=False)
      ... except ValueError as err:  # a CheckpointError
      ...     print(type(err).__name__, str(err)[-47:])
      CheckpointError Use another path, or delete it to start afresh.
    """


def check_checkpoint(checkpoint):
    if checkpoint is None:
        return None
    if not isinstance(checkpoint, (str, os.PathLike)):
        raise TypeError(f"checkpoint must be a path (str or os.PathLike) or None, got {type(checkpoint).__name__}")
    path = os.fspath(checkpoint)
    if path == "":
        raise ValueError("checkpoint must be a non-empty path")
    if os.path.exists(path) and not os.path.isdir(path):
        raise CheckpointError(f"checkpoint {path!r} exists and is not a directory")
    return path


# --------------------------------------------------------------------------
# fingerprint
# --------------------------------------------------------------------------
def _update_array(h, name, a):
    a = np.asarray(a)
    if not a.flags.c_contiguous:
        a = np.ascontiguousarray(a)
    h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
    if a.size:
        h.update(memoryview(a.reshape(-1)).cast("B"))  # the bytes in place: no copy of large data


def fingerprint(args: dict) -> str:
    """SHA-256 (hex) of the inputs of a :func:`_run.run` call that decide its result."""
    h = hashlib.sha256()
    h.update(f"{FORMAT}/{VERSION}|".encode())
    for key in ("label", "method_label", "scale_covar", "B", "batched", "m_expected"):
        h.update(f"{key}={args.get(key)!r}|".encode())
    h.update(f"dtype={np.dtype(args['dtype']).str}|spec={args['spec']!r}|cfg={args['cfg']!r}|".encode())
    for name, a in args["packed"]._asdict().items():
        _update_array(h, f"packed.{name}", a)
    for tree_name in ("per_fit", "shared"):
        leaves = jax.tree_util.tree_flatten_with_path(args[tree_name])[0]
        for path, leaf in leaves:
            _update_array(h, f"{tree_name}{jax.tree_util.keystr(path)}", leaf)
    if args["ndata"] is not None:
        _update_array(h, "ndata", args["ndata"])
    # the computation itself: the residual of one fit, as a jaxpr
    one = jax.tree_util.tree_map(lambda a: a[:1][0], args["per_fit"])
    theta = np.asarray(args["packed"].theta0[0], dtype=args["dtype"])
    for key in ("resid", "resid_ext"):
        closed = jax.make_jaxpr(args[key])(theta, one, args["shared"])
        h.update(f"{key}|{closed.jaxpr}|".encode())
        for i, c in enumerate(closed.consts):
            _update_array(h, f"{key}.const{i}", c)
    return h.hexdigest()


def content_hash(arrays: dict) -> str:
    """SHA-256 (hex) of a chunk's result arrays (names, dtypes, shapes, bytes)."""
    h = hashlib.sha256()
    for k in ARRAYS:
        _update_array(h, k, arrays[k])
    return h.hexdigest()


# --------------------------------------------------------------------------
# checkpoint directory
# --------------------------------------------------------------------------
def _write(f, data: bytes):
    """Write ``data`` to the open file ``f`` (one place, for fault-injection tests)."""
    f.write(data)


def _atomic_write(path, data: bytes):
    """``path`` holds ``data`` afterwards, or is unchanged (results/_export's
    atomic write: a temporary file in the same folder, synced, renamed)."""
    _atomic(path, lambda f: _write(f, data), text=False)


class _Checkpoint:
    def __init__(self, path, fp, n_fits, chunk_size, bounds):
        self.path, self.fp, self.bounds = path, fp, bounds
        self.head = {"format": FORMAT, "version": VERSION, "fingerprint": fp, "n_fits": int(n_fits),
                     "chunk_size": int(chunk_size), "n_chunks": len(bounds)}
        self.done, self.sha = set(), {}
        self._writable()
        mpath = os.path.join(path, MANIFEST)
        if not os.path.exists(mpath):
            self._adopt_chunks()
            return
        try:
            with open(mpath, encoding="utf-8") as f:
                old = json.load(f)
            if not isinstance(old, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as err:
            raise CheckpointError(f"checkpoint {path!r}: unreadable {MANIFEST} ({err})") from None
        if old.get("format") != FORMAT or old.get("version") != VERSION:
            raise CheckpointError(
                f"checkpoint {path!r} is not a batchfit checkpoint of version {VERSION} "
                f"(format {old.get('format')!r}, version {old.get('version')!r})")
        if old.get("fingerprint") != fp:
            raise CheckpointError(
                f"checkpoint {path!r} holds results of a different fit: its inputs' fingerprint "
                f"{str(old.get('fingerprint'))[:16]}... differs from this fit's {fp[:16]}... (data, "
                "weights, independent variables, parameters, options, dtype and the model all count). "
                "Use another path, or delete it to start afresh.")
        if old.get("chunk_size") != chunk_size:
            raise CheckpointError(
                f"checkpoint {path!r} was written with chunk_size={old.get('chunk_size')}, "
                f"this fit uses chunk_size={chunk_size}; pass the same chunk_size to resume")
        done = old.get("done", [])
        if not isinstance(done, list) or not all(isinstance(i, int) and 0 <= i < len(bounds) for i in done):
            raise CheckpointError(f"checkpoint {path!r}: {MANIFEST} lists invalid chunk indices {done!r}")
        sha = old.get("sha256", {})
        if not isinstance(sha, dict):
            raise CheckpointError(f"checkpoint {path!r}: {MANIFEST} has an invalid 'sha256' entry")
        self.done = {i for i in done if os.path.exists(self.file(i))}
        self.sha = {i: sha.get(str(i)) for i in self.done}

    def _writable(self):
        """Create the folder; fail now, before any fit, unless files can be written in it."""
        try:
            os.makedirs(self.path, exist_ok=True)
        except OSError as err:
            raise CheckpointError(f"checkpoint folder {self.path!r} cannot be created "
                                  f"({err.strerror or err})") from None
        probe = os.path.join(self.path, f".write_test.tmp{os.getpid()}")
        try:
            if not os.access(self.path, os.W_OK | os.X_OK):
                raise PermissionError("no write permission")
            with open(probe, "wb"):
                pass
        except OSError as err:
            raise CheckpointError(f"checkpoint folder {self.path!r} is not writable "
                                  f"({err.strerror or err}); use another path") from None
        finally:
            if os.path.exists(probe):
                os.remove(probe)

    def _adopt_chunks(self):
        """No manifest (deleted, or a run killed before its first): reuse every chunk
        file that carries this fit's fingerprint and range, and write the manifest."""
        for i in range(len(self.bounds)):
            if os.path.exists(self.file(i)):
                self._meta_ok(i, self._read(i).pop("_meta", None))
                self.done.add(i)
                self.sha[i] = None  # checked against its own arrays when loaded
        if self.done:
            self._write_manifest()

    def file(self, i):
        return os.path.join(self.path, f"chunk_{i:06d}.npz")

    def _read(self, i) -> dict:
        fname = self.file(i)
        try:
            with np.load(fname, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except Exception as err:  # zip, format or pickle refusal: never trust it
            raise CheckpointError(f"checkpoint chunk {fname!r} is unreadable ({type(err).__name__}: {err}); "
                                  "delete it to refit that chunk") from None

    def _meta_ok(self, i, meta):
        start, stop = self.bounds[i]
        if (meta is None or meta.shape != (3,) or str(meta[0]) != self.fp
                or (int(meta[1]), int(meta[2])) != (start, stop)):
            raise CheckpointError(f"checkpoint chunk {self.file(i)!r} does not belong to this fit "
                                  "(fingerprint or fit range differs); delete it to refit that chunk")

    def load(self, i) -> dict:
        fname = self.file(i)
        start, stop = self.bounds[i]
        arrays = self._read(i)
        self._meta_ok(i, arrays.pop("_meta", None))
        missing = sorted(set(ARRAYS) - set(arrays))
        bad = sorted(k for k in ARRAYS if k in arrays and (arrays[k].ndim == 0 or arrays[k].shape[0] != stop - start))
        if missing or bad:
            raise CheckpointError(f"checkpoint chunk {fname!r} lacks arrays {missing} or has wrong lengths {bad}")
        out = {k: arrays[k] for k in ARRAYS}
        digest = content_hash(out)
        if self.sha.get(i) is None:  # adopted without a manifest: record it now
            self.sha[i] = digest
            self._write_manifest()
        elif digest != self.sha[i]:
            raise CheckpointError(f"checkpoint chunk {fname!r} was modified after it was written (its "
                                  f"SHA-256 differs from the one in {MANIFEST}); delete it to refit that chunk")
        return out

    def save(self, i, arrays: dict):
        start, stop = self.bounds[i]
        meta = np.array([self.fp, str(start), str(stop)])
        buf = io.BytesIO()
        np.savez(buf, _meta=meta, **arrays)
        self._put(self.file(i), buf.getvalue())
        self.done.add(i)
        self.sha[i] = content_hash(arrays)
        self._write_manifest()

    def _write_manifest(self):
        sha = {str(i): self.sha[i] for i in sorted(self.done) if self.sha.get(i) is not None}
        text = json.dumps({**self.head, "done": sorted(self.done), "sha256": sha}, indent=1).encode()
        self._put(os.path.join(self.path, MANIFEST), text)

    def _put(self, fname, data):
        try:
            _atomic_write(fname, data)
        except OSError as err:
            raise OSError(err.errno, f"checkpoint folder {self.path!r}: writing {os.path.basename(fname)} "
                                     f"failed ({err.strerror or err}); the chunks finished before stay "
                                     "valid: make room (or fix the folder) and rerun to resume") from err
