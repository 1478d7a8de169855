# Ported from lmfit 1.3.4, tests/test_nose.py (rewritten for batchfit:
# `lmfit` -> `batchfit`, `np` -> `jnp` inside the objectives, seeded noise).
# Porting changes beyond the rename:
# - lmfit's `if abs(shift) > pi/2: shift = shift - sign(shift)*pi` is
#   `jnp.where(...)` (Python `if` on a traced value does not trace; README).
# - Data are made by calling the objective with `p_true.valuesdict()`:
#   outside a fit jnp functions do not take a `Parameter` object (JAX 0.10
#   refuses objects it would convert with `__jax_array__`).
# - CommonMinimizerTest runs over the scalar methods of lmfit's table that
#   batchfit has (L-BFGS-B, through optax); Nelder-Mead, Powell, CG, BFGS,
#   TNC, COBYLA, SLSQP, the trust-* methods and differential_evolution are
#   lmfit's scipy methods that batchfit does not claim.
# - test_scalar_minimize_has_no_uncertainties: the scalar method is
#   L-BFGS-B (Nelder-Mead is not claimed); batchfit computes the Hessian by
#   autodiff, so the assertions are lmfit's for HAS_NUMDIFFTOOLS = True.
# Left out:
# - test_ufloat: tests the `uncertainties` package, not lmfit.
# - test_diffev_bounds_check: differential_evolution is not claimed.
# - test_coerce_float64_function: `lmfit.minimizer.coerce_float64` is an
#   internal helper of lmfit's, not API.
# - test_emcee* (emcee sampling, its chains, pools, lnpost and penalty): not
#   claimed.
import jax.numpy as jnp
import numpy as np
import pytest
from numpy import pi
from numpy.testing import assert_allclose, assert_equal

from batchfit import Minimizer, Parameters, minimize
from batchfit.models import SineModel
from batchfit.models.lineshapes import gaussian

HAS_NUMDIFFTOOLS = True  # batchfit's scalar methods compute the Hessian by autodiff

# lmfit's SCALAR_METHODS entries that batchfit runs (key -> scipy name; lmfit's
# second key for L-BFGS-B, 'l-bfgsb', names the same method and is not rerun)
SCALAR_METHODS = {"lbfgsb": "L-BFGS-B"}


def check(para, real_val, sig=3):
    err = abs(para.value - real_val)
    assert err < sig * para.stderr


def check_wo_stderr(para, real_val, sig=0.1):
    err = abs(para.value - real_val)
    assert err < sig


def check_paras(para_fit, para_real, sig=3):
    for i in para_fit:
        check(para_fit[i], para_real[i].value, sig=sig)


def _sine_data():
    rng = np.random.RandomState(1)
    x = np.linspace(0, 15, 301)
    data = (5. * np.sin(2 * x - 0.1) * np.exp(-x*x*0.025) + rng.normal(size=len(x), scale=0.2))
    return x, data


def _fcn2min(params, x, data):
    amp = params['amp']
    shift = params['shift']
    omega = params['omega']
    decay = params['decay']
    model = amp * jnp.sin(x * omega + shift) * jnp.exp(-x*x*decay)
    return model - data


def _sine_params():
    params = Parameters()
    params.add('amp', value=10, min=0)
    params.add('decay', value=0.1)
    params.add('shift', value=0.0, min=-pi/2., max=pi/2)
    params.add('omega', value=3.0)
    return params


def test_simple():
    x, data = _sine_data()
    result = minimize(_fcn2min, _sine_params(), args=(x, data))
    for para, val in zip(result.params.values(), [5, 0.025, -.1, 2]):
        check(para, val)


def _decay_residual(pars, x, data=None):
    amp = pars['amp']
    per = pars['period']
    shift = pars['shift']
    decay = pars['decay']
    shift = jnp.where(jnp.abs(shift) > pi/2, shift - jnp.sign(shift) * pi, shift)
    model = amp * jnp.sin(shift + x / per) * jnp.exp(-x * x * decay * decay)
    if data is None:
        return model
    return model - data


def _decay_true():
    p_true = Parameters()
    p_true.add('amp', value=14.0)
    p_true.add('period', value=5.33)
    p_true.add('shift', value=0.123)
    p_true.add('decay', value=0.010)
    return p_true


def _decay_fit_params():
    fit_params = Parameters()
    fit_params.add('amp', value=11.0, min=5, max=20)
    fit_params.add('period', value=5., min=1., max=7)
    fit_params.add('shift', value=.10, min=0.0, max=0.2)
    fit_params.add('decay', value=6.e-3, min=0, max=0.1)
    return fit_params


