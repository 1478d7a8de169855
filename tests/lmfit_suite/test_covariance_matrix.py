# Ported from lmfit 1.3.4, tests/test_covariance_matrix.py (rewritten for
# batchfit: `lmfit` -> `batchfit`, `np` -> `jnp` inside the objective, seeded
# noise as in lmfit). `epsfcn` is accepted and unused (exact Jacobians).
# Porting changes:
# - test_numdifftools_no_bounds runs lmfit's 'lbfgs' (L-BFGS-B, optax in
#   batchfit); its covariance is the autodiff Hessian's, so numdifftools is
#   not needed. Its 'nelder' case is left out (Nelder-Mead is not claimed).
# Left out:
# - test_numdifftools_with_bounds: nelder, basinhopping, ampgo, shgo and
#   dual_annealing are lmfit's scipy methods that batchfit does not claim.
# - test_numdifftools_calc_covar_false: Nelder-Mead and calc_covar=False (a
#   scalar fit without covariance); batchfit always computes the covariance.
# - test_final_parameter_values: its reference values are where Nelder-Mead
#   stops (chisqr 0.01462554, intercept -4.511087); the minimum, which lmfit's
#   leastsq and L-BFGS-B and batchfit's reach, is chisqr 0.01462468,
#   intercept -4.510570, so the test holds for Nelder-Mead only.
import os

import jax.numpy as jnp
import numpy as np
import pytest
from numpy import pi
from numpy.testing import assert_allclose, assert_almost_equal

from batchfit import Parameters, minimize
from batchfit.models import ExponentialModel, VoigtModel
from batchfit.models.lineshapes import exponential

DATA = os.path.join(os.path.dirname(__file__), "data", "test_peak.dat")


def check(para, real_val, sig=3):
    err = abs(para.value - real_val)
    assert err < sig * para.stderr


def test_bounded_parameters():
    rng = np.random.RandomState(1)
    x = np.linspace(0, 15, 301)
    data = (5. * np.sin(2 * x - 0.1) * np.exp(-x*x*0.025) + rng.normal(size=len(x), scale=0.2))

    def fcn2min(params, x, data):
        amp = params['amp']
        shift = params['shift']
        omega = params['omega']
        decay = params['decay']
        model = amp * jnp.sin(x * omega + shift) * jnp.exp(-x*x*decay)
        return model - data

    params = Parameters()
    params.add('amp', value=10, min=0, max=50)
    params.add('decay', value=0.1, min=0, max=10)
    params.add('shift', value=0.0, min=-pi/2., max=pi/2.)
    params.add('omega', value=3.0, min=0, max=np.inf)

    result = minimize(fcn2min, params, args=(x, data), epsfcn=1.e-14)

    for para, val in zip(result.params.values(), [5, 0.025, -.1, 2]):
        check(para, val)

    # the covariance matrix [cf. lmfit v0.9.10]
    cov_x = np.array([
        [1.42428250e-03, 9.45395985e-06, -4.33997922e-05, 1.07362106e-05],
        [9.45395985e-06, 1.84110424e-07, -2.90588963e-07, 7.19107184e-08],
        [-4.33997922e-05, -2.90588963e-07, 9.53427031e-05, -2.37750362e-05],
        [1.07362106e-05, 7.19107184e-08, -2.37750362e-05, 9.60952336e-06]])
    assert_allclose(result.covar, cov_x, rtol=1.e-3, atol=1.e-6)

    assert_almost_equal(result.params['amp'].stderr, 0.03773967, decimal=4)
    assert_almost_equal(result.params['decay'].stderr, 4.2908e-04, decimal=4)
    assert_almost_equal(result.params['shift'].stderr, 0.00976436, decimal=4)
    assert_almost_equal(result.params['omega'].stderr, 0.00309992, decimal=4)

    assert_almost_equal(result.params['amp'].correl['decay'], 0.5838166760743324, decimal=4)
    assert_almost_equal(result.params['amp'].correl['shift'], -0.11777303073961824, decimal=4)
    assert_almost_equal(result.params['amp'].correl['omega'], 0.09177027400788784, decimal=4)
    assert_almost_equal(result.params['decay'].correl['shift'], -0.0693579417651835, decimal=4)
    assert_almost_equal(result.params['decay'].correl['omega'], 0.05406342001021014, decimal=4)
    assert_almost_equal(result.params['shift'].correl['omega'], -0.7854644476455469, decimal=4)


def test_bounds_expression():
    data = np.loadtxt(DATA)
    x = data[:, 0]
    y = data[:, 1]

    mod = VoigtModel()
    params = mod.guess(y, x=x)
    params['amplitude'].set(min=0, max=100)
    params['center'].set(min=5, max=10)

    result = mod.fit(y, params, x=x, fit_kws={'epsfcn': 1.e-14})

    assert_almost_equal(result.params['sigma'].stderr, 0.00368468, decimal=4)
    assert_almost_equal(result.params['center'].stderr, 0.00505496, decimal=4)
    assert_almost_equal(result.params['amplitude'].stderr, 0.13861506, decimal=4)
    assert_almost_equal(result.params['gamma'].stderr, 0.00368468, decimal=4)
    assert_almost_equal(result.params['fwhm'].stderr, 0.01326862028, decimal=4)
    assert_almost_equal(result.params['height'].stderr, 0.0395990, decimal=4)

    assert_almost_equal(result.params['sigma'].correl['center'], -4.6623973788006615e-05, decimal=4)
    assert_almost_equal(result.params['sigma'].correl['amplitude'], 0.651304091954038, decimal=4)
    assert_almost_equal(result.params['center'].correl['amplitude'], -4.390334984618851e-05, decimal=4)


@pytest.mark.parametrize("fit_method", ['lbfgs'])
def test_numdifftools_no_bounds(fit_method):
    rng = np.random.RandomState(7)
    x = np.linspace(0, 100, num=50)
    noise = rng.normal(scale=0.25, size=x.size)
    y = exponential(x, amplitude=5, decay=15) + noise

    mod = ExponentialModel()
    params = mod.guess(y, x=x)

    result = mod.fit(y, params, x=x, method='leastsq')
    result_ndt = mod.fit(y, params, x=x, method=fit_method)

    vals = [result.params[p].value for p in result.params.valuesdict()]
    vals_ndt = [result_ndt.params[p].value for p in result_ndt.params.valuesdict()]
    assert_allclose(vals_ndt, vals, rtol=0.1)
    assert_allclose(result_ndt.chisqr, result.chisqr, rtol=1e-5)

    stderr = [result.params[p].stderr for p in result.params.valuesdict()]
    stderr_ndt = [result_ndt.params[p].stderr for p in result_ndt.params.valuesdict()]

    perr = np.array(stderr) / np.array(vals)
    perr_ndt = np.array(stderr_ndt) / np.array(vals_ndt)
    assert_almost_equal(perr_ndt, perr, decimal=3)

    for par1 in result.var_names:
        cor = [result.params[par1].correl[par2] for par2 in result.params[par1].correl.keys()]
        cor_ndt = [result_ndt.params[par1].correl[par2] for par2 in result_ndt.params[par1].correl.keys()]
        assert_almost_equal(cor_ndt, cor, decimal=2)
