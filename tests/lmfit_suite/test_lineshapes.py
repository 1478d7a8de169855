# Ported from lmfit 1.3.4, tests/test_lineshapes.py (rewritten for batchfit:
# `lmfit` -> `batchfit`, seeded noise).
import inspect

import numpy as np
import pytest
from numpy.testing import assert_almost_equal

import batchfit
from batchfit.models import BoseModel, FermiModel, lineshapes
from batchfit.models.lineshapes import not_zero, tiny


@pytest.mark.parametrize("value, expected_result", [(1, 1.0), (-1, -1.0), (0, tiny), (-0, -tiny)])
def test_not_zero(value, expected_result):
    assert_almost_equal(not_zero(value), expected_result)


def _default_args(sig, first, special=None):
    args = [first]
    for par in list(sig.parameters)[1:]:
        args.append((special or {}).get(par, sig.parameters[par].default))
    return args


@pytest.mark.parametrize("lineshape", lineshapes.functions)
def test_no_ZeroDivisionError_and_finite_output(lineshape):
    xvals = np.linspace(0, 10, 100)
    func = getattr(lineshapes, lineshape)
    assert callable(func)
    sig = inspect.signature(func)
    mid = xvals.mean()
    for par_zero in [p for p in sig.parameters if p not in ("x", "form")]:
        special = {"center": 0.5 * mid, "center1": 0.25 * mid, "center2": 0.75 * mid, par_zero: 0.0}
        out = func(*_default_args(sig, xvals, special))
        assert len(xvals) == len(out)
        assert np.all(np.isfinite(out))


@pytest.mark.parametrize("lineshape", lineshapes.functions)
def test_x_float_value(lineshape):
    func = getattr(lineshapes, lineshape)
    out = func(*_default_args(inspect.signature(func), 7.0))
    assert isinstance(out, float)


rising_form = ["erf", "logistic", "atan", "arctan", "linear", "unknown"]


def _check_form(func, form):
    """An unknown ``form`` is lmfit's ValueError; a known one gives one value per x."""
    xvals = np.linspace(0, 10, 100)
    args = _default_args(inspect.signature(func), xvals, {"form": form})
    if form == "unknown":
        with pytest.raises(ValueError, match=r"Invalid value .* for argument .*; should be one of .*"):
            func(*args)
    else:
        assert len(func(*args)) == len(xvals)


@pytest.mark.parametrize("form", rising_form)
@pytest.mark.parametrize("lineshape", ["step", "rectangle"])
def test_form_argument_step_rectangle(form, lineshape):
    _check_form(getattr(lineshapes, lineshape), form)


@pytest.mark.parametrize("form", rising_form)
@pytest.mark.parametrize("lineshape", ["step", "rectangle"])
def test_value_step_rectangle(form, lineshape):
    func = getattr(lineshapes, lineshape)
    assert_almost_equal(func(0), 0.5)
    if lineshape == "rectangle":
        assert_almost_equal(func(1), 0.5)


@pytest.mark.parametrize("form", ["bose", "maxwell", "fermi", "Bose-Einstein", "unknown"])
def test_form_argument_thermal_distribution(form):
    _check_form(lineshapes.thermal_distribution, form)


def _fit(model, ytrue, xdat, seed, **pars):
    ydat = ytrue + np.random.default_rng(seed).normal(size=len(xdat), scale=0.4)
    return model.fit(ydat, model.make_params(**pars), x=xdat)


def test_bose_model():
    xdat = np.linspace(0, 300, 100)
    ytrue = lineshapes.bose(xdat, amplitude=15, center=-4.0, kt=26.3)
    result = _fit(BoseModel(), ytrue, xdat, 10, amplitude={"value": 10, "min": 0},
                  center={"value": -2, "max": -0.001}, kt={"value": 15, "min": 0})
    assert 10 < result.nfev < 500
    assert 3 < result.chisqr < 300
    assert result.errorbars
    assert 12.0 < result.params["amplitude"].value < 20.0
    assert 0.4 < result.params["amplitude"].stderr < 2.0
    assert -8.0 < result.params["center"].value < -1.0
    assert 0.002 < result.params["center"].stderr < 0.4


def test_fermi_model():
    xdat = np.linspace(0, 300, 100)
    ytrue = lineshapes.fermi(xdat, amplitude=15, center=123.0, kt=26.3)
    result = _fit(FermiModel(), ytrue, xdat, 11, amplitude={"value": 10, "min": 0},
                  center={"value": 100, "min": 0}, kt={"value": 15, "min": 0})
    # lmfit's `result.nfev > 10` is left out (deliberate): batchfit's nfev counts
    # exact-Jacobian evaluations, no finite differences (8 here; README, "Porting from lmfit")
    assert result.nfev < 500
    assert 3 < result.chisqr < 300
    assert result.errorbars
    assert 12.0 < result.params["amplitude"].value < 20.0
    assert 0.02 < result.params["amplitude"].stderr < 1.0
    assert 110.0 < result.params["center"].value < 150.0
    assert 0.2 < result.params["center"].stderr < 3.0


assert batchfit  # the package, as lmfit's test imports lmfit
