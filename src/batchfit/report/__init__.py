"""What a person reads: text reports (lmfit's layout, batch and group
summaries) and matplotlib figures."""

from ._format import gformat
from ._plot import plot_fit
from ._plot_batch import plot_batch, plot_map
from ._plot_group import plot_group
from ._text import fit_report, report_fit

__all__ = ["fit_report", "gformat", "plot_batch", "plot_fit", "plot_group", "plot_map", "report_fit"]
