# Ported from lmfit 1.3.4, tests/test_stepmodel.py (rewritten for batchfit:
# `lmfit` -> `batchfit`, seeded noise from numpy's RandomState).
import numpy as np

from batchfit.models import ConstantModel, RectangleModel, StepModel


def get_data():
    rng = np.random.RandomState(2021)
    x = np.linspace(0, 10, 201)
    dat = np.ones_like(x)
    dat[:48] = 0.0
    dat[48:77] = np.arange(77 - 48) / (77.0 - 48)
    dat = dat + 5e-2 * rng.randn(len(x))
    return x, 110.2 * dat + 12.0


def _step_plus_constant():
    x, y = get_data()
    stepmod, const = StepModel(form="linear"), ConstantModel()
    pars = stepmod.guess(y, x) + const.make_params(c=3 * y.min())
    return (stepmod + const).fit(y, pars, x=x)


def _check_common(out):
    assert out.nfev > 5
    assert out.nvarys == 4
    assert out.chisqr > 1
    assert out.params["c"].value > 3
    assert 1 < out.params["center"].value < 4
    assert out.params["amplitude"].value > 50


def test_stepmodel_linear():
    out = _step_plus_constant()
    _check_common(out)
    assert 0.5 < out.params["sigma"].value < 3.5


def test_stepmodel_erf():
    # (lmfit's test builds form='linear' here too)
    out = _step_plus_constant()
    _check_common(out)
    assert 0.2 < out.params["sigma"].value < 1.5


def test_stepmodel_stepdown():
    x = np.linspace(0, 50, 201)
    y = np.ones_like(x)
    y[129:] = 0.0
    y[109:129] = 1.0 - np.arange(20) / 20
    y = y + 5e-2 * np.random.RandomState(3).randn(len(x))
    stepmod = StepModel(form="linear")
    out = stepmod.fit(y, stepmod.guess(y, x), x=x)
    # lmfit's `out.nfev > 10` is left out (deliberate): nfev counts exact-Jacobian
    # evaluations, no finite differences (7 here; README, "Porting from lmfit")
    assert out.nvarys == 3
    assert 0.2 < out.chisqr < 5.0
    assert 28 < out.params["center"].value < 32
    assert out.params["amplitude"].value > 0.5
    assert -8.0 < out.params["sigma"].value < -2.0


def test_rectangle():
    x = np.linspace(0, 50, 201)
    y = np.ones_like(x) * 2.5
    y[:33] = 0.0
    y[162:] = 0.0
    y[33:50] = 2.5 * np.arange(50 - 33) / (50 - 33)
    y[155:162] = 2.5 * (1 - np.arange(162 - 155) / (162 - 155))
    y = y + 5e-2 * np.random.RandomState(4).randn(len(x))
    stepmod = RectangleModel(form="linear")
    out = stepmod.fit(y, stepmod.guess(y, x), x=x)
    assert out.nfev > 10
    assert out.nvarys == 5
    assert 0.2 < out.chisqr < 5.0
    assert 8 < out.params["center1"].value < 14
    assert 2.0 < out.params["amplitude"].value < 10.0
    assert 1.0 < out.params["sigma1"].value < 5.0
    assert 0.3 < out.params["sigma2"].value < 2.5
