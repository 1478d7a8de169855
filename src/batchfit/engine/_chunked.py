"""Fit a large batch in chunks, keep finished chunks on disk, show progress.

``run(...)`` takes the arguments of :func:`batchfit.engine._run.run` plus
``chunk_size``, ``checkpoint`` and ``progress``. It slices the per-fit
arrays into chunks of ``chunk_size`` datasets, fits each chunk with
``_run.run`` and concatenates the chunks' results into one
:class:`~batchfit.FitResult`, as if the batch had been fitted at once.

A checkpoint is a directory::

    manifest.json        format, fingerprint of the inputs, chunk_size,
                         number of fits and chunks, finished chunk indices
    chunk_000000.npz     the result arrays of chunk 0 (plain arrays only)
    chunk_000001.npz     ...

Each chunk file, then the manifest, is written to a temporary name and
renamed into place, so an interrupted run never leaves a half-written file
that a rerun would trust. A rerun with the same inputs loads the finished
chunks (``np.load(..., allow_pickle=False)``: nothing is ever unpickled)
and fits only the others. The fingerprint is a SHA-256 over everything that
determines the results: the per-fit and shared arrays (data, weights,
independent variables, starts, bounds), the parameter structure and ties,
the solver options, the dtype and the traced computation itself (the jaxpr
of the residual function, with its constants), so a changed model is
noticed too.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import operator
import os

import jax
import numpy as np

from ..results._base import ARRAYS
from ..results._result import FitResult
from . import _memory, _run

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


# --------------------------------------------------------------------------
# argument checks (host only, before anything compiles)
# --------------------------------------------------------------------------
def check_chunk_size(chunk_size):
    if chunk_size is None:
        return None
    if isinstance(chunk_size, (bool, np.bool_)):
        raise TypeError(f"chunk_size must be a positive integer or None, got {chunk_size!r}")
    try:
        n = operator.index(chunk_size)
    except TypeError:
        raise TypeError(f"chunk_size must be a positive integer or None, got {chunk_size!r}") from None
    if n < 1:
        raise ValueError(f"chunk_size must be >= 1, got {n}")
    return n


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


def check_progress(progress):
    """``None`` (auto), ``True``, ``False`` or a callable ``progress(done, total)``."""
    if progress is None or isinstance(progress, (bool, np.bool_)):
        if progress is True or progress is np.True_:
            _tqdm()  # fail now, not after the first chunk
        return None if progress is None else bool(progress)
    if callable(progress):
        return progress
    raise TypeError(f"progress must be None, True, False or a callable(done, total), got {progress!r}")


def _tqdm():
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError("progress=True needs tqdm (pip install tqdm)") from None
    return tqdm


# --------------------------------------------------------------------------
# fingerprint
# --------------------------------------------------------------------------
def _update_array(h, name, a):
    a = np.ascontiguousarray(np.asarray(a))
    h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
    h.update(a.tobytes())


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


# --------------------------------------------------------------------------
# checkpoint directory
# --------------------------------------------------------------------------
def _atomic_write(path, write):
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


class _Checkpoint:
    def __init__(self, path, fp, n_fits, chunk_size, bounds):
        self.path, self.fp, self.bounds = path, fp, bounds
        self.head = {"format": FORMAT, "version": VERSION, "fingerprint": fp, "n_fits": int(n_fits),
                     "chunk_size": int(chunk_size), "n_chunks": len(bounds)}
        self.done = set()
        os.makedirs(path, exist_ok=True)
        mpath = os.path.join(path, MANIFEST)
        if not os.path.exists(mpath):
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
        self.done = {i for i in done if os.path.exists(self.file(i))}

    def file(self, i):
        return os.path.join(self.path, f"chunk_{i:06d}.npz")

    def load(self, i) -> dict:
        fname = self.file(i)
        start, stop = self.bounds[i]
        try:
            with np.load(fname, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except Exception as err:  # zip, format or pickle refusal: never trust it
            raise CheckpointError(f"checkpoint chunk {fname!r} is unreadable ({type(err).__name__}: {err}); "
                                  "delete it to refit that chunk") from None
        meta = arrays.pop("_meta", None)
        if (meta is None or meta.shape != (3,) or str(meta[0]) != self.fp
                or (int(meta[1]), int(meta[2])) != (start, stop)):
            raise CheckpointError(f"checkpoint chunk {fname!r} does not belong to this fit "
                                  "(fingerprint or fit range differs); delete it to refit that chunk")
        missing = sorted(set(ARRAYS) - set(arrays))
        bad = sorted(k for k in ARRAYS if k in arrays and (arrays[k].ndim == 0 or arrays[k].shape[0] != stop - start))
        if missing or bad:
            raise CheckpointError(f"checkpoint chunk {fname!r} lacks arrays {missing} or has wrong lengths {bad}")
        return {k: arrays[k] for k in ARRAYS}

    def save(self, i, arrays: dict):
        start, stop = self.bounds[i]
        meta = np.array([self.fp, str(start), str(stop)])
        _atomic_write(self.file(i), lambda f: np.savez(f, _meta=meta, **arrays))
        self.done.add(i)
        text = json.dumps({**self.head, "done": sorted(self.done)}, indent=1).encode()
        _atomic_write(os.path.join(self.path, MANIFEST), lambda f: f.write(text))


# --------------------------------------------------------------------------
# chunked run
# --------------------------------------------------------------------------
_RUN_SIGNATURE = inspect.signature(_run.run)


def _slice(args: dict, start: int, stop: int) -> dict:
    out = dict(args)
    out["packed"] = type(args["packed"])(*(a[start:stop] for a in args["packed"]))
    out["per_fit"] = jax.tree_util.tree_map(lambda a: a[start:stop], args["per_fit"])
    if args["ndata"] is not None:
        out["ndata"] = args["ndata"][start:stop]
    out["B"] = stop - start
    out["batched"] = True
    out["points_checked"] = True
    return out


def _auto_chunk(a: dict):
    """The chunk size that keeps a batch within device memory, or None when
    it fits whole (see ``_memory``)."""
    B = int(a["B"])
    if B < 2:
        return None
    m = a.get("m_expected")  # known for Model.fit; minimize's objective is traced for it
    if m is None:
        m = _run.check_residual(a["resid"], np.asarray(a["packed"].theta0, dtype=a["dtype"]),
                                a["per_fit"], a["shared"], None, a["label"])
    from ..solver._shard import resolve_devices

    return _memory.auto_chunk_size(B, a["per_fit"], m, int(a["spec"].nfree),
                                   np.dtype(a["dtype"]).itemsize,
                                   resolve_devices(a["cfg"].devices))


def run(*args, chunk_size=None, checkpoint=None, progress=None, **kwargs) -> FitResult:
    """:func:`batchfit.engine._run.run` in chunks, with a checkpoint and progress.

    Without ``chunk_size``, ``checkpoint`` or an explicit ``progress`` this is
    exactly ``_run.run``. Otherwise the result equals the unchunked fit's
    (each fit's computation does not depend on its neighbours).
    """
    chunk_size = check_chunk_size(chunk_size)
    path = check_checkpoint(checkpoint)
    progress = check_progress(progress)
    a = dict(_RUN_SIGNATURE.bind(*args, **kwargs).arguments)
    if chunk_size is None:
        chunk_size = _auto_chunk(a)
    if chunk_size is None and path is None and (progress is None or progress is False):
        return _run.run(*args, **kwargs)
    B = int(a["B"])
    cs = B if chunk_size is None else min(chunk_size, B)
    bounds = [(s, min(s + cs, B)) for s in range(0, B, cs)]
    if a.get("ndata") is not None:  # the whole batch's check, not each chunk's
        _run.check_enough_points(a["spec"], a["ndata"], a["label"])
    ckpt = _Checkpoint(path, fingerprint(a), B, cs, bounds) if path is not None else None

    bar = None
    if progress is True or (progress is None and len(bounds) > 1):
        try:
            bar = _tqdm()(total=B, unit="fit", desc="batchfit", dynamic_ncols=True)
        except ImportError:
            bar = None  # auto mode: no tqdm, no bar
    parts = [None] * len(bounds)
    done = 0
    try:
        for i, (start, stop) in enumerate(bounds):
            if ckpt is not None and i in ckpt.done:
                parts[i] = ckpt.load(i)
            else:
                res = _run.run(**_slice(a, start, stop))
                parts[i] = res._a
                if ckpt is not None:
                    ckpt.save(i, parts[i])
            done += stop - start
            if bar is not None:
                bar.update(stop - start)
            if callable(progress):
                progress(done, B)
    finally:
        if bar is not None:
            bar.close()
    arrays = {k: np.concatenate([p[k] for p in parts]) for k in ARRAYS}
    return FitResult(spec=a["spec"], template=a["template"], method=a["method_label"],
                     batched=a["batched"], extras=a.get("extras"), **arrays)
