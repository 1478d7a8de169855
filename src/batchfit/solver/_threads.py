"""Several CPU threads on one device: XLA runs each program on one thread,
so a batch split into parts runs on as many cores as there are parts."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from .._compat import x64_context


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
