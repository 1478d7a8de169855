"""Lineshapes called from plain Python, as lmfit's are: numpy in, numpy out.

Inside a fit the functions are traced by JAX and this wrapper steps aside.
Called with concrete numbers (``gaussian(x, 1, 0, 0.2)`` with ``x`` a numpy
array or a float) they compute in float64, unless every floating input is
float32, and return a numpy array, as ``lmfit.lineshapes`` does; JAX's
default float32 would otherwise round the values a porting user compares.
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from ..problem._compat import x64_context


def _is_traced(values) -> bool:
    return any(isinstance(v, jax.core.Tracer) for v in jax.tree_util.tree_leaves(values))


def _working_dtype(values):
    kinds = []
    for v in jax.tree_util.tree_leaves(values):
        if isinstance(v, (bool, str)) or v is None:
            continue
        dt = np.asarray(v).dtype
        if dt.kind in "fc":
            kinds.append(np.float32 if dt in (np.float32, np.complex64) else np.float64)
    return np.float32 if kinds and all(k is np.float32 for k in kinds) else np.float64


def host_callable(func):
    """``func`` that, called outside a trace, computes in float64 and returns numpy."""

    @functools.wraps(func)
    def call(*args, **kws):
        if _is_traced((args, kws)):
            return func(*args, **kws)
        with x64_context(_working_dtype((args, kws))):
            out = np.array(func(*args, **kws))  # a writable copy: lmfit users write `y -= ...`
            return out[()] if out.ndim == 0 else out  # a scalar is a numpy float, as lmfit's

    return call
