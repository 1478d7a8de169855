"""Fit a large batch in chunks, keep finished chunks on disk, show progress.

``run(...)`` takes the arguments of :func:`batchfit.engine._run.run` plus
``chunk_size``, ``checkpoint`` and ``progress``. It slices the per-fit
arrays into chunks of ``chunk_size`` datasets, fits each chunk with
``_run.run`` and concatenates the chunks' results into one
:class:`~batchfit.FitResult`, as if the batch had been fitted at once.

The checkpoint directory (chunk files, manifest, fingerprint, hashes) is
``_checkpoint``'s.
"""

from __future__ import annotations

import inspect
import operator

import jax
import numpy as np

from ..results._base import ARRAYS
from ..results._result import FitResult
from . import _memory, _run
from ._checkpoint import CheckpointError, _Checkpoint, check_checkpoint, fingerprint
from ._refit import Refit, attach
from ._residuals import lazy_residual

# not kept by a chunked run: computed from the fitted values when read (_residuals)
LAZY = ("residual",)

__all__ = ["CheckpointError", "check_checkpoint", "check_chunk_size", "check_progress", "fingerprint", "run"]


# --------------------------------------------------------------------------
# argument checks (host only, before anything compiles)
# --------------------------------------------------------------------------
def positive_int(value, what, kind="a positive integer"):
    """``value`` as an int >= 1, or a TypeError/ValueError naming ``what``."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be {kind}, got {value!r}")
    try:
        n = operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be {kind}, got {value!r}") from None
    if n < 1:
        raise ValueError(f"{what} must be >= 1, got {n}")
    return n


def check_chunk_size(chunk_size):
    if chunk_size is None:
        return None
    return positive_int(chunk_size, "chunk_size", "a positive integer or None")


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
    auto = chunk_size is None
    if auto:
        chunk_size = _auto_chunk(a)
    if chunk_size is None and path is None and (progress is None or progress is False):
        return _run.run(*args, **kwargs)
    B = int(a["B"])
    if auto and chunk_size is not None:  # a power of two: the same shapes whatever memory is free
        chunk_size = 1 << (int(chunk_size).bit_length() - 1)
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
    out = None  # the whole batch's arrays, filled chunk by chunk (no concatenation copy)
    keep = [k for k in ARRAYS if k not in LAZY]
    tail = None
    done = 0
    try:
        for i, (start, stop) in enumerate(bounds):
            if ckpt is not None and i in ckpt.done:
                part = ckpt.load(i)
            else:
                # every chunk is padded to the first one's size: one compiled shape
                part = _run.run(**_slice(a, start, stop), pad_to=cs)._a
                if ckpt is not None:
                    ckpt.save(i, part)
            if out is None:
                out = {k: np.empty((B,) + part[k].shape[1:], part[k].dtype) for k in keep}
                tail = {k: (part[k].shape[1:], part[k].dtype) for k in LAZY}
            for k in keep:
                out[k][start:stop] = part[k]
            del part
            done += stop - start
            if bar is not None:
                bar.update(stop - start)
            if callable(progress):
                progress(done, B)
    finally:
        if bar is not None:
            bar.close()
    refit = Refit(a["resid"], a["resid_ext"], a["spec"], a["per_fit"], a["shared"], a["cfg"],
                  a["dtype"], a["scale_covar"])
    out["residual"] = lazy_residual(refit, out["values_all"], *tail["residual"])
    return attach(FitResult(spec=a["spec"], template=a["template"], method=a["method_label"],
                            batched=a["batched"], extras=a.get("extras"), **out), refit)
