"""lmfit's ``Minimizer`` class: an objective, its Parameters and arguments,
fitted by :func:`batchfit.minimize`."""

from __future__ import annotations

from ..problem._pack import make_spec
from ..results._result import drop_covariance
from ._methods import canonical_method
from ._minimize import minimize
from ._scalar import SCALAR_METHODS


class PreparedFit:
    """What lmfit's ``Minimizer.prepare_fit`` returns before a fit: a copy of
    the Parameters (``stderr`` and ``correl`` None, ``init_value`` set), the
    varying parameters ``var_names``, their ``init_vals`` and ``nvarys``."""

    def __init__(self, params):
        spec = make_spec(params)
        self.params = params.copy()
        for p in self.params.values():
            p.stderr = None
            p.correl = None
            p.init_value = p.value
        self.var_names = list(spec.free)
        self.init_vals = [self.params[n].value for n in self.var_names]
        self.init_values = dict(zip(self.var_names, self.init_vals))
        self.nvarys = len(self.var_names)
        self.nfev = 0
        self.covar = None
        self.errorbars = False
        self.aborted = False
        self.success = True


class Minimizer:
    """lmfit's ``Minimizer(userfcn, params, fcn_args=None, fcn_kws=None,
    iter_cb=None, scale_covar=True, nan_policy='raise', reduce_fcn=None,
    calc_covar=True, max_nfev=None, **kws)``.

    ``minimize(method="leastsq", params=None, **kws)`` (and ``leastsq()``,
    ``least_squares()``, ``scalar_minimize(method)``) run
    :func:`batchfit.minimize` on the stored objective and arguments, with the
    attributes ``scale_covar``, ``nan_policy``, ``reduce_fcn`` (scalar
    methods) and ``max_nfev`` as lmfit reads them at each call; keywords
    given here are defaults for every call. After a fit ``max_nfev`` holds
    the limit used (lmfit's). ``params`` is the Parameters object held
    (changes to it, such as a new tie, are used by the next call); each
    result holds its own fitted copy. ``iter_cb`` (a Python call at every
    evaluation) is not supported: the fit runs as compiled code.
    ``calc_covar=False`` (lmfit's) leaves a scalar method's result without
    covariance or standard errors (Levenberg-Marquardt always has them, as
    in lmfit).

    Example:
      >>> import numpy as np
      >>> import batchfit as bf
      >>> x = np.linspace(0, 1, 11)
      >>> p = bf.create_params(a=0.5)
      >>> mini = bf.Minimizer(lambda pars, x: pars["a"] * x - 2 * x, p, fcn_args=(x,))
      >>> round(float(mini.minimize().params["a"].value), 9)
      2.0
    """

    def __init__(self, userfcn, params, fcn_args=None, fcn_kws=None, iter_cb=None, scale_covar=True,
                 nan_policy="raise", reduce_fcn=None, calc_covar=True, max_nfev=None, **kws):
        if not callable(userfcn):
            raise TypeError("Minimizer: userfcn must be callable")
        if iter_cb is not None:
            raise TypeError("Minimizer: iter_cb is not supported (the fit runs as compiled code, with no "
                            "Python call per iteration); pass iter_cb=None")
        self.userfcn = userfcn
        self.params = params
        self.userargs = tuple(fcn_args or ())
        self.userkws = dict(fcn_kws or {})
        self.iter_cb = None
        self.scale_covar = scale_covar
        self.nan_policy = nan_policy
        self.reduce_fcn = reduce_fcn
        self.calc_covar = calc_covar
        self.max_nfev = max_nfev
        self.kws = dict(kws)
        self.result = None

    def prepare_fit(self, params=None) -> PreparedFit:
        """lmfit's: check the Parameters (``params`` replaces the stored ones)
        and return their copy with ``var_names``, ``init_vals`` and ``nvarys``."""
        if params is not None:
            self.params = params
        self.result = PreparedFit(self.params)
        return self.result

    def minimize(self, method="leastsq", params=None, **kws):
        """Fit with ``method`` from ``params`` (default: the stored ones)."""
        method = canonical_method(method)
        opts = {"scale_covar": self.scale_covar, "nan_policy": self.nan_policy, **self.kws, **kws}
        if opts.get("max_nfev") is None:
            opts["max_nfev"] = self.max_nfev
        if method in SCALAR_METHODS and "reduce_fcn" not in opts:
            opts["reduce_fcn"] = self.reduce_fcn
        if params is not None:
            self.params = params
        self.result = minimize(self.userfcn, self.params, args=self.userargs, kws=self.userkws,
                               method=method, **opts)
        self.max_nfev = self.result.extras.get("max_nfev", self.max_nfev)
        if not self.calc_covar and method in SCALAR_METHODS:  # lmfit: LM always has a covariance
            drop_covariance(self.result)
        return self.result

    def leastsq(self, params=None, max_nfev=None, **kws):
        """Levenberg-Marquardt (lmfit's ``Minimizer.leastsq``)."""
        return self.minimize("leastsq", params, max_nfev=max_nfev, **kws)

    def least_squares(self, params=None, max_nfev=None, **kws):
        """lmfit's ``Minimizer.least_squares``: batchfit's Levenberg-Marquardt solver."""
        return self.minimize("least_squares", params, max_nfev=max_nfev, **kws)

    def scalar_minimize(self, method="Nelder-Mead", params=None, max_nfev=None, **kws):
        """A scalar method (lmfit's ``scalar_minimize``); batchfit runs the
        ones of :data:`SCALAR_METHODS` (``"L-BFGS-B"``, ...) through optax."""
        if canonical_method(method) not in SCALAR_METHODS:
            raise ValueError(f"Minimizer.scalar_minimize: method must be one of {sorted(SCALAR_METHODS)} "
                             f"(case-insensitive), got {method!r}")
        return self.minimize(method, params, max_nfev=max_nfev, **kws)
