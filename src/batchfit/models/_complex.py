"""lmfit's ComplexConstantModel: ``re + 1j*im`` at every x, for complex data."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ._basic import _Model1D


def constant(x, re=0.0, im=0.0):
    """``(re + 1j*im)`` at every ``x`` (lmfit's ComplexConstantModel function)."""
    return (re + 1j * im) * jnp.ones(jnp.shape(x))


class ComplexConstantModel(_Model1D):
    """``re + 1j*im`` at every x (lmfit's), fitted to complex data by the
    residual's real and imaginary parts; guess: the mean of each part.

    Example:
      >>> import numpy as np
      >>> from batchfit.models import ComplexConstantModel
      >>> x = np.linspace(0, 1, 5)
      >>> r = ComplexConstantModel().fit(np.full(5, 2.0 - 1.0j), x=x, re=0.5, im=0.5)
      >>> round(r.params["re"].value, 9), round(r.params["im"].value, 9)
      (2.0, -1.0)
    """

    _func = staticmethod(constant)
    _min_points = 1

    def guess(self, data, x=None, **kwargs):
        """``re`` and ``im`` from the mean of each part of each dataset
        ((N,) arrays for data of shape (N, m)); keywords override them."""
        z = np.asarray(data)
        if z.ndim not in (1, 2) or z.shape[-1] == 0:
            raise ValueError(f"ComplexConstantModel.guess: data must have shape (m,) or (N, m), got {z.shape}")
        pars = self.make_params()
        for name, part in (("re", z.real), ("im", z.imag)):
            v = np.nanmean(part, axis=-1)
            pars[self.prefix + name].set(value=float(v) if np.ndim(v) == 0 else v)
        for k, v in kwargs.items():
            if self.prefix + k not in pars:
                raise KeyError(f"ComplexConstantModel.guess: unknown parameter {k!r}")
            pars[self.prefix + k].set(value=v)
        return pars
