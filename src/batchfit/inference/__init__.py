"""Inference after a fit: profile confidence intervals, prediction bands, multi-start."""

from ._errors import MinimizerException as MinimizerException
from ._lmfit_ci import conf_interval as conf_interval
from ._lmfit_ci import conf_interval2d as conf_interval2d
from ._lmfit_ci import copy_vals as copy_vals
from ._lmfit_ci import f_compare as f_compare
from ._lmfit_ci import restore_vals as restore_vals
from ._report import ci_report as ci_report

__all__ = ["MinimizerException", "ci_report", "conf_interval", "conf_interval2d", "copy_vals",
           "f_compare", "restore_vals"]
