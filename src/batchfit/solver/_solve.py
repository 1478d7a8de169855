"""The solver's entry point: one device (the local drivers of ``_batch``) or
the batch axis sharded over several (``_shard``)."""

from __future__ import annotations

from . import _shard
from ._batch import SolveOutput, solve_local
from ._config import LMConfig


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
