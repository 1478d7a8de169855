"""How many fits fit in memory at once: the automatic chunk size.

A batch is solved in one piece when its working set fits comfortably in
the memory of the devices it runs on; otherwise :func:`auto_chunk_size`
gives the largest chunk that does, and the fit streams through chunks
(``_chunked.run``) with a progress bar. Estimates are deliberately
generous: the working set of one LM step per fit is the residual, the
transposed Jacobian and their products (about ``(n + 3) m`` numbers), the
fit's own data, and the solver state.

On a CPU the budget is planned from the host memory *available* now
(``MemAvailable`` of ``/proc/meminfo`` on Linux; the free pages elsewhere;
the physical memory if neither is known), not the total, and a chunk's
working set is capped at ``CPU_CHUNK_BYTES``: beyond a few tens of thousands
of fits a larger chunk is no faster on a CPU, it only holds more memory.
``BATCHFIT_MEMORY_BUDGET`` (bytes, in the environment) overrides the budget.
"""

from __future__ import annotations

import os

import jax
import numpy as np

BUDGET_FRACTION = 0.4  # of a device's memory that one batch may plan to use
SAFETY = 3.0  # XLA temporaries, padding to a bucket, the statistics pass
CPU_CHUNK_BYTES = 256 * 2**20  # planned working set of one chunk on a CPU at most
MEMINFO = "/proc/meminfo"
ENV_BUDGET = "BATCHFIT_MEMORY_BUDGET"


def available_host_bytes(meminfo: str | None = None) -> int | None:
    """Host memory available to a new allocation now, in bytes, or None.

    Linux: ``MemAvailable`` (free memory plus what the kernel can reclaim
    without swapping); elsewhere the free pages (``SC_AVPHYS_PAGES``).
    """
    try:
        with open(MEMINFO if meminfo is None else meminfo, encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    kb = line.split()[1]
                    return int(kb) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _total_host_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def env_budget() -> int | None:
    """The budget set by ``BATCHFIT_MEMORY_BUDGET`` (bytes), or None."""
    text = os.environ.get(ENV_BUDGET)
    if text is None or text.strip() == "":
        return None
    try:
        val = int(float(text))
    except ValueError:
        raise ValueError(f"{ENV_BUDGET}={text!r}: expected a number of bytes") from None
    if val < 1:
        raise ValueError(f"{ENV_BUDGET}={text!r}: expected a positive number of bytes")
    return val


def device_memory_bytes(devices) -> int | None:
    """Memory the batch may use on ``devices`` (summed), or None if unknown.

    Accelerators report their allocator's limit; a CPU device shares the
    host's available memory (:func:`available_host_bytes`), counted once.
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
            mem = available_host_bytes()
            if mem is None:
                mem = _total_host_bytes()
            if mem is None:
                return None
            total += mem
    return total or None


def bytes_per_fit(per_fit, B: int, m: int, n: int, itemsize: int) -> int:
    """Estimated peak bytes one fit needs while a batch is solved."""
    data = sum(int(np.asarray(a).nbytes) for a in jax.tree_util.tree_leaves(per_fit)) // max(B, 1)
    # the LM state (n^2 + 6n + 8 numbers) is held three times: running, the
    # start and a first run kept for a restart (solver/_restart.py)
    # planned at 8 bytes a number even in float32: its temporaries are not all
    # float32 (the float64 precision check, indices), about 0.7x of float64's
    work = max(itemsize, 8) * ((n + 3) * m + 3 * (n * n + 6 * n + 8))
    return int(SAFETY * (work + data))


def auto_chunk_size(B: int, per_fit, m: int, n: int, itemsize: int, devices,
                    budget: int | None = None) -> int | None:
    """Largest chunk of fits whose working set fits the budget, or None when
    the whole batch does (or the memory is unknown)."""
    need = bytes_per_fit(per_fit, B, m, n, itemsize)
    if budget is None:
        budget = env_budget()
    if budget is None:
        mem = device_memory_bytes(devices)
        if mem is None:
            return None
        budget = int(BUDGET_FRACTION * mem)
        if all(getattr(d, "platform", None) == "cpu" for d in devices):
            budget = min(budget, CPU_CHUNK_BYTES)
    if B * need <= budget:
        return None
    return max(1, budget // need)
