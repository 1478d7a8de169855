"""Complex data in Model.fit, as lmfit fits it: the residual's real and
imaginary parts (lmfit views the complex residual as float, interleaving
them), so chi-square is ``sum(|model - data|^2 * w^2)`` over ``2m`` values.

The fit runs on a real view of the model (``RealView``) and of the data;
the result then holds the complex ``data``, ``best_fit`` and the Model
itself, and its ``residual`` is the interleaved float view, as lmfit's.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
from typing import Any

import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True)
class RealView:
    """``func``'s complex values of one dataset of ``m`` points as ``2m``
    floats: (re, im) of each point, in order."""

    func: Any
    m: int

    def __call__(self, **kw):
        out = jnp.broadcast_to(jnp.asarray(self.func(**kw)), (self.m,))
        return jnp.stack([jnp.real(out), jnp.imag(out)], axis=-1).reshape(2 * self.m)

    @property
    def __name__(self):
        return getattr(self.func, "__name__", "model")


def is_complex(data) -> bool:
    return not isinstance(data, (list, tuple)) and np.iscomplexobj(data)


def as_real(z):
    """(..., m) complex -> (..., 2m) float, (re, im) interleaved (lmfit's view)."""
    z = np.asarray(z)
    return np.stack([z.real, z.imag], axis=-1).reshape(z.shape[:-1] + (2 * z.shape[-1],))


def as_complex(r):
    """The inverse of :func:`as_real`."""
    r = np.asarray(r)
    pairs = r.reshape(r.shape[:-1] + (r.shape[-1] // 2, 2))
    return pairs[..., 0] + 1j * pairs[..., 1]


def _real_weights(weights, m, who):
    if weights is None:
        return None
    w = np.asarray(weights)
    if np.iscomplexobj(w):
        raise TypeError(f"{who}: weights must be real for complex data, got dtype {w.dtype}")
    if w.ndim == 0:
        return w
    if w.shape[-1] != m:
        raise ValueError(f"{who}: weights of shape {w.shape} do not match complex data of {m} points")
    return np.repeat(w, 2, axis=-1)


def complex_data(fit):
    """Wrap ``Model.fit`` so complex ``data`` is fitted through its real view."""

    @functools.wraps(fit)
    def call(self, data, params=None, weights=None, *args, **kws):
        if not is_complex(data):
            return fit(self, data, params, weights, *args, **kws)
        who = f"Model {self._name!r}.fit"
        if kws.get("shared") is not None:
            raise ValueError(f"{who}: complex data is not supported with shared=")
        if kws.get("statistic", "chi2") != "chi2":
            raise ValueError(f"{who}: complex data needs statistic='chi2'")
        z = np.asarray(data)
        if z.ndim not in (1, 2) or z.shape[-1] == 0:
            raise ValueError(f"{who}: complex data must have shape (m,) or (N, m), got {z.shape}")
        m = z.shape[-1]
        view = copy.copy(self)
        view.eval_fn = RealView(self.eval_fn, m)
        result = fit(view, as_real(z), params, _real_weights(weights, m, who), *args, **kws)
        ex = result.extras
        best = as_complex(ex["best_fit"])
        upd = {"model": self, "data": z.reshape(best.shape), "best_fit": best}
        if ex.get("weights") is not None:
            upd["weights"] = np.asarray(ex["weights"])[..., ::2]
        if ex.get("mask") is not None:
            mk = np.asarray(ex["mask"])
            upd["mask"] = mk[..., ::2] & mk[..., 1::2]
        ex.update(upd)
        return result

    return call
