"""Model behaves as lmfit's Model: each check builds lmfit's model beside
ours from the same function (np for lmfit, jnp for us) and compares
(issue 13, API parity)."""

import jax.numpy as jnp
import lmfit
import lmfit.models as LM
import numpy as np
import pandas as pd
import pytest

import batchfit as bf
import batchfit.models as BM


def _pair(np_func, jnp_func, **kw):
    return lmfit.Model(np_func, **kw), bf.Model(jnp_func, **kw)


def gauss_np(x, amp, cen=0.0, wid=1.0):
    return amp * np.exp(-((x - cen) ** 2) / (2 * wid**2))


def gauss(x, amp, cen=0.0, wid=1.0):
    return amp * jnp.exp(-((x - cen) ** 2) / (2 * wid**2))


def shaped_np(x, amp, cen=1.0, form="exp", flag=True, other=None):
    return amp * (np.exp(-x) if form == "exp" else x) + (cen if flag else 0.0)


def shaped(x, amp, cen=1.0, form="exp", flag=True, other=None):
    return amp * (jnp.exp(-x) if form == "exp" else x) + (cen if flag else 0.0)


def kw_np(x, a, b=0.0, **kws):
    return a * x + b


def kw_jnp(x, a, b=0.0, **kws):
    return a * x + b


def through_kwargs(x, a, **kws):
    return a * x + kws["b"]


for _f in (gauss_np, shaped_np, kw_np):  # the same function names as lmfit's side
    _f.__name__ = _f.__name__[:-3]
kw_jnp.__name__ = "kw"


def _fit_both(lm, bm, y, x, lparams, bparams, **kw):
    lres = lm.fit(y, lparams, x=x, **kw)
    bres = bm.fit(y, bparams, x=x, **kw)
    for n in lres.var_names:
        err = lres.params[n].stderr
        assert abs(float(bres.params[n].value) - lres.params[n].value) < 1e-4 * err, n
        assert float(bres.params[n].stderr) == pytest.approx(err, rel=1e-4), n
    return lres, bres


# -- name and repr ---------------------------------------------------------------
@pytest.mark.parametrize("kw", [{}, {"prefix": "p1_"}, {"name": "mine"}, {"form": "lin"},
                                {"prefix": "q_", "form": "lin"}])
def test_name_and_repr_as_lmfit(kw):
    lm, bm = _pair(shaped_np, shaped, **kw)
    assert bm.name == lm.name
    assert repr(bm) == f"<batchfit.Model: {lm.name}>"


def test_builtin_and_composite_names_as_lmfit():
    for lm, bm in [(LM.GaussianModel(), BM.GaussianModel()),
                   (LM.StepModel(form="erf", prefix="s_"), BM.StepModel(form="erf", prefix="s_")),
                   (LM.GaussianModel(prefix="g1_") + LM.ConstantModel(),
                    BM.GaussianModel(prefix="g1_") + BM.ConstantModel())]:
        assert bm.name == lm.name
    assert repr(BM.GaussianModel(prefix="g1_") + BM.ConstantModel()) == (
        "<batchfit.CompositeModel: (Model(gaussian, prefix='g1_') + Model(constant))>")
    m = bf.Model(gauss)
    m.name = "peak"
    assert m.name == "Model(peak)"


# -- reading the signature -------------------------------------------------------------
@pytest.mark.parametrize("np_func,jnp_func,kw", [
    (gauss_np, gauss, {}),
    (shaped_np, shaped, {}),
    (shaped_np, shaped, {"form": "lin"}),
    (shaped_np, shaped, {"independent_vars": ["x", "form", "flag", "other"]}),
    (kw_np, kw_jnp, {}),
    (kw_np, kw_jnp, {"param_names": ["a"]}),
    (gauss_np, gauss, {"independent_vars": ["x", "cen"]}),
])
def test_signature_read_as_lmfit(np_func, jnp_func, kw):
    lm, bm = _pair(np_func, jnp_func, **kw)
    assert bm.param_names == lm.param_names
    assert bm.independent_vars == lm.independent_vars
    assert bm.opts == lm.opts
    assert bm.def_vals == lm.def_vals
    assert bm.independent_vars_defvals == lm.independent_vars_defvals
    lp, bp = lm.make_params(), bm.make_params()
    assert list(bp) == list(lp)
    for n in lp:
        if lp[n].value is not None and np.isfinite(lp[n].value):
            assert bp[n].value == lp[n].value, n


