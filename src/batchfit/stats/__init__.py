"""Statistics at the solution: chi-square, covariance, standard errors,
information criteria and correlations (batched, lmfit's conventions)."""

from ._compute import Stats, compute, correlations, info_criteria

__all__ = ["Stats", "compute", "correlations", "info_criteria"]
