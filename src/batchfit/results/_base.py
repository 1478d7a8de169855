"""What the result classes share: the per-fit array fields, status views, indexing."""

from __future__ import annotations

import numpy as np

from ..solver import RESULTS

# Per-fit array fields (leading batch axis).
ARRAYS = (
    "status", "nfev", "ndata", "nfree", "chisqr", "redchi", "aic", "bic",
    "covar", "init_vals", "errorbars", "residual", "values_all", "stderr_all",
)


def check_index(i, n, cls, what, of):
    """``i`` as a non-negative index into ``n`` items, or a clear error."""
    if not isinstance(i, (int, np.integer)):
        raise TypeError(f"index a {cls} with an integer")
    if not -n <= i < n:
        raise IndexError(f"{what} index {i} out of range for {of}")
    return int(i) % n


class StatusView:
    """``success``, ``message`` and counts by status, from the status codes
    ``self._status`` (leading batch axis) of a result class."""

    @property
    def success(self):
        s = np.isin(self._status, [int(r) for r in RESULTS if r.success])
        return s if self.batched else bool(s[0])

    @property
    def message(self):
        msgs = [RESULTS(int(c)).message for c in self._status]
        return msgs if self.batched else msgs[0]

    def summary_counts(self) -> dict:
        """Number of fits per status name."""
        codes, counts = np.unique(self._status, return_counts=True)
        return {RESULTS(int(c)).name: int(k) for c, k in zip(codes, counts)}
