"""Status codes of a fit, each carrying its message, and the solver state."""

from __future__ import annotations

import enum
from typing import Any, NamedTuple

import jax


class RESULTS(enum.IntEnum):
    """Per-fit termination status.

    ``RUNNING`` is never returned; every other member carries a message via
    :attr:`message` and tells whether it counts as success via
    :attr:`success`.
    """

    RUNNING = 0
    FTOL = 1
    XTOL = 2
    FTOL_XTOL = 3
    GTOL = 4
    ZERO_RESIDUAL = 5
    MAX_NFEV = 6
    NONFINITE_START = 7
    STALLED = 8
    DIVERGED = 9
    NO_DATA = 10
    TOO_FEW_POINTS = 11
    PRECISION_LIMITED = 12
    MODEL_NONPOSITIVE = 13

    @property
    def message(self) -> str:
        return _MESSAGES[self]

    @property
    def success(self) -> bool:
        return self in _SUCCESS


_MESSAGES = {
    RESULTS.RUNNING: "Fit still running.",
    RESULTS.FTOL: "Both actual and predicted relative reductions in the sum of squares are at most ftol.",
    RESULTS.XTOL: "The relative change of the parameters between two iterates is at most xtol.",
    RESULTS.FTOL_XTOL: "Both ftol and xtol convergence tests are satisfied.",
    RESULTS.GTOL: "The gradient is orthogonal to the residual to within gtol.",
    RESULTS.ZERO_RESIDUAL: "The residual is exactly zero.",
    RESULTS.MAX_NFEV: "The number of function evaluations reached max_nfev without convergence.",
    RESULTS.NONFINITE_START: "The residual or its Jacobian is not finite at the starting point.",
    RESULTS.STALLED: "No step reduced the sum of squares: the damping parameter overflowed.",
    RESULTS.DIVERGED: "The iteration diverged: the residual became non-finite.",
    RESULTS.NO_DATA: "The dataset has no valid (unmasked) points.",
    RESULTS.TOO_FEW_POINTS: "Fewer valid data points than free parameters.",
    RESULTS.PRECISION_LIMITED: ("The working precision cannot place the parameters within their standard "
                                "errors (rounding, not the data, decides the answer): refit with "
                                "dtype='float64', or centre and scale the inputs."),
    RESULTS.MODEL_NONPOSITIVE: ("The model is <= 0 where the data counts are > 0, so the Poisson "
                                "likelihood (statistic='cstat') is not defined there: start from "
                                "positive model values, or bound the parameters to keep it positive."),
}

_SUCCESS = frozenset(
    {RESULTS.FTOL, RESULTS.XTOL, RESULTS.FTOL_XTOL, RESULTS.GTOL, RESULTS.ZERO_RESIDUAL}
)


def success_codes() -> tuple[int, ...]:
    """The integer codes that count as a successful fit."""
    return tuple(int(s) for s in sorted(_SUCCESS))


class LMState(NamedTuple):
    """State of one fit (arrays only; a batch adds a leading axis).

    The Jacobian itself is never stored: only the small linear model of the
    current point (``R`` and ``Qᵀr``, or ``JᵀJ`` and ``Jᵀr``) and the
    running maximum ``D`` of J's column norms.
    """

    theta: jax.Array  # (n,) internal parameters
    chi2: jax.Array  # () sum of squared residuals at theta
    A: jax.Array  # (n, n) linear model matrix: R (qr) or JᵀJ (cholesky)
    g: jax.Array  # (n,) Qᵀr (qr) or Jᵀr (cholesky)
    D: jax.Array  # (n,) running max of J's column norms (floors the scaling)
    C: jax.Array  # (n,) observed curvature beyond JᵀJ along collapsed columns
    lam: jax.Array  # () damping
    nu: jax.Array  # () Nielsen's damping growth factor
    nfev: jax.Array  # () residual+Jacobian evaluations
    status: jax.Array  # () int32 RESULTS code; 0 while running
    restart: Any = None  # _restart.Restart: the start and the first run, for one restart
