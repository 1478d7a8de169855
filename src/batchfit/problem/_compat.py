"""Small compatibility helpers across JAX versions."""

from __future__ import annotations

import contextlib

import jax
import numpy as np


def x64_context(dtype):
    """Context in which JAX computes in ``dtype`` (enables x64 for float64)."""
    enable = np.dtype(dtype) == np.float64
    if jax.config.read("jax_enable_x64") == enable:
        return contextlib.nullcontext()
    fn = getattr(jax, "enable_x64", None)
    if fn is None:  # jax < 0.5
        from jax.experimental import enable_x64 as fn  # type: ignore[no-redef]
    return fn(enable)


def resolve_dtype(dtype, *arrays):
    """The working float dtype: ``dtype`` if given, else float32 when every
    floating input is float32, else float64."""
    if dtype is not None:
        dt = np.dtype(dtype)
        if dt not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {dt}")
        return dt
    kinds = []
    for a in arrays:
        dt = getattr(a, "dtype", None)
        if dt is not None and np.dtype(dt).kind == "f":
            kinds.append(np.dtype(dt))
    if kinds and all(k == np.float32 for k in kinds):
        return np.dtype(np.float32)
    return np.dtype(np.float64)