def test_varargs_refused_as_lmfit():
    def f(x, *p):
        return x

    with pytest.raises(ValueError, match="varargs"):
        lmfit.Model(f)
    with pytest.raises(ValueError, match=r"Model 'f'.*varargs '\*p'"):
        bf.Model(f)


def test_kwargs_function_fits_as_lmfit():
    x = np.linspace(0, 2, 40)
    y = 1.7 * x + 0.4 + np.random.default_rng(5).normal(0, 0.05, x.size)
    lm, bm = _pair(kw_np, kw_jnp)
    _fit_both(lm, bm, y, x, lm.make_params(a=1, b=0), bm.make_params(a=1, b=0))
    # beyond lmfit: parameters reached only through **kwargs, named with param_names
    with pytest.raises(ValueError, match="Invalid parameter name"):
        lmfit.Model(through_kwargs, param_names=["a", "b"])
    m = bf.Model(through_kwargs, param_names=["a", "b"])
    res = m.fit(y, m.make_params(a=1, b=0), x=x)
    lres = lm.fit(y, lm.make_params(a=1, b=0), x=x)
    assert float(res.params["b"].value) == pytest.approx(lres.params["b"].value, abs=1e-4 * lres.params["b"].stderr)


def test_option_like_independent_variables_are_fixed_options():
    rng = np.random.default_rng(7)
    x = np.linspace(0, 3, 50)
    lm, bm = _pair(shaped_np, shaped)
    for form in ("exp", "lin"):
        y = shaped_np(x, 2.5, 0.7, form=form) + rng.normal(0, 0.02, x.size)
        want = shaped_np(x, 2.0, 0.5, form=form, flag=False)
        np.testing.assert_allclose(bm.eval(bm.make_params(amp=2.0, cen=0.5), x=x, form=form, flag=False),
                                   want, rtol=1e-14)
        # lmfit needs every independent variable at fit time; so do we, for the arrays only
        _fit_both(lm, bm, y, x, lm.make_params(amp=1, cen=0), bm.make_params(amp=1, cen=0),
                  form=form, flag=True, other=None)
    np.testing.assert_allclose(bm.eval(x=x, amp=2.0), shaped_np(x, 2.0), rtol=1e-14)  # defaults
    res = bm.fit(shaped_np(x, 2.5, 0.7), bm.make_params(amp=1, cen=0), x=x)  # defaults at fit too
    assert float(res.params["amp"].value) == pytest.approx(2.5, rel=1e-10)
    fixed = bf.Model(shaped, form="lin")
    np.testing.assert_allclose(fixed.eval(x=x, amp=2.0), shaped_np(x, 2.0, form="lin"), rtol=1e-14)


# -- hints, defaults, make_params --------------------------------------------------------
def test_param_hints_and_make_params_as_lmfit(capsys):
    lm, bm = _pair(gauss_np, gauss, prefix="g_")
    for m in (lm, bm):
        m.set_param_hint("wid", min=0.01, max=5)
        m.set_param_hint("g_cen", value=0.3, vary=False)
        m.set_param_hint("fwhm", expr="2.3548200*g_wid")
        m.set_param_hint("area", expr="g_amp*g_wid*2.5066283", min=0)
    assert bm.param_hints == lm.param_hints
    lm.print_param_hints()
    want = capsys.readouterr().out
    bm.print_param_hints()
    assert capsys.readouterr().out == want
    lp = lm.make_params(g_amp=3.0, wid={"value": 0.5, "max": 2})
    bp = bm.make_params(g_amp=3.0, wid={"value": 0.5, "max": 2})
    assert sorted(bp) == sorted(lp)
    for n in lp:
        p, q = bp[n], lp[n]
        assert (p.vary, p.expr) == (q.vary, q.expr), n
        assert (p.value, p.min, p.max) == pytest.approx((q.value, q.min, q.max), rel=1e-15), n


