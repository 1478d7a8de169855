"""Parameters.from_lmfit / to_lmfit, and fits that agree with lmfit's."""

import sys

import jax.numpy as jnp
import lmfit
import numpy as np
import pytest

import batchfit as bf


def _lmfit_params():
    lp = lmfit.Parameters()
    lp.add("amp", 10.0, min=0, max=100)
    lp.add("cen", 0.5, min=0, max=2)
    lp.add("sigma", 1.0, min=0)
    lp.add("const", 2.0, vary=False)
    lp.add("fwhm", expr="2.3548200*sigma")
    lp["amp"].stderr = 0.25
    return lp


def _fields(p):
    return (p.name, float(p.value), float(p.min), float(p.max), bool(p.vary), p.expr,
            None if p.stderr is None else float(p.stderr))


def test_from_lmfit_copies_every_field():
    lp = _lmfit_params()
    p = bf.Parameters.from_lmfit(lp)
    assert list(p) == list(lp)
    for n in lp:
        assert _fields(p[n]) == _fields(lp[n]), n
    assert p["fwhm"].expr == "2.3548200*sigma" and not p["fwhm"].vary
    assert p.valuesdict()["fwhm"] == pytest.approx(2.35482)
    assert lp["amp"].value == 10.0  # the lmfit parameters are left as they were


def test_round_trip_through_lmfit():
    p = bf.create_params(a={"value": 1.5, "min": -1, "max": 4}, b={"value": 3.0, "vary": False},
                         c={"expr": "a * b + 1"}, d={"expr": "c / 2"}, e2=0.1)
    p["a"].stderr = 0.5
    lp = p.to_lmfit()
    assert isinstance(lp, lmfit.Parameters)
    assert lp["c"].value == pytest.approx(5.5) and lp["d"].value == pytest.approx(2.75)
    back = bf.Parameters.from_lmfit(lp)
    assert list(back) == list(p)
    for n in p:
        assert _fields(back[n]) == _fields(lp[n]), n
        assert (back[n].min, back[n].max, back[n].vary, back[n].expr, back[n].stderr) == (
            p[n].min, p[n].max, p[n].vary, p[n].expr, p[n].stderr), n


def test_fit_from_lmfit_params_agrees_with_lmfit_and_results_convert_back():
    rng = np.random.default_rng(0)
    x = np.linspace(0, 2, 150)
    y = 10 * np.exp(-((x - 1) ** 2) / (2 * 0.5**2)) + 2.0 + rng.normal(0, 0.5, x.size)

    def gauss_np(x, amp, cen, sigma, const):
        return amp * np.exp(-((x - cen) ** 2) / (2 * sigma**2)) + const

    def gauss(x, amp, cen, sigma, const):
        return amp * jnp.exp(-((x - cen) ** 2) / (2 * sigma**2)) + const

    lp = _lmfit_params()
    lp["amp"].stderr = None
    ref = lmfit.Model(gauss_np).fit(y, lp, x=x, fit_kws={"ftol": 1e-14, "xtol": 1e-14})
    res = bf.Model(gauss).fit(y, bf.Parameters.from_lmfit(lp), x=x)
    assert res.success and ref.success
    for n in ("amp", "cen", "sigma", "fwhm"):
        np.testing.assert_allclose(res.params[n].value, ref.params[n].value, rtol=1e-6)
        np.testing.assert_allclose(res.params[n].stderr, ref.params[n].stderr, rtol=1e-3)
    assert res.params["const"].value == 2.0
    out = res.params.to_lmfit()
    for n in ref.params:
        assert out[n].value == pytest.approx(ref.params[n].value, rel=1e-6)
        assert out[n].stderr == pytest.approx(ref.params[n].stderr or 0.0, rel=1e-3)
        assert (out[n].min, out[n].max, out[n].vary, out[n].expr) == (
            ref.params[n].min, ref.params[n].max, ref.params[n].vary, ref.params[n].expr)


def test_batch_arrays_are_refused_with_the_parameter_named():
    p = bf.create_params(a=1.0, b=0.0)
    p["b"].value = np.array([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"parameter 'b' value is an array of shape \(3,\).*result\[i\]"):
        p.to_lmfit()
    p["b"].value = 1.0
    p["a"].stderr = np.array([0.1, 0.2])
    with pytest.raises(ValueError, match="parameter 'a' stderr is an array"):
        p.to_lmfit()


def test_lmfit_expressions_outside_the_whitelist_are_refused():
    lp = lmfit.Parameters()
    lp.add("a", 1.0)
    lp.add("b", expr="sign(a)")
    with pytest.raises(bf.ExprError, match="parameter 'b'.*unknown function 'sign'"):
        bf.Parameters.from_lmfit(lp)


def test_to_lmfit_without_lmfit_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "lmfit", None)
    with pytest.raises(ImportError, match="pip install lmfit"):
        bf.create_params(a=1.0).to_lmfit()
