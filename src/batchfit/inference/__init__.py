"""Inference after a fit: profile confidence intervals, prediction bands, multi-start."""

from ._conf_interval import conf_interval as conf_interval
from ._report import ci_report as ci_report

__all__ = ["ci_report", "conf_interval"]
