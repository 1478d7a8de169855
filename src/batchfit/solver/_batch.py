"""Batched solve: vmapped steps in rounds, with compaction of unfinished fits.

Under ``vmap`` a loop runs every lane until the slowest one finishes. The
driver therefore runs ``cfg.round_steps`` iterations on the whole batch,
then gathers the fits still running into a smaller, power-of-16 sized
batch and continues with those only. Compiled functions are cached by
(residual function, config, bucket shape), so a new batch size inside a
bucket compiles nothing.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from . import _shard
from ._config import LMConfig
from ._lm import lm_init, lm_step
from ._results import RESULTS, LMState


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


@partial(jax.jit, static_argnums=(0, 1))
def _init(resid_fn, cfg, theta0, args, shared):
    return jax.vmap(partial(lm_init, resid_fn, cfg), in_axes=(0, 0, None))(theta0, args, shared)


@partial(jax.jit, static_argnums=(0, 1))
def _round(resid_fn, cfg, state, args, shared):
    step = jax.vmap(partial(lm_step, resid_fn, cfg), in_axes=(0, 0, None))

    def cond(c):
        k, s = c
        return (k < cfg.round_steps) & jnp.any(s.status == RESULTS.RUNNING)

    def body(c):
        k, s = c
        return k + 1, step(s, args, shared)

    return jax.lax.while_loop(cond, body, (jnp.int32(0), state))[1]


@jax.jit
def _take(tree, idx):
    return jax.tree_util.tree_map(lambda a: jnp.take(a, idx, axis=0), tree)


@jax.jit
def _put(full, idx, part):
    # Duplicated (padding) lanes hold identical values, so write order is moot.
    return jax.tree_util.tree_map(lambda f, w: f.at[idx].set(w), full, part)


def _pad_index(idx: np.ndarray, size: int) -> np.ndarray:
    return np.concatenate([idx, np.full(size - idx.size, idx[-1], dtype=idx.dtype)])


def solve(resid_fn, theta0, args, shared, cfg: LMConfig, progress=None) -> SolveOutput:
    """Fit every member of a batch.

    Args:
      resid_fn: ``resid_fn(theta, args_i, shared) -> r``, pure and
        traceable, for one fit; must be hashable and stable (it keys the
        compile cache).
      theta0: (B, n) starting internal parameters.
      args: pytree of arrays with leading axis B (the per-fit data).
      shared: pytree of arrays common to every fit (not batched).
      cfg: a resolved :class:`LMConfig`.
      progress: optional callable ``progress(n_done)`` called after each round.

    Returns:
      :class:`SolveOutput`. Never raises for a bad fit: its status says.

    With several local devices (or ``cfg.devices`` set) the batch axis is
    sharded across them (see ``_shard.py``); with one, nothing changes.
    """
    if _shard.wanted(cfg.devices):
        return _shard.solve(resid_fn, theta0, args, shared, cfg, progress)
    return solve_local(resid_fn, theta0, args, shared, cfg, progress)


def solve_local(resid_fn, theta0, args, shared, cfg: LMConfig, progress=None) -> SolveOutput:
    """:func:`solve` on the device that holds the inputs (no sharding)."""
    B = theta0.shape[0]
    size = bucket_size(B)
    if size != B:
        theta0, args = _take((theta0, args), jnp.asarray(_pad_index(np.arange(B), size)))
    full: LMState = _init(resid_fn, cfg, theta0, args, shared)
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
                full = _put(full, jnp.asarray(work_idx), work_state)
            else:
                full = work_state
            local = _pad_index(running, nb)
            work_idx = work_idx[local]
            work_state, work_args = _take((work_state, work_args), jnp.asarray(local))
        work_state = _round(resid_fn, cfg, work_state, work_args, shared)
        if progress is not None:
            progress(int(np.sum(np.asarray(work_state.status) != RESULTS.RUNNING)))
    full = work_state if work_idx.size == size else _put(full, jnp.asarray(work_idx), work_state)
    out = jax.tree_util.tree_map(lambda a: np.asarray(a)[:B], full)
    return SolveOutput(out.theta, out.chi2, out.nfev, out.status)
