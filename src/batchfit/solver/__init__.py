"""Pure, jitted, batched Levenberg-Marquardt core. Sees arrays only."""

from ._batch import SolveOutput, bucket_size, compact_size
from ._config import LMConfig
from ._jacobian import evaluate, jacobian, jacobian_t
from ._lm import lm_init, lm_step
from ._results import RESULTS, LMState
from ._solve import solve

__all__ = [
    "LMConfig",
    "LMState",
    "RESULTS",
    "SolveOutput",
    "bucket_size",
    "compact_size",
    "evaluate",
    "jacobian",
    "jacobian_t",
    "lm_init",
    "lm_step",
    "solve",
]