def test_settable_prefix_updates_names_and_hint_expressions():
    lm, bm = _pair(gauss_np, gauss, prefix="a_")
    for m in (lm, bm):
        m.set_param_hint("fwhm", expr="2.3548200*a_wid")
        m.prefix = "b_"
    assert bm.param_names == lm.param_names == ["b_amp", "b_cen", "b_wid"]
    p = bm.make_params(b_amp=2.0, b_wid=0.5)
    assert p["b_fwhm"].expr == "2.35482 * b_wid" and p["b_fwhm"].value == pytest.approx(1.17741)
    x = np.linspace(-2, 2, 41)
    np.testing.assert_allclose(bm.eval(p, x=x), gauss_np(x, 2.0, 0.0, 0.5), rtol=1e-14)
    g = BM.GaussianModel(prefix="p1_")
    g.prefix = "p2_"
    gp = g.make_params(p2_amplitude=1, p2_center=0, p2_sigma=2)
    assert gp["p2_fwhm"].value == pytest.approx(LM.GaussianModel(prefix="p2_").make_params(
        amplitude=1, center=0, sigma=2)["p2_fwhm"].value, rel=1e-6)


def test_eval_overrides_are_carried_into_ties():
    x = np.linspace(-3, 3, 61)

    def build(m):
        p = m.make_params(amp=2.0, cen=0.1, wid=1.0)
        p["wid"].expr = "amp/4"
        return p

    lm, bm = _pair(gauss_np, gauss)
    want = lm.eval(build(lm), x=x, amp=3.0)
    np.testing.assert_allclose(want, gauss_np(x, 3.0, 0.1, 0.75), rtol=1e-14)
    bp = build(bm)
    np.testing.assert_allclose(bm.eval(bp, x=x, amp=3.0), want, rtol=1e-14)
    assert bp["amp"].value == 2.0 and bp["wid"].value == 0.5  # the params are not changed


# -- pandas ---------------------------------------------------------------------------
def test_pandas_series_aligned_by_index_as_lmfit():
    rng = np.random.default_rng(11)
    x = np.linspace(-3, 3, 60)
    y = gauss_np(x, 2.0, 0.3, 0.8) + rng.normal(0, 0.02, x.size)
    order = rng.permutation(x.size)
    ys = pd.Series(y[order], index=order)  # data and x in different orders, aligned by label
    xs = pd.Series(np.r_[x, 99.0], index=np.r_[np.arange(x.size), 1000])  # an extra label: dropped
    lm, bm = _pair(gauss_np, gauss)
    _, bres = _fit_both(lm, bm, ys, xs, lm.make_params(amp=1, cen=0, wid=1),
                           bm.make_params(amp=1, cen=0, wid=1))
    plain = bm.fit(y, bm.make_params(amp=1, cen=0, wid=1), x=x)
    for n in ("amp", "cen", "wid"):
        assert float(bres.params[n].value) == pytest.approx(float(plain.params[n].value), rel=1e-12)
    with pytest.raises(ValueError, match=r"independent variable 'x'.*index label"):
        bm.fit(ys, bm.make_params(amp=1, cen=0, wid=1), x=xs.iloc[5:])


def test_pandas_dataframe_is_one_fit_per_column():
    rng = np.random.default_rng(12)
    x = np.linspace(-3, 3, 50)
    cols = {c: gauss_np(x, a, 0.2, 0.9) + rng.normal(0, 0.02, x.size) for c, a in (("u", 1.5), ("v", 2.5))}
    df = pd.DataFrame(cols, index=np.arange(x.size))[::-1]  # rows reversed: aligned by label
    bm = bf.Model(gauss)
    res = bm.fit(df, bm.make_params(amp=1, cen=0, wid=1), x=pd.Series(x))
    arr = bm.fit(np.stack([cols["u"], cols["v"]]), bm.make_params(amp=1, cen=0, wid=1), x=x)
    for n in ("amp", "cen", "wid"):
        np.testing.assert_allclose(res.params[n].value, arr.params[n].value, rtol=1e-12)
    assert res.params["amp"].value == pytest.approx([1.5, 2.5], abs=0.05)
