"""Fits of data larger than one machine: dask arrays fitted lazily, chunk by chunk,
on whatever dask scheduler is active (threads, processes, a dask.distributed cluster)."""

from ._dask import LazyFit as LazyFit
from ._dask import fit_dask as fit_dask

__all__ = ["LazyFit", "fit_dask"]
