"""What a result keeps to be refitted: the residual functions and arrays of its batch.

Profile-likelihood intervals (``batchfit.inference``) refit a result's
problem with one parameter held fixed. The engine attaches, as the extra
``refit`` of every :class:`~batchfit.FitResult` it builds, a
:class:`RefitRows`: one row per fit (so ``result[i]`` and selections keep
the right rows, as for any per-fit extra) that points into the
:class:`Refit` of the whole batch. It is not data: exports leave it out.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np


class Refit(NamedTuple):
    """A batch's fitting problem: the engine's arguments, host arrays."""

    resid: Any  # internal-parameter residual (the solver's)
    resid_ext: Any  # external-parameter residual (statistics')
    spec: Any  # ParamSpec
    per_fit: dict  # host arrays with a leading batch axis (unpadded)
    shared: Any  # arrays common to every fit
    cfg: Any  # LMConfig (unresolved)
    dtype: Any
    scale_covar: bool


class RefitRows(np.ndarray):
    """Row numbers of fits in ``self.refit.per_fit`` (a structured array,
    so exports, which keep numeric data only, skip it)."""

    refit: Refit | None = None

    def __array_finalize__(self, obj):
        self.refit = getattr(obj, "refit", None)

    @property
    def index(self) -> np.ndarray:
        return np.asarray(self.view(np.ndarray)["row"])


def rows(refit: Refit, B: int) -> RefitRows:
    """Rows 0..B-1 of ``refit``."""
    out = np.zeros(B, dtype=[("row", np.int64)])
    out["row"] = np.arange(B)
    out = out.view(RefitRows)
    out.refit = refit
    return out


def attach(result, refit: Refit):
    """``result`` with its problem attached (extra ``refit``)."""
    result.extras["refit"] = rows(refit, len(result))
    return result
