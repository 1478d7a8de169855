"""How many fits fit in memory at once: the automatic chunk size.

A batch is solved in one piece when its working set fits comfortably in
the memory of the devices it runs on; otherwise :func:`auto_chunk_size`
gives the largest chunk that does, and the fit streams through chunks
(``_chunked.run``) with a progress bar. Estimates are deliberately
generous: the working set of one LM step per fit is the residual, the
transposed Jacobian and their products (about ``(n + 3) m`` numbers), the
fit's own data, and the solver state.
"""

from __future__ import annotations

import os

import jax
import numpy as np

BUDGET_FRACTION = 0.4  # of a device's memory that one batch may plan to use
SAFETY = 3.0  # XLA temporaries, padding to a bucket, the statistics pass


def device_memory_bytes(devices) -> int | None:
    """Memory the batch may use on ``devices`` (summed), or None if unknown.

    Accelerators report their allocator's limit; a CPU device shares the
    host's physical memory, counted once.
    """
    total = 0
    host = False
    for d in devices:
        try:
            stats = d.memory_stats()
        except Exception:  # not every backend implements it
            stats = None
        if stats and stats.get("bytes_limit"):
            total += int(stats["bytes_limit"])
        elif d.platform == "cpu" and not host:
            host = True
            try:
                total += os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
            except (ValueError, OSError, AttributeError):
                return None
    return total or None


def bytes_per_fit(per_fit, B: int, m: int, n: int, itemsize: int) -> int:
    """Estimated peak bytes one fit needs while a batch is solved."""
    data = sum(int(np.asarray(a).nbytes) for a in jax.tree_util.tree_leaves(per_fit)) // max(B, 1)
    work = itemsize * ((n + 3) * m + n * n + 6 * n + 8)
    return int(SAFETY * (work + data))


def auto_chunk_size(B: int, per_fit, m: int, n: int, itemsize: int, devices,
                    budget: int | None = None) -> int | None:
    """Largest chunk of fits whose working set fits the budget, or None when
    the whole batch does (or the memory is unknown)."""
    need = bytes_per_fit(per_fit, B, m, n, itemsize)
    if budget is None:
        mem = device_memory_bytes(devices)
        if mem is None:
            return None
        budget = int(BUDGET_FRACTION * mem)
    if B * need <= budget:
        return None
    return max(1, budget // need)
