"""Fit results: FitResult (arrays over the batch, lmfit-style access), and
its export to dicts, DataFrames and files, and back."""

from ._base import ARRAYS, StatusView
from ._load import from_dict, load_result
from ._result import FitResult

__all__ = ["ARRAYS", "FitResult", "StatusView", "from_dict", "load_result"]
