"""A Schur fit's dense problem, built only when an interval tool asks for it.

``conf_interval`` and ``eval_uncertainty`` of a group result work on the
group's flat problem (``_fit.dense_problem``). The dense solve attaches it
as it runs; the block solver never forms it, so its result carries
:class:`LazyRefitRows`: the rows of the groups, and a builder called on
first use (and shared by ``result[g]``'s rows).
"""

from __future__ import annotations

import numpy as np

from ..engine._refit import RefitRows


class LazyRefitRows(RefitRows):
    """:class:`~batchfit.engine._refit.RefitRows` whose ``refit`` is built
    on first access by ``self._box["make"]()``."""

    _box = None

    def __array_finalize__(self, obj):
        self._box = getattr(obj, "_box", None)

    @property
    def refit(self):
        box = self._box
        if box is None:
            return None
        if box.get("refit") is None:
            box["refit"] = box["make"]()
        return box["refit"]


def lazy_rows(G: int, make) -> LazyRefitRows:
    """Rows 0..G-1 of the problem ``make()`` returns."""
    out = np.zeros(G, dtype=[("row", np.int64)])
    out["row"] = np.arange(G)
    out = out.view(LazyRefitRows)
    out._box = {"make": make, "refit": None}
    return out