def test_lbfgsb():
    p_true = _decay_true()
    n = 2500
    noise = np.random.RandomState(11).normal(scale=0.7215, size=n)
    x = np.linspace(0., 250.0, n)
    data = np.asarray(_decay_residual(p_true.valuesdict(), x)) + noise

    out = minimize(_decay_residual, _decay_fit_params(), method='lbfgsb', args=(x,), kws={'data': data})
    for para, true_para in zip(out.params.values(), p_true.values()):
        check_wo_stderr(para, true_para.value)


def test_derive():
    # lmfit's second fit passes an analytic Jacobian (Dfun, col_deriv), which
    # batchfit accepts and leaves unused (its Jacobians are exact, by autodiff)
    def func(pars, x, data=None):
        model = pars['a'] * jnp.exp(-pars['b'] * x) + pars['c']
        if data is None:
            return model
        return model - data

    def dfunc(pars, x, data=None):
        v = np.exp(-pars['b']*x)
        return np.array([v, -pars['a']*x*v, np.ones(len(x))])

    def f(var, x):
        return var[0] * np.exp(-var[1] * x) + var[2]

    params1 = Parameters()
    params1.add('a', value=10)
    params1.add('b', value=10)
    params1.add('c', value=10)

    params2 = Parameters()
    params2.add('a', value=10)
    params2.add('b', value=10)
    params2.add('c', value=10)

    a, b, c = 2.5, 1.3, 0.8
    x = np.linspace(0, 4, 50)
    y = f([a, b, c], x)
    data = y + 0.15*np.random.RandomState(12).normal(size=len(x))

    min1 = Minimizer(func, params1, fcn_args=(x,), fcn_kws={'data': data})
    out1 = min1.leastsq()

    min2 = Minimizer(func, params2, fcn_args=(x,), fcn_kws={'data': data})
    out2 = min2.leastsq(Dfun=dfunc, col_deriv=1)

    check_wo_stderr(out1.params['a'], out2.params['a'].value, 0.00005)
    check_wo_stderr(out1.params['b'], out2.params['b'].value, 0.00005)
    check_wo_stderr(out1.params['c'], out2.params['c'].value, 0.00005)


def test_peakfit():
    def residual(pars, x, data=None):
        g1 = gaussian(x, pars['a1'], pars['c1'], pars['w1'])
        g2 = gaussian(x, pars['a2'], pars['c2'], pars['w2'])
        model = g1 + g2
        if data is None:
            return model
        return model - data

    n = 601
    noise = np.random.RandomState(13).normal(scale=.65, size=n)
    x = np.linspace(0., 15.0, n)

    org_params = Parameters()
    org_params.add_many(('a1', 12.0, True, None, None, None),
                        ('c1', 5.3, True, None, None, None),
                        ('w1', 1.0, True, None, None, None),
                        ('a2', 9.1, True, None, None, None),
                        ('c2', 8.1, True, None, None, None),
                        ('w2', 2.5, True, None, None, None))

    data = np.asarray(residual(org_params.valuesdict(), x)) + noise

    fit_params = Parameters()
    fit_params.add_many(('a1', 8.0, True, None, 14., None),
                        ('c1', 5.0, True, None, None, None),
                        ('w1', 0.7, True, None, None, None),
                        ('a2', 3.1, True, None, None, None),
                        ('c2', 8.8, True, None, None, None))

    fit_params.add('w2', expr='2.5*w1')

    myfit = Minimizer(residual, fit_params, fcn_args=(x,), fcn_kws={'data': data})

    myfit.prepare_fit()
    out = myfit.leastsq()
    check_paras(out.params, org_params)


def test_scalar_minimize_has_no_uncertainties():
    x, data = _sine_data()
    mini = Minimizer(_fcn2min, _sine_params(), fcn_args=(x, data))
    out = mini.minimize()
    assert np.isfinite(out.params['amp'].stderr)
    assert out.errorbars
    out2 = mini.minimize(method='L-BFGS-B')

    for par in ('amp', 'decay', 'shift', 'omega'):
        assert HAS_NUMDIFFTOOLS == (out2.params[par].stderr is not None)
        assert HAS_NUMDIFFTOOLS == (out2.params[par].correl is not None)

    assert HAS_NUMDIFFTOOLS == out2.errorbars


