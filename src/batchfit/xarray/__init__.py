"""xarray integration: ``import batchfit.xarray`` registers ``DataArray.batchfit``.

``da.batchfit.curvefit(coords, func, ...)`` takes the arguments of
:meth:`xarray.DataArray.curvefit` and returns its Dataset (plus batchfit's
per-fit status, chi-square and standard errors), fitting every pixel in one
batched call; dask-backed arrays are fitted lazily, chunk by chunk.
"""

from ._accessor import BatchfitAccessor as BatchfitAccessor
from ._accessor import curvefit as curvefit

__all__ = ["BatchfitAccessor", "curvefit"]
