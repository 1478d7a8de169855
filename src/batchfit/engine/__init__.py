"""One batch through the pipeline (check the residual, solve, statistics,
FitResult), whole or in chunks that fit in memory, with checkpoints."""

from ._chunked import CheckpointError
from ._run import ModelError, run

__all__ = ["CheckpointError", "ModelError", "run"]
