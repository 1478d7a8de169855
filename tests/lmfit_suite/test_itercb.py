# lmfit 1.3.4, tests/test_itercb.py: left out. Every test there stops a fit
# from an iteration callback (`iter_cb`, a Python call at each evaluation);
# batchfit's fits run as compiled code with no Python call per iteration,
# so `iter_cb` is not supported. What is checked here instead: passing it is
# an error that names it, at each of lmfit's entry points, before compiling.
import numpy as np
import pytest

from batchfit import Minimizer, minimize
from batchfit.models import GaussianModel
from batchfit.models.lineshapes import gaussian

x = np.linspace(0, 20, 41)
y = gaussian(x, amplitude=24.56, center=7.6543, sigma=1.23)


def per_iteration(pars, iteration, resid, *args, **kws):
    return iteration == 23


def residual(pars, x, data):
    return data - gaussian(x, pars['amplitude'], pars['center'], pars['sigma'])


def test_itercb_refused(no_solve):
    mod = GaussianModel()
    pars = mod.make_params(amplitude=21.0, center=7.0, sigma=2.0)
    with pytest.raises(TypeError, match="iter_cb"):
        mod.fit(y, pars, x=x, iter_cb=per_iteration)
    with pytest.raises(TypeError, match="iter_cb"):
        Minimizer(residual, pars, fcn_args=(x, y), iter_cb=per_iteration)
    with pytest.raises(TypeError, match="iter_cb"):
        minimize(residual, pars, args=(x, y), iter_cb=per_iteration)
