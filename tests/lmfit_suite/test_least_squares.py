# Ported from lmfit 1.3.4, tests/test_least_squares.py (rewritten for
# batchfit: `lmfit` -> `batchfit`, `np` -> `jnp` inside the objectives,
# seeded noise as in lmfit). batchfit solves method='least_squares' with its
# Levenberg-Marquardt solver (exact Jacobians): lmfit's user Jacobians
# (`jac=`, `Dfun=`) and `epsfcn` are accepted and unused.
# Porting changes:
# - `if abs(shift) > pi/2` is `jnp.where(...)` (README: Python `if` on a
#   traced value); the data are made with `p_true.valuesdict()` (outside a
#   fit jnp functions do not take a Parameter object).
# - lmfit's conftest fixture `peakdata` (examples/test_peak.dat) is defined here.
# Left out:
# - test_least_squares_solver_options: prints scipy's `verbose=2` progress
#   report; batchfit runs no scipy solver.
# - test_aborted_least_squares: asserts that scipy's trust-region solver
#   does not converge within max_nfev=400 on this two-peak problem;
#   batchfit's LM, like lmfit's leastsq, converges (chisqr 165781.07, the
#   same minimum as lmfit's leastsq) in 50 evaluations. The abort at a
#   max_nfev is tested in test_minimizer.py and test_max_nfev.py.
import os

import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.sparse import bsr_matrix
from scipy.sparse.linalg import aslinearoperator

import batchfit as lmfit
from batchfit.models import VoigtModel


@pytest.fixture
def peakdata():
    return np.loadtxt(os.path.join(os.path.dirname(__file__), "data", "test_peak.dat")).T


def test_least_squares_with_bounds():
    """least_squares algorithm with bounds."""
    p_true = lmfit.Parameters()
    p_true.add('amp', value=14.0)
    p_true.add('period', value=5.4321)
    p_true.add('shift', value=0.12345)
    p_true.add('decay', value=0.01000)

    def residual(pars, x, data=None):
        amp = pars['amp']
        per = pars['period']
        shift = pars['shift']
        decay = pars['decay']
        shift = jnp.where(jnp.abs(shift) > np.pi/2, shift - jnp.sign(shift)*np.pi, shift)
        model = amp*jnp.sin(shift + x/per) * jnp.exp(-x*x*decay*decay)
        if data is None:
            return model
        return model - data

    rng = np.random.RandomState(0)
    x = np.linspace(0.0, 250.0, 1500)
    noise = rng.normal(scale=2.80, size=x.size)
    data = np.asarray(residual(p_true.valuesdict(), x)) + noise

    fit_params = lmfit.Parameters()
    fit_params.add('amp', value=13.0, min=0.0, max=20)
    fit_params.add('period', value=2, max=10)
    fit_params.add('shift', value=0.0, min=-np.pi/2., max=np.pi/2.)
    fit_params.add('decay', value=0.02, min=0.0, max=0.10)

    mini = lmfit.Minimizer(residual, fit_params, fcn_args=(x, data))
    out = mini.minimize(method='least_squares')

    assert out.method == 'least_squares'
    assert out.nfev > 10
    assert out.nfree > 50
    assert out.chisqr > 1.0
    assert out.errorbars
    assert out.success
    assert_allclose(out.params['decay'], p_true['decay'], rtol=1e-2)
    assert_allclose(out.params['shift'], p_true['shift'], rtol=1e-2)


@pytest.mark.parametrize("bounds", [False, True])
def test_least_squares_cov_x(peakdata, bounds):
    """Covariance matrix from the Jacobian, with and without bounds."""
    x = peakdata[0]
    y = peakdata[1]

    mod = VoigtModel()
    params = mod.guess(y, x=x)

    if bounds:
        params['amplitude'].set(min=25, max=70)
        params['sigma'].set(min=0, max=1)
        params['center'].set(min=5, max=15)
    else:
        params['sigma'].set(min=-np.inf)

    result = mod.fit(y, params, x=x, method='least_squares')
    result_lsq = mod.fit(y, params, x=x, method='leastsq', fit_kws={'epsfcn': 1.e-14})

    vals = [result.params[p].value for p in result.params.valuesdict()]
    vals_lsq = [result_lsq.params[p].value for p in result_lsq.params.valuesdict()]
    assert_allclose(vals, vals_lsq, rtol=1e-5)
    assert_allclose(result.chisqr, result_lsq.chisqr)

    stderr = [result.params[p].stderr for p in result.params.valuesdict()]
    stderr_lsq = [result_lsq.params[p].stderr for p in result_lsq.params.valuesdict()]
    assert_allclose(stderr, stderr_lsq, rtol=1e-4)

    for par1 in result.var_names:
        cor = [result.params[par1].correl[par2] for par2 in result.params[par1].correl.keys()]
        cor_lsq = [result_lsq.params[par1].correl[par2] for par2 in result_lsq.params[par1].correl.keys()]
        assert_allclose(cor, cor_lsq, rtol=0.01, atol=1.e-6)


def test_least_squares_jacobian_types():
    """Jacobians of every type least_squares takes (accepted, unused)."""
    a = np.random.RandomState(42).normal(0, 1, 50)
    b = np.random.RandomState(43).normal(0, 1, 50)

    def f(params):
        return (params['x'] - a)**2 + (params['y'] - b)**2

    def jac_array(params, *args, **kwargs):
        return np.column_stack((2 * params[0] - 2 * a, 2 * params[1] - 2 * b))

    def jac_sparse(params, *args, **kwargs):
        return bsr_matrix(jac_array(params, *args, **kwargs))

    def jac_operator(params, *args, **kwargs):
        return aslinearoperator(jac_array(params, *args, **kwargs))

    params = lmfit.Parameters()
    params.add('x', value=0)
    params.add('y', value=0)
    result = lmfit.minimize(f, params, method='least_squares')
    result_array = lmfit.minimize(f, params, method='least_squares', jac=jac_array)
    result_sparse = lmfit.minimize(f, params, method='least_squares', jac=jac_sparse)
    result_operator = lmfit.minimize(f, params, method='least_squares', jac=jac_operator)
    assert result.errorbars
    assert result_array.errorbars
    assert result_sparse.errorbars
    assert result_operator.errorbars
    assert_allclose(result.covar, result_array.covar)
    assert_allclose(result.covar, result_sparse.covar)
    assert_allclose(result.covar, result_operator.covar)
