"""Hashable model callables: the structure of a (composite) model as a key.

``Model.eval_fn`` is called with keywords: every (prefixed) parameter name
and every independent variable. Two models built the same way from the same
functions give equal, equally hashing callables, so the residual factories
cached on them (``_residual.model_residual``) return the same function and
nothing compiles again.
"""

from __future__ import annotations

import dataclasses
import operator
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True)
class ModelFunction:
    """``func`` with its parameters renamed ``prefix + name``.

    A parameter missing from the keywords takes ``func``'s default.
    ``args`` are the parameter arguments of ``func`` (unprefixed), ``indep``
    its independent variables and ``opts`` fixed keyword options as sorted
    ``(name, value)`` pairs (hashable values only).
    """

    func: Callable
    prefix: str
    args: tuple[str, ...]
    indep: tuple[str, ...]
    opts: tuple[tuple[str, Any], ...] = ()

    def __call__(self, **kw):
        call = {a: kw[self.prefix + a] for a in self.args if self.prefix + a in kw}
        call.update({v: kw[v] for v in self.indep})
        call.update(self.opts)
        return self.func(**call)

    @property
    def __name__(self):
        return getattr(self.func, "__name__", "model")


@dataclasses.dataclass(frozen=True)
class CompositeFunction:
    """``op(left(**kw), right(**kw))`` for two model callables."""

    op: Callable
    left: Any
    right: Any

    def __call__(self, **kw):
        return self.op(self.left(**kw), self.right(**kw))

    @property
    def __name__(self):
        sym = OP_SYMBOLS.get(self.op, getattr(self.op, "__name__", "op"))
        return f"({self.left.__name__} {sym} {self.right.__name__})"


OP_SYMBOLS = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/"}


def evaluate(fn, values: dict, indep: dict, dtype):
    """Evaluate ``fn`` on host values, batched where parameters are arrays.

    ``values`` maps parameter names to scalars or (N,) arrays; with any
    (N,) array the model is vmapped over N, and independent variables with
    a leading axis N are taken per fit. Returns a numpy array.
    """
    vals = {k: np.asarray(v, dtype=dtype) for k, v in values.items()}
    sizes = {v.shape[0] for v in vals.values() if v.ndim == 1}
    if len(sizes) > 1:
        raise ValueError(f"parameter arrays disagree on the batch size: lengths {sorted(sizes)}")
    ind = {k: np.asarray(v, dtype=dtype) for k, v in indep.items()}
    if not sizes:
        return np.asarray(fn(**{k: jnp.asarray(v) for k, v in {**vals, **ind}.items()}))
    (n,) = sizes
    vax = {k: (0 if v.ndim == 1 else None) for k, v in vals.items()}
    iax = {k: (0 if (v.ndim >= 2 and v.shape[0] == n) else None) for k, v in ind.items()}
    out = jax.vmap(lambda v, i: jnp.asarray(fn(**v, **i)), in_axes=(vax, iax))(vals, ind)
    return np.asarray(out)
