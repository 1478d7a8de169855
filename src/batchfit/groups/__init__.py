"""Shared-parameter groups: G groups of K datasets, some parameters shared
inside a group; layout, dense and Schur (block-arrow) fits, and results."""

from ._fit import fit_groups
from ._result import GroupFitResult

__all__ = ["GroupFitResult", "fit_groups"]
