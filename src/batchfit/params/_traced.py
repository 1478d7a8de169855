"""The Parameters an objective receives inside a fit (lmfit's calling form).

lmfit calls ``fcn(params, *args, **kws)`` with its ``Parameters``; a
batchfit objective is traced by JAX, so it receives a :class:`TracedParameters`:
a ``Parameters`` (``isinstance`` checks written for lmfit pass) mapping each
name to its JAX value, with lmfit's ``valuesdict()``. The items are JAX
values themselves, so ``jnp.exp(params["a"])`` and arithmetic work; lmfit's
``params["a"].value`` does not (a JAX value has no attributes of ours), see
the README's list of deliberate differences.
"""

from __future__ import annotations

import functools

from ._parameters import Parameters


class TracedParameters(Parameters):
    """Name -> JAX value, handed to an objective during a fit."""

    def __init__(self, values):
        dict.__init__(self, values)

    def __setitem__(self, key, value):
        dict.__setitem__(self, key, value)

    def valuesdict(self) -> dict:
        return dict(self)

    def copy(self) -> TracedParameters:
        return TracedParameters(dict(self))

    def __repr__(self):
        return f"TracedParameters({list(self)})"


@functools.lru_cache(maxsize=256)
def lmfit_calling(fcn):
    """``fcn`` called with :class:`TracedParameters` in place of a dict of
    values (one wrapper per objective, so compiled programs are reused)."""

    @functools.wraps(fcn)
    def call(values, *args, **kws):
        return fcn(TracedParameters(values), *args, **kws)

    return call