def test_scalar_minimize_reduce_fcn():
    # lmfit's np.random.seed(2) and the same sequence of draws
    rng = np.random.RandomState(2)
    x = np.linspace(0, 10, 101)

    yo = 1.0 + 2.0*np.sin(4*x) * np.exp(-x / 5)
    y = yo + rng.normal(size=len(yo), scale=0.250)
    outliers = rng.randint(int(len(x)/3.0), len(x), int(len(x)/12))
    y[outliers] += 5*rng.random_sample(len(outliers))

    def objfunc(pars, x, data):
        decay = pars['decay']
        offset = pars['offset']
        omega = pars['omega']
        amp = pars['amp']
        model = offset + amp * jnp.sin(x*omega) * jnp.exp(-x/decay)
        return model - data

    params = Parameters()
    params.add('offset', 2.0)
    params.add('omega', 3.3)
    params.add('amp', 2.5)
    params.add('decay', 1.0)

    method = 'L-BFGS-B'
    out1 = minimize(objfunc, params, args=(x, y), method=method)
    out2 = minimize(objfunc, params, args=(x, y), method=method, reduce_fcn='neglogcauchy')

    assert_allclose(out1.params['omega'].value, 4.0, rtol=0.01)
    assert_allclose(out1.params['decay'].value, 7.6, rtol=0.01)

    assert_allclose(out2.params['omega'].value, 4.0, rtol=0.01)
    assert_allclose(out2.params['decay'].value, 5.8, rtol=0.01)


def test_multidimensional_fit_GH205():
    # the objective need not flatten its output (GH205)
    pos = np.linspace(0, 99, 100)
    xv, yv = np.meshgrid(pos, pos)

    def f(xv, yv, lambda1, lambda2):
        return jnp.sin(xv * lambda1) + jnp.cos(yv * lambda2)

    data = np.asarray(f(xv, yv, 0.3, 3))
    assert data.ndim == 2

    def fcn2min(params, xv, yv, data):
        model = f(xv, yv, params['lambda1'], params['lambda2'])
        return model - data

    params = Parameters()
    params.add('lambda1', value=0.4)
    params.add('lambda2', value=3.2)

    mini = Minimizer(fcn2min, params, fcn_args=(xv, yv, data))
    mini.minimize()


def test_stderr_propagation():
    """Propagation of uncertainties to constraint expressions."""
    model = SineModel()
    params = model.make_params(amplitude=1, frequency=9.0, shift=0)
    params.add("period", expr="1/frequency")
    params.add("period_2a", expr="2*period")
    params.add("period_2b", expr="2/frequency")
    params.add("thing_1", expr="shift + frequency")
    params.add("thing_2", expr="shift + 1/period")

    rng = np.random.RandomState(3)
    xs = np.linspace(0, 1, 51)
    ys = np.sin(7.45 * xs) + 0.01 * rng.normal(size=xs.shape)

    result = model.fit(ys, x=xs, params=params)

    opars = result.params
    assert_allclose(opars['period'].stderr, 1.1587e-04, rtol=1.e-3)
    assert_allclose(opars['period_2b'].stderr, 2.3175e-04, rtol=1.e-3)
    assert_allclose(opars['thing_1'].stderr, 0.0037291, rtol=1.e-3)

    assert_allclose(opars['period_2a'].stderr, 2*opars['period'].stderr, rtol=1.e-5)
    assert_allclose(opars['period_2b'].stderr, opars['period_2a'].stderr, rtol=1.e-5)
    assert_allclose(opars['thing_1'].stderr, opars['thing_2'].stderr, rtol=1.e-5)


class TestCommonMinimizer:
    """lmfit's CommonMinimizerTest (unittest.TestCase -> a pytest class)."""

    def setup_method(self):
        self.p_true = _decay_true()
        n = 2500
        noise = np.random.RandomState(14).normal(scale=0.7215, size=n)
        self.x = np.linspace(0., 250.0, n)
        self.data = np.asarray(self.residual(self.p_true.valuesdict(), self.x)) + noise
        self.fit_params = _decay_fit_params()
        self.mini = Minimizer(self.residual, self.fit_params, [self.x, self.data])

    def residual(self, pars, x, data=None):
        return _decay_residual(pars, x, data)

    @pytest.mark.parametrize("method", sorted(SCALAR_METHODS))
    def test_scalar_minimizers(self, method):
        self.minimizer = SCALAR_METHODS[method]
        self.scalar_minimizer(sig=0.15)

    def scalar_minimizer(self, sig=0.15):
        out = self.mini.scalar_minimize(method=self.minimizer)

        self.residual(out.params.valuesdict(), self.x)

        for para, true_para in zip(out.params.values(), self.p_true.values()):
            check_wo_stderr(para, true_para.value, sig=sig)

    def test_coerce_float64(self):
        # a NaN in the data is an error unless nan_policy is 'omit'
        self.data[0] = np.nan

        for method in SCALAR_METHODS:
            pytest.raises(ValueError, self.mini.scalar_minimize, SCALAR_METHODS[method])

        pytest.raises(ValueError, self.mini.minimize)

        # now check that the fit proceeds if nan_policy is 'omit'
        self.mini.nan_policy = 'omit'
        res = self.mini.minimize()
        assert_equal(res.ndata, np.size(self.data, 0) - 1)

        for para, true_para in zip(res.params.values(), self.p_true.values()):
            check_wo_stderr(para, true_para.value, sig=0.15)
