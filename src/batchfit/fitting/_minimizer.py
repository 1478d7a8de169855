"""lmfit's ``Minimizer`` class: an objective, its Parameters and arguments,
fitted by :func:`batchfit.minimize`."""

from __future__ import annotations

from ..results._result import drop_covariance
from ._minimize import METHOD_ALIASES, minimize


class Minimizer:
    """lmfit's ``Minimizer(userfcn, params, fcn_args=(), fcn_kws=None, ...)``.

    ``minimize(method="leastsq", params=None, **kws)`` (and ``leastsq()``)
    run :func:`batchfit.minimize` on the stored objective and arguments;
    keywords given here are defaults for every call. ``calc_covar=False``
    (lmfit's) leaves a scalar method's result without covariance or
    standard errors (Levenberg-Marquardt always has them, as in lmfit). ``params`` is the
    Parameters object held (changes to it, such as a new tie, are used by
    the next call); each result holds its own fitted copy.

    Example:
      >>> import numpy as np
      >>> import batchfit as bf
      >>> x = np.linspace(0, 1, 11)
      >>> p = bf.create_params(a=0.5)
      >>> mini = bf.Minimizer(lambda pars, x: pars["a"] * x - 2 * x, p, fcn_args=(x,))
      >>> round(float(mini.minimize().params["a"].value), 9)
      2.0
    """

    def __init__(self, userfcn, params, fcn_args=None, fcn_kws=None, scale_covar=True,
                 nan_policy="raise", max_nfev=None, calc_covar=True, **kws):
        if not callable(userfcn):
            raise TypeError("Minimizer: userfcn must be callable")
        self.userfcn = userfcn
        self.params = params
        self.userargs = tuple(fcn_args or ())
        self.userkws = dict(fcn_kws or {})
        self.kws = {"scale_covar": scale_covar, "nan_policy": nan_policy, "max_nfev": max_nfev, **kws}
        self.calc_covar = calc_covar
        self.result = None

    def minimize(self, method="leastsq", params=None, **kws):
        """Fit with ``method`` from ``params`` (default: the stored ones)."""
        self.result = minimize(self.userfcn, self.params if params is None else params,
                               args=self.userargs, kws=self.userkws, method=method, **(self.kws | kws))
        if not self.calc_covar and METHOD_ALIASES.get(method) is None:
            drop_covariance(self.result)
        return self.result

    def leastsq(self, params=None, max_nfev=None, **kws):
        """Levenberg-Marquardt (lmfit's ``Minimizer.leastsq``)."""
        if max_nfev is not None:
            kws["max_nfev"] = max_nfev
        return self.minimize("leastsq", params, **kws)
