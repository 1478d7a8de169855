# Ported from lmfit 1.3.4, tests/test_max_nfev.py (rewritten for batchfit:
# `lmfit` -> `batchfit`, seeded noise as in lmfit).
# The methods are those of lmfit's list that batchfit has: 'leastsq' and
# 'least_squares' (the same LM solver); nelder, brute, ampgo, basinhopping,
# differential_evolution, shgo and dual_annealing are lmfit's scipy methods
# that batchfit does not claim.
# Left out: test_default_max_nfev for 'least_squares': batchfit solves it
# with its LM solver and leastsq's default limit, 2000*(nvarys+1) (lmfit's
# scipy least_squares: 1000*(nvarys+1)).
import numpy as np
import pytest

from batchfit import Minimizer
from batchfit.models import GaussianModel, LinearModel
from batchfit.models.lineshapes import gaussian

nvarys = 5
methods = ['leastsq', 'least_squares']


@pytest.fixture
def modelGaussian():
    """Return data, parameters and Model class for Gaussian + Linear model."""
    rng = np.random.RandomState(7)
    x = np.linspace(0, 20, 401)
    y = gaussian(x, amplitude=24.56, center=7.6543, sigma=1.23)
    y -= 0.20*x + 3.333 + rng.normal(scale=0.23, size=len(x))

    mod = GaussianModel(prefix='peak_') + LinearModel(prefix='bkg_')

    pars = mod.make_params(peak_amplitude=21.0, peak_center=7.0,
                           peak_sigma=2.0, bkg_intercept=2, bkg_slope=0.0)

    pars['bkg_intercept'].set(min=0, max=10, brute_step=5.0)
    pars['bkg_slope'].set(min=-5, max=5, brute_step=5.0)
    pars['peak_amplitude'].set(min=20, max=25, brute_step=2.5)
    pars['peak_center'].set(min=5, max=10, brute_step=2.5)
    pars['peak_sigma'].set(min=0.5, max=2, brute_step=0.5)

    return x, y, mod, pars


@pytest.fixture
def minimizerGaussian(modelGaussian):
    """Return a Minimizer for the Gaussian + Linear model."""
    x, y, _, pars = modelGaussian

    def residual(params, x, y):
        pars = params.valuesdict()
        model = (gaussian(x, pars['peak_amplitude'], pars['peak_center'],
                          pars['peak_sigma']) +
                 pars['bkg_intercept'] + x*pars['bkg_slope'])
        return y - model

    return Minimizer(residual, pars, fcn_args=(x, y))


@pytest.mark.parametrize("method", methods)
def test_max_nfev_Minimizer(minimizerGaussian, method):
    """The max_nfev argument, Minimizer interface."""
    result = minimizerGaussian.minimize(method=method, max_nfev=10)
    assert minimizerGaussian.max_nfev == 10
    assert result.nfev < 15
    assert result.aborted
    assert not result.errorbars
    assert not result.success


@pytest.mark.parametrize("method", methods)
def test_max_nfev_Model(modelGaussian, minimizerGaussian, method):
    """The max_nfev argument, Model interface."""
    x, y, mod, pars = modelGaussian
    out = mod.fit(y, pars, x=x, method=method, max_nfev=10)

    assert out.max_nfev == 10
    assert out.nfev < 15
    assert out.aborted
    assert not out.errorbars
    assert not out.success


@pytest.mark.parametrize("method, default_max_nfev", [('leastsq', 2000*(nvarys+1))])
def test_default_max_nfev(modelGaussian, minimizerGaussian, method, default_max_nfev):
    """The default values when max_nfev=None."""
    x, y, mod, pars = modelGaussian
    result = mod.fit(y, pars, x=x, method=method, max_nfev=None)
    assert result.max_nfev == default_max_nfev

    _ = minimizerGaussian.minimize(method=method, max_nfev=None)
    assert minimizerGaussian.max_nfev == default_max_nfev
