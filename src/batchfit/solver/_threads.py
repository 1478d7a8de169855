"""Several CPU threads on one device: XLA runs each program on one thread,
so a batch split into parts runs on as many cores as there are parts."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import jax
import numpy as np

from ..problem._compat import x64_context


def on_cpu(x=None) -> bool:
    """Whether the array ``x`` lives on CPU devices (without ``x``, or for a
    tracer: whether the default backend is the CPU)."""
    try:
        return all(d.platform == "cpu" for d in x.devices())
    except AttributeError:
        return jax.default_backend() == "cpu"


def cpu_threads(threads=None) -> int:
    """``threads`` if given, else every core this process may run on."""
    if threads is not None:
        return int(threads)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_parts(fn, k: int, dtype):
    """``[fn(0), ..., fn(k - 1)]``, each in its own thread (in this thread
    when k == 1), under the caller's float64 setting (a per-thread switch in
    JAX). Exceptions propagate."""
    if k == 1:
        return [fn(0)]

    def call(p):
        with x64_context(dtype):
            return fn(p)

    with ThreadPoolExecutor(k) as pool:
        return list(pool.map(call, range(k)))


def even_parts(size: int, k: int) -> int:
    """The largest number of parts <= k that divides ``size`` evenly."""
    k = max(1, min(k, size))
    while size % k:
        k -= 1
    return k


def map_parts(fn, tree, k: int, dtype):
    """``fn(p, part)`` on the k equal parts of the leading axis of ``tree``,
    one thread each, the results (pytrees of arrays) concatenated on the
    host. The parts are cut on the host and put on the device (no slicing
    program compiled); with k == 1, ``fn(0, tree)`` runs here on ``tree``
    as it is."""
    if k == 1:
        return jax.tree_util.tree_map(np.asarray, fn(0, tree))
    host = jax.tree_util.tree_map(np.asarray, tree)
    size = jax.tree_util.tree_leaves(host)[0].shape[0] // k

    def call(p):
        part = jax.device_put(jax.tree_util.tree_map(lambda a: a[p * size:(p + 1) * size], host))
        return jax.tree_util.tree_map(np.asarray, fn(p, part))

    outs = run_parts(call, k, dtype)
    return jax.tree_util.tree_map(lambda *a: np.concatenate(a), *outs)
