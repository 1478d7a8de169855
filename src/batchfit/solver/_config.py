"""Static solver configuration (hashable, so it can be a jit static argument)."""

from __future__ import annotations

import dataclasses

import numpy as np

from ._linsolve import SOLVERS

METHODS = ("lm", "gauss_newton")
SMALL_BATCH = 16  # batches up to this many fits are solved by one program (solver._batch._solve_small)


@dataclasses.dataclass(frozen=True)
class LMConfig:
    """Options of the Levenberg-Marquardt / Gauss-Newton solver.

    Args:
      method: ``"lm"`` (damped, the default) or ``"gauss_newton"`` (undamped
        pseudo-inverse steps, every step accepted).
      ftol: relative tolerance on the reduction of the sum of squares.
        ``None`` means ``sqrt(eps)`` of the working dtype (1.49e-8 in float64,
        as MINPACK and lmfit; 3.45e-4 in float32).
      xtol: relative tolerance on the step; ``None`` as for ``ftol``.
      gtol: tolerance on the cosine between residual and Jacobian columns
        (0 disables the test, as in lmfit's leastsq).
      max_nfev: maximum number of residual+Jacobian evaluations per fit;
        ``None`` means ``2000 * (nvarys + 1)`` (lmfit's default).
      tau: initial damping, relative to the largest scaled diagonal of JᵀJ.
      round_steps: iterations run on every unfinished fit between two
        compactions of the batch.
      linear_solver: ``"cholesky"`` (normal equations JᵀJ with one step of
        iterative refinement, the default: one pass over J per evaluation,
        2.5x faster than QR on W1 and 10x on one dataset of 10^6 points) or
        ``"qr"`` (QR of J: keeps the conditioning of J, for problems whose
        JᵀJ is too ill-conditioned for the working precision).
      devices: where a batch runs. ``None`` (default): every local device
        of the default backend, the batch axis sharded across them when
        there are several (one device, or a ``jax.default_device``
        setting: no sharding); an int ``k``: the first ``k`` local devices
        (``1`` turns sharding off); a sequence of ``jax.Device``: those.
      restart: run a fit that ends suspect (stalled, or converged with a
        Jacobian column collapsed: a parameter that stopped acting) once
        more from its start with 100x the initial damping, and keep the
        better run (default True; ``lm`` only).
      threads: on one CPU device, how many threads step parts of a batch
        concurrently (XLA runs each program on one thread). ``None``
        (default): every core this process may use; ``1``: one thread.
        Results do not depend on it.
      small_programs: solve the small linear systems with loops over the
        parameters instead of unrolled code (default False): a program that
        compiles faster (the solve alone: 7 parameters, 1.2 s instead of
        4.5 s) and steps more slowly, for one-off fits of many parameters
        where compiling is most of the time. Results differ from the
        default's by rounding only, but a fit that wanders (diverges,
        stalls) may then end elsewhere, so it is off unless asked for.
    """

    method: str = "lm"
    ftol: float | None = None
    xtol: float | None = None
    gtol: float = 0.0
    max_nfev: int | None = None
    tau: float = 0.1
    round_steps: int = 8
    linear_solver: str = "cholesky"
    devices: object = None
    threads: int | None = None
    restart: bool = True
    small_programs: bool = False

    def __post_init__(self):
        d = self.devices
        if isinstance(d, (bool, np.bool_)) or (isinstance(d, (int, np.integer)) and d < 1):
            raise ValueError(f"devices must be None, an int >= 1 or a sequence of devices, got {d!r}")
        if d is not None and not isinstance(d, (int, np.integer)):
            object.__setattr__(self, "devices", tuple(d))  # hashable: a jit static argument
        t = self.threads
        if t is not None and (isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, np.integer))
                              or t < 1):
            raise ValueError(f"threads must be None or an int >= 1, got {t!r}")
        if not isinstance(self.restart, (bool, np.bool_)):
            raise TypeError(f"restart must be True or False, got {self.restart!r}")
        if not isinstance(self.small_programs, (bool, np.bool_)):
            raise TypeError(f"small_programs must be True or False, got {self.small_programs!r}")
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        for name in ("ftol", "xtol"):
            v = getattr(self, name)
            if v is not None and not (np.isfinite(v) and v >= 0):
                raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
        if not (np.isfinite(self.gtol) and self.gtol >= 0):
            raise ValueError(f"gtol must be a finite number >= 0, got {self.gtol!r}")
        if self.max_nfev is not None and int(self.max_nfev) < 1:
            raise ValueError(f"max_nfev must be >= 1, got {self.max_nfev!r}")
        if self.linear_solver not in SOLVERS:
            raise ValueError(
                f"linear_solver must be one of {SOLVERS}, got {self.linear_solver!r}"
            )
        if not (self.tau > 0):
            raise ValueError(f"tau must be > 0, got {self.tau!r}")
        if int(self.round_steps) < 1:
            raise ValueError(f"round_steps must be >= 1, got {self.round_steps!r}")

    def resolved(self, dtype, nvarys: int) -> "LMConfig":
        """Fill the dtype- and size-dependent defaults."""
        eps = float(np.finfo(dtype).eps)
        tol = float(np.sqrt(eps))
        return dataclasses.replace(
            self,
            ftol=tol if self.ftol is None else float(self.ftol),
            xtol=tol if self.xtol is None else float(self.xtol),
            gtol=float(self.gtol),
            max_nfev=2000 * (nvarys + 1) if self.max_nfev is None else int(self.max_nfev),
        )
