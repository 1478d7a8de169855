# Ported from lmfit 1.3.4, tests/test_params_set.py (rewritten for batchfit:
# `lmfit` -> `batchfit`); the unseeded noise of the original is seeded.
import numpy as np
from numpy.testing import assert_allclose

from batchfit.models import VoigtModel
from batchfit.models.lineshapes import gaussian


def test_param_set():
    np.random.seed(2015)
    x = np.arange(0, 20, 0.05)
    y = gaussian(x, amplitude=15.43, center=4.5, sigma=2.13)
    y = y + 0.05 - 0.01 * x + np.random.normal(scale=0.03, size=len(x))

    model = VoigtModel()
    params = model.guess(y, x=x)

    assert params['gamma'].expr == 'sigma'
    params.update_constraints()
    sigval = params['gamma'].value
    assert_allclose(params['gamma'].value, sigval, 1e-4, 1e-4, '', True)

    gamval = 0.87543
    params['gamma'].set(value=gamval)
    assert params['gamma'].expr is None
    assert not params['gamma'].vary
    assert_allclose(params['gamma'].value, gamval, 1e-4, 1e-4, '', True)

    params['gamma'].set(expr='sigma/2.0')
    assert params['gamma'].expr is not None
    assert not params['gamma'].vary
    params.update_constraints()
    assert_allclose(params['gamma'].value, sigval / 2.0, 1e-4, 1e-4, '', True)

    gamval = 0.7777
    params['gamma'].set(value=gamval, vary=True)
    assert params['gamma'].expr is None
    assert params['gamma'].vary
    assert_allclose(params['gamma'].value, gamval, 1e-4, 1e-4, '', True)

    amplitude_vary = params['amplitude'].vary
    amplitude_expr = params['amplitude'].expr
    params['amplitude'].set(min=0.0, max=100.0)
    assert_allclose(params['amplitude'].min, 0.0, 1e-4, 1e-4, '', True)
    assert_allclose(params['amplitude'].max, 100.0, 1e-4, 1e-4, '', True)
    params['amplitude'].set(value=40.0)
    assert_allclose(params['amplitude'].value, 40.0, 1e-4, 1e-4, '', True)
    assert_allclose(params['amplitude'].min, 0.0, 1e-4, 1e-4, '', True)
    assert_allclose(params['amplitude'].max, 100.0, 1e-4, 1e-4, '', True)
    assert params['amplitude'].expr == amplitude_expr
    assert params['amplitude'].vary == amplitude_vary

    params['amplitude'].set(value=35.0)
    assert_allclose(params['amplitude'].value, 35.0, 1e-4, 1e-4, '', True)
    assert params['amplitude'].vary == amplitude_vary
    assert params['amplitude'].expr == amplitude_expr

    params['amplitude'].set(min=10.0)
    assert_allclose(params['amplitude'].value, 35.0, 1e-4, 1e-4, '', True)
    assert_allclose(params['amplitude'].min, 10.0, 1e-4, 1e-4, '', True)
    assert_allclose(params['amplitude'].max, 100.0, 1e-4, 1e-4, '', True)

    params['amplitude'].set(max=110.0)
    assert_allclose(params['amplitude'].value, 35.0, 1e-4, 1e-4, '', True)
    assert_allclose(params['amplitude'].min, 10.0, 1e-4, 1e-4, '', True)
    assert_allclose(params['amplitude'].max, 110.0, 1e-4, 1e-4, '', True)

    params['amplitude'].set(vary=False)
    assert_allclose(params['amplitude'].value, 35.0, 1e-4, 1e-4, '', True)
    assert params['amplitude'].vary is False
