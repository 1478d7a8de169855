"""Batched solve: vmapped steps in rounds, the unfinished fits compacted.

Under ``vmap`` a loop runs every lane until the slowest one finishes, so
both drivers step the fits in rounds of ``cfg.round_steps`` iterations and
keep working only on those still running:

* CPU (:func:`_sorted_rounds`): one compiled program per batch bucket. Each
  round sorts the running fits first and steps them in chunks of a few
  hundred (cache-sized), so compaction costs no new compiled shape: a new
  model compiles once (W1 at N = 10^4: 2.6 s cold instead of 5.2 s). A
  persistent tail of a few slow fits moves to batches of 16 (the
  accelerator driver's last stage).
* accelerators (:func:`_solve_compacting`): a GPU wants one wide batch, so
  after each round the running fits are gathered into a smaller
  power-of-16 sized batch (one compiled shape per size).

Compiled functions are cached by (residual function, config, shapes), so a
new batch size inside a bucket compiles nothing.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ._config import SMALL_BATCH, LMConfig
from ._lm import lm_init, lm_steps
from ._results import RESULTS, LMState
from ._threads import cpu_threads, map_parts
from ._threads import on_cpu as _on_cpu
from ._xla import jit as xla_jit


class SolveOutput(NamedTuple):
    """Per-fit solver output (host numpy arrays, leading batch axis)."""

    theta: np.ndarray  # (B, n)
    chi2: np.ndarray  # (B,)
    nfev: np.ndarray  # (B,)
    status: np.ndarray  # (B,) int RESULTS codes


def bucket_size(n: int) -> int:
    """The padded batch size for n fits: n rounded up to 8 steps per octave
    (16, 18, 20, ..., 28, 32, 36, ...), so padding wastes at most 12.5% and
    a new n in an already compiled bucket compiles nothing."""
    n = max(int(n), 1)
    if n <= 16:
        return 1 << int(n - 1).bit_length()
    step = 1 << (int(n - 1).bit_length() - 4)
    return -(-n // step) * step


def compact_size(n: int) -> int:
    """Smallest power of 16 >= n: the few working sizes used after compaction,
    so that only a handful of shapes is ever compiled."""
    size = COMPACT_MIN
    while size < n:
        size *= COMPACT_GRID
    return size


COMPACT_GRID = 16
COMPACT_MIN = 16


@partial(xla_jit, static_argnums=(0, 1))
def _init(resid_fn, cfg, theta0, args, shared):
    return jax.vmap(partial(lm_init, resid_fn, cfg), in_axes=(0, 0, None))(theta0, args, shared)


@partial(xla_jit, static_argnums=(0, 1))
def _round(resid_fn, cfg, state, args, shared):
    step = partial(lm_steps, resid_fn, cfg)

    def cond(c):
        k, s = c
        return (k < cfg.round_steps) & jnp.any(s.status == RESULTS.RUNNING)

    def body(c):
        k, s = c
        return k + 1, step(s, args, shared)

    return jax.lax.while_loop(cond, body, (jnp.int32(0), state))[1]


@xla_jit
def _take(tree, idx):
    return jax.tree_util.tree_map(lambda a: jnp.take(a, idx, axis=0), tree)


@xla_jit
def _put(full, idx, part):
    # Duplicated (padding) lanes hold identical values, so write order is moot.
    return jax.tree_util.tree_map(lambda f, w: f.at[idx].set(w), full, part)


def _pad_index(idx: np.ndarray, size: int) -> np.ndarray:
    return np.concatenate([idx, np.full(size - idx.size, idx[-1], dtype=idx.dtype)])


CPU_CHUNK = 256  # fits stepped together by the CPU driver (fits in cache, amortises the loop)


@partial(xla_jit, static_argnums=(0, 1, 2))
def _sorted_rounds(resid_fn, cfg, chunk, state, args, shared, max_rounds):
    """Up to ``max_rounds`` rounds over a whole batch in ONE program (CPU).

    Each round orders the fits running first (a stable sort of the
    status), then steps them ``chunk`` at a time, each chunk for up to
    ``cfg.round_steps`` iterations and only while some of its fits run:
    compaction at chunk granularity without a new compiled shape per
    working-set size, so a new model compiles one program instead of one
    per size (about 1.8 s instead of 4 s for W1 at N = 10^4), and chunks of
    a few hundred fits stay in cache. A fit's trajectory does not depend on
    which chunk or round it is stepped in.
    """
    step = partial(lm_steps, resid_fn, cfg)

    def run_chunk(i, carry):
        state, order = carry
        idx = jax.lax.dynamic_slice_in_dim(order, i * chunk, chunk)
        s = jax.tree_util.tree_map(lambda a: a[idx], state)
        a = jax.tree_util.tree_map(lambda z: z[idx], args)

        def cond(c):
            return (c[0] < cfg.round_steps) & jnp.any(c[1].status == RESULTS.RUNNING)

        s = jax.lax.while_loop(cond, lambda c: (c[0] + 1, step(c[1], a, shared)), (0, s))[1]
        state = jax.tree_util.tree_map(lambda f, w: f.at[idx].set(w, unique_indices=True), state, s)
        return state, order

    def cond(c):
        k, st = c
        return (k < max_rounds) & jnp.any(st.status == RESULTS.RUNNING)

    def body(c):
        k, st = c
        run = st.status == RESULTS.RUNNING
        order = jnp.argsort(~run, stable=True).astype(jnp.int32)
        n_chunks = (jnp.sum(run, dtype=jnp.int32) + chunk - 1) // chunk
        return k + 1, jax.lax.fori_loop(0, n_chunks, run_chunk, (st, order))[0]

    return jax.lax.while_loop(cond, body, (jnp.int32(0), state))[1]


SMALL = SMALL_BATCH  # batches up to this size are solved by one small program (_solve_small)


@partial(xla_jit, static_argnums=(0, 1))
def _solve_small(resid_fn, cfg, theta0, args, shared):
    """Start and every step of a small batch in ONE program: no sorting, no
    chunks, no separate start program. A few fits gain nothing from
    compaction, and one program is traced, lowered and compiled once
    (a single fit's cold start)."""
    state = jax.vmap(partial(lm_init, resid_fn, cfg), in_axes=(0, 0, None))(theta0, args, shared)
    step = partial(lm_steps, resid_fn, cfg)
    return jax.lax.while_loop(lambda s: jnp.any(s.status == RESULTS.RUNNING),
                              lambda s: step(s, args, shared), state)


def solve_local(resid_fn, theta0, args, shared, cfg: LMConfig, progress=None) -> SolveOutput:
    """:func:`solve` on the device that holds the inputs (no sharding)."""
    if theta0.shape[0] <= SMALL:
        B = theta0.shape[0]
        theta0, args = _padded(theta0, args, bucket_size(B))
        out = jax.tree_util.tree_map(lambda a: np.asarray(a)[:B], _solve_small(resid_fn, cfg, theta0, args, shared))
        if progress is not None:
            progress(B)
        return SolveOutput(out.theta, out.chi2, out.nfev, out.status)
    if _on_cpu(theta0):
        return _solve_cpu(resid_fn, theta0, args, shared, cfg, progress)
    return _solve_compacting(resid_fn, theta0, args, shared, cfg, progress)


def _padded(theta0, args, size):
    B = theta0.shape[0]
    if size == B:
        return theta0, args
    return _take((theta0, args), jax.device_put(_pad_index(np.arange(B), size)))


TAIL_ROUNDS = 4  # CPU: sorted rounds before a persistent tail moves to small batches ...
TAIL_ROUNDS_COLD = 16  # ... or, while its small-batch program is not compiled yet, this many
_TAIL_COMPILED: set = set()  # tail programs compiled in this process (keys of _tail_key)


def _tail_key(resid_fn, cfg, state, args, shared):
    """What the 16-lane tail program is compiled for."""
    leaves = jax.tree_util.tree_leaves((state, args))
    return (resid_fn, cfg, tuple((a.shape[1:], str(a.dtype)) for a in leaves),
            tuple((np.shape(a), str(np.asarray(a).dtype)) for a in jax.tree_util.tree_leaves(shared)))


def cpu_layout(n: int, threads=None) -> tuple:
    """How the CPU drivers lay out n fits (or groups): ``(chunk, parts,
    size)``. ``size`` >= the bucket of n is ``parts`` equal parts (one per
    thread, at least 16 lanes each) of a whole number of equal chunks of at
    most CPU_CHUNK lanes, padded by less than one lane per chunk (a bucket
    of 1,280 on 2 threads: 2 parts of 3 chunks of 214 lanes, 1,284 in all)."""
    size = bucket_size(n)
    k = max(1, min(cpu_threads(threads), size // COMPACT_MIN))
    n_chunks = -(-size // CPU_CHUNK)
    n_chunks = -(-n_chunks // k) * k
    chunk = -(-size // n_chunks)
    return chunk, k, n_chunks * chunk


def _solve_cpu(resid_fn, theta0, args, shared, cfg: LMConfig, progress=None) -> SolveOutput:
    """The CPU driver: rounds of :func:`_sorted_rounds` (one compiled program).

    XLA runs one program on one CPU thread, so a large batch is split into
    equal parts (whole chunks each) that threads step concurrently, each
    through the same compiled program (W1 at N = 10^4 on 2 cores: 1.7x).
    Padding lanes are marked finished at the start and never stepped.
    """
    B = theta0.shape[0]
    chunk, k, size = cpu_layout(B, cfg.threads)
    theta0, args = _padded(theta0, args, size)
    state: LMState = _init(resid_fn, cfg, theta0, args, shared)
    status = np.array(state.status)
    status[B:] = RESULTS.NO_DATA  # padding: done before it starts
    state = state._replace(status=jax.device_put(status))
    part = size // k
    done = [0] * k
    lock = threading.Lock()

    def run(p, st_ar):
        report = None
        if progress is not None:
            def report(n):
                with lock:
                    done[p] = n
                    progress(sum(done))
        n_real = min(max(B - p * part, 0), part)
        return _cpu_rounds(resid_fn, cfg, chunk, *st_ar, shared, n_real, report)

    out = jax.tree_util.tree_map(lambda a: a[:B], map_parts(run, (state, args), k, theta0.dtype))
    return SolveOutput(out.theta, out.chi2, out.nfev, out.status)


def _cpu_rounds(resid_fn, cfg, chunk, state: LMState, args, shared, n_real, report=None) -> LMState:
    """Sorted rounds until every fit of ``state`` is done; a long tail (still
    running after ``TAIL_ROUNDS`` rounds, at most ``COMPACT_MIN`` fits) is
    handed to :func:`_compact_loop`, which steps a batch of 16 (one more
    compiled shape, paid only by batches with such a tail: W1 with 1% of
    its starts far off, 0.32 s -> 0.27 s warm). Until that program is
    compiled in this process, only a tail still running after
    ``TAIL_ROUNDS_COLD`` rounds is worth its compilation (about 1 s): a
    first call keeps its cold time. ``report(n_done)`` counts the first
    ``n_real`` lanes (the rest is padding)."""
    rounds = 0
    key = None
    while True:
        n_run = int(np.sum(np.asarray(state.status) == RESULTS.RUNNING))
        if n_run == 0:
            return state
        if rounds >= TAIL_ROUNDS and n_run <= COMPACT_MIN and chunk >= 4 * COMPACT_MIN:
            key = key or _tail_key(resid_fn, cfg, state, args, shared)
            if key in _TAIL_COMPILED or rounds >= TAIL_ROUNDS_COLD:
                _TAIL_COMPILED.add(key)
                return _compact_loop(resid_fn, cfg, state, args, shared, n_real, report)
        state = _sorted_rounds(resid_fn, cfg, chunk, state, args, shared, jnp.int32(1))
        rounds += 1
        if report is not None:
            report(int(np.sum(np.asarray(state.status)[:n_real] != RESULTS.RUNNING)))


def _solve_compacting(resid_fn, theta0, args, shared, cfg: LMConfig, progress=None) -> SolveOutput:
    """The accelerator driver: :func:`_compact_loop` from the start, so
    that a GPU always steps one wide batch."""
    B = theta0.shape[0]
    theta0, args = _padded(theta0, args, bucket_size(B))
    full = _init(resid_fn, cfg, theta0, args, shared)
    full = _compact_loop(resid_fn, cfg, full, args, shared, B, progress)
    out = jax.tree_util.tree_map(lambda a: np.asarray(a)[:B], full)
    return SolveOutput(out.theta, out.chi2, out.nfev, out.status)


def _compact_loop(resid_fn, cfg, full: LMState, args, shared, B, progress=None) -> LMState:
    """Rounds on the batch, then on the fits still running gathered into
    ever smaller power-of-16 batches (one compiled shape each); returns the
    final state of every lane of ``full`` (``B`` real fits, the rest
    padding copies of the last)."""
    size = full.theta.shape[0]
    work_idx = np.arange(size)  # lanes of `full` that the working set covers
    work_state, work_args = full, args
    while True:
        status = np.asarray(work_state.status)
        running = np.nonzero(status == RESULTS.RUNNING)[0]
        if running.size == 0:
            break
        nb = compact_size(running.size)
        if nb * 2 <= work_idx.size:
            if work_idx.size != size:
                full = _put(full, jax.device_put(work_idx), work_state)
            else:
                full = work_state
            local = _pad_index(running, nb)
            work_idx = work_idx[local]
            work_state, work_args = _take((work_state, work_args), jax.device_put(local))
        work_state = _round(resid_fn, cfg, work_state, work_args, shared)
        if progress is not None:
            still = work_idx[np.asarray(work_state.status) == RESULTS.RUNNING]
            progress(B - np.unique(np.minimum(still, B - 1)).size)
    return work_state if work_idx.size == size else _put(full, jax.device_put(work_idx), work_state)
