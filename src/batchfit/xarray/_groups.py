"""Shared-parameter groups over a dimension (``shared=``, ``shared_dims=``)."""

from __future__ import annotations

from ..fitting._model import Model


def group_dims(func, shared, shared_dims, preserved, names):
    """The preserved dimensions along which ``shared`` parameters are shared ([] for none)."""
    if shared is None and shared_dims is None:
        return []
    raise NotImplementedError("batchfit curvefit: shared= is not available yet")


def fit_group_block(*args):
    raise NotImplementedError
