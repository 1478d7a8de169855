"""API parity with lmfit (issue 13): result attributes and methods, nan_policy,
fit_kws and fit_report's text, each run beside lmfit on the same fit."""

import json

import jax.numpy as jnp
import lmfit
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import batchfit as bf

TIGHT = {"xtol": 1e-15, "ftol": 1e-15}
RNG = np.random.default_rng(13)
X = np.linspace(0, 3, 40)
Y = 2.0 * np.exp(-1.3 * X) + 0.1 + RNG.normal(0, 0.02, X.size)


def decay(x, a, k, c=0.0):
    return a * jnp.exp(-k * x) + c


def decay_np(x, a, k, c=0.0):
    return a * np.exp(-k * x) + c


decay_np.__name__ = "decay"  # the same model name in both reports


def _params(lib, model):
    model.set_param_hint("h", expr="a*2")  # a derived parameter (no argument of decay)
    p = model.make_params(a=1.0, k=1.0, c=0.0)
    p["c"].set(expr="0.1")  # a tied argument of decay
    return p


@pytest.fixture(scope="module")
def both():
    ours = bf.Model(decay)
    ref = lmfit.Model(decay_np)
    res = ours.fit(Y, _params(bf, ours), x=X, fit_kws=dict(TIGHT))
    lr = ref.fit(Y, _params(lmfit, ref), x=X, fit_kws=dict(TIGHT))
    assert res.success and lr.success
    return res, lr


def _in_stderr(ours, ref, names, lr, tol=1e-4):
    for n in names:
        err = lr.params[n].stderr or 1.0
        assert abs(ours[n] - ref[n]) <= tol * err, n


def test_values_best_values_init_values_as_lmfit(both):
    res, lr = both
    assert list(res.values) == list(lr.params.valuesdict()) == ["a", "k", "c", "h"]
    assert list(res.best_values) == list(lr.best_values) == ["a", "k", "c"]  # h is derived: left out
    _in_stderr(res.values, lr.params.valuesdict(), ["a", "k", "c", "h"], lr)
    _in_stderr(res.best_values, lr.best_values, ["a", "k", "c"], lr)
    assert res.init_values == lr.init_values == {"a": 1.0, "k": 1.0, "c": 0.1}
    np.testing.assert_array_equal(res.init_vals, lr.init_vals)
    assert res.var_names == lr.var_names
    assert res.valuesdict() == res.values
    np.testing.assert_array_equal(res.values_all, [res.values[n] for n in res.values])  # the raw array
    ip = res.init_params
    assert [ip[n].value for n in ("a", "k", "c")] == [lr.init_params[n].value for n in ("a", "k", "c")]


def test_fits_rsquared_userkws_model_and_eval(both):
    res, lr = both
    np.testing.assert_allclose(res.init_fit, lr.init_fit, rtol=1e-14)
    near = 1e-4 * 0.02  # the two optima agree to 1e-4 of the noise (and of each stderr)
    np.testing.assert_allclose(res.best_fit, lr.best_fit, rtol=0, atol=near)
    np.testing.assert_allclose(res.best_fit, decay_np(X, **res.best_values), rtol=1e-13)
    assert res.rsquared == pytest.approx(lr.rsquared, rel=1e-10)
    y = np.asarray(res.data)
    assert res.rsquared == pytest.approx(1 - np.sum((y - res.best_fit) ** 2) / np.sum((y - y.mean()) ** 2),
                                         rel=1e-13)
    assert list(res.userkws) == list(lr.userkws) == ["x"]
    np.testing.assert_array_equal(res.userkws["x"], lr.userkws["x"])
    assert isinstance(res.model, bf.Model) and res.model.name == lr.model.name == "Model(decay)"
    xn = np.linspace(0, 5, 7)
    np.testing.assert_allclose(res.eval(x=xn), lr.eval(x=xn), rtol=0, atol=near)
    np.testing.assert_allclose(res.eval(x=xn), decay_np(xn, **res.best_values), rtol=1e-13)
    np.testing.assert_allclose(res.eval(), res.best_fit, rtol=1e-13)
    start = res.init_params
    np.testing.assert_allclose(res.eval(start, x=xn), lr.eval(lr.init_params, x=xn), rtol=1e-14)


def test_eval_components_of_a_composite_as_lmfit():
    from batchfit.models import ConstantModel, GaussianModel

    x = np.linspace(-3, 3, 61)
    y = 2.0 * np.exp(-x**2 / 0.5) + 0.3 + RNG.normal(0, 0.01, x.size)
    ours = GaussianModel(prefix="g_") + ConstantModel()
    ref = lmfit.models.GaussianModel(prefix="g_") + lmfit.models.ConstantModel()
    start = {"g_amplitude": 1.0, "g_center": 0.1, "g_sigma": 1.0, "c": 0.0}
    res = ours.fit(y, ours.make_params(**start), x=x, fit_kws=dict(TIGHT))
    lr = ref.fit(y, ref.make_params(**start), x=x, fit_kws=dict(TIGHT))
    mine, theirs = res.eval_components(), lr.eval_components()
    assert sorted(mine) == sorted(theirs) == ["constant", "g_"]
    np.testing.assert_allclose(mine["g_"], theirs["g_"], rtol=0, atol=1e-4 * 0.01)
    np.testing.assert_allclose(np.broadcast_to(mine["constant"], x.shape),
                               np.broadcast_to(theirs["constant"], x.shape), rtol=0, atol=1e-4 * 0.01)
    v = res.best_values
    gauss = v["g_amplitude"] / (v["g_sigma"] * np.sqrt(2 * np.pi)) * np.exp(-(x - v["g_center"]) ** 2
                                                                           / (2 * v["g_sigma"] ** 2))
    np.testing.assert_allclose(mine["g_"], gauss, rtol=1e-12)
    assert res.rsquared == pytest.approx(lr.rsquared, rel=1e-9)


def test_summary_as_lmfit(both):
    res, lr = both
    mine, theirs = res.summary(), lr.summary()
    assert set(theirs) <= set(mine)
    for k in ("method", "ndata", "nvarys", "nfree", "errorbars", "success", "var_names", "nan_policy",
              "scale_covar", "model"):
        assert mine[k] == theirs[k], k
    for k in ("chisqr", "redchi", "aic", "bic", "rsquared"):
        assert mine[k] == pytest.approx(theirs[k], rel=1e-8), k
    assert mine["init_values"] == theirs["init_values"]
    assert list(mine["best_values"]) == list(theirs["best_values"])
    assert [p[0] for p in mine["params"]] == [p[0] for p in theirs["params"]]
    for p, q in zip(mine["params"], theirs["params"]):
        assert len(p) == len(q) == 11 and p[2:6] == q[2:6], p[0]  # vary, expr, min, max
        assert p[7] == pytest.approx(q[7], rel=1e-5), p[0]  # stderr
    json.dumps(mine)  # plain Python objects
    assert mine["ier"] == int(res.status) and mine["message"] == res.message


def _as_ours(lr, res):
    """lmfit's result with our numbers: its fit_report must then print our text."""
    for n, p in res.params.items():
        q = lr.params[n]
        if q.expr is None:
            q.value = float(p.value)
        q.stderr = float(p.stderr)
        q.init_value = None if p.init_value is None else float(p.init_value)
        q.correl = None if getattr(p, "correl", None) is None else {m: float(c) for m, c in p.correl.items()}
    for k in ("chisqr", "redchi", "aic", "bic"):
        setattr(lr, k, float(getattr(res, k)))
    lr.nfev, lr.ndata = int(res.nfev), int(res.ndata)
    if getattr(res, "rsquared", None) is not None:
        lr.rsquared = float(res.rsquared)
    return lr


@pytest.mark.parametrize("kw", [{}, {"show_correl": False}, {"min_correl": 0.9}, {"sort_pars": True},
                                {"correl_mode": "table"}, {"sort_pars": lambda n: n[::-1]}])
def test_model_fit_report_is_lmfits_text(both, kw):
    res, lr = both
    lr = _as_ours(lr, res)
    assert res.fit_report(**kw) == lr.fit_report(**kw)
    assert bf.fit_report(res, **kw) == lr.fit_report(**kw)


def test_report_modelpars_and_report_fit(both, capsys):
    res, lr = both
    lr = _as_ours(lr, res)
    truth = lmfit.Parameters()
    truth.add("a", 2.0)
    truth.add("k", 1.3)
    assert bf.fit_report(res, modelpars=truth) == lr.fit_report(modelpars=truth)
    assert "(init = 1), model_value = 2" in bf.fit_report(res, modelpars=truth)
    bf.report_fit(res, min_correl=0.5)
    assert capsys.readouterr().out == lr.fit_report(min_correl=0.5) + "\n"
    with pytest.raises(ValueError, match="correl_mode"):
        bf.fit_report(res, correl_mode="grid")


def _objective(p, x, y):
    return p["a"] * jnp.exp(-p["k"] * x) + p["c"] - y


def _objective_np(p, x, y):
    return p["a"] * np.exp(-p["k"] * x) + p["c"] - y


def _min_params(lib):
    p = lib.Parameters()
    p.add("a", 1.0)
    p.add("k", 1.0, min=0)
    p.add("c", 0.1, vary=False)
    p.add("h", expr="2*a")
    return p


def test_minimize_result_and_report_as_lmfit():
    res = bf.minimize(_objective, _min_params(bf), args=(X, Y), **TIGHT)
    lr = lmfit.minimize(_objective_np, _min_params(lmfit), args=(X, Y), **TIGHT)
    assert res.init_values == lr.init_values == {"a": 1.0, "k": 1.0}  # var_names only, as lmfit
    np.testing.assert_array_equal(res.init_vals, lr.init_vals)
    assert list(res.values) == list(lr.params.valuesdict())
    _in_stderr(res.values, lr.params.valuesdict(), ["a", "k", "h"], lr)
    assert list(res.best_values) == ["a", "k", "c"]  # no model: every parameter that is not tied
    assert res.rsquared is None and res.init_fit is None and res.userkws == {}
    with pytest.raises(ValueError, match="needs the Model"):
        res.eval()
    text = bf.fit_report(res)
    assert "[[Model]]" not in text and "R-squared" not in text and "    c:  0.1 (fixed)" in text
    assert text == lmfit.fit_report(_as_ours(lr, res))
    assert text == res.fit_report()


def test_parameters_report_as_lmfit():
    res = bf.minimize(_objective, _min_params(bf), args=(X, Y), **TIGHT)
    lr = _as_ours(lmfit.minimize(_objective_np, _min_params(lmfit), args=(X, Y), **TIGHT), res)
    assert bf.fit_report(res.params) == lmfit.fit_report(lr.params)


def test_batch_values_are_arrays_over_the_fits():
    Yb = np.stack([Y, 1.5 * Y, 0.5 * Y + 0.2])
    model = bf.Model(decay)
    res = model.fit(Yb, _params(bf, model), x=X)
    assert list(res.best_values) == ["a", "k", "c"] and res.values["h"].shape == (3,)
    assert res.rsquared.shape == (3,) and res.eval().shape == (3, X.size)
    for i in range(3):
        one = res[i]
        assert {n: float(v[i]) for n, v in res.values.items()} == one.values
        assert one.rsquared == pytest.approx(float(res.rsquared[i]), rel=1e-14)
        np.testing.assert_allclose(one.eval(), res.eval()[i], rtol=1e-14)
        lr = lmfit.Model(decay_np).fit(Yb[i], _params(lmfit, lmfit.Model(decay_np)), x=X,
                                       fit_kws=dict(TIGHT))
        assert one.rsquared == pytest.approx(lr.rsquared, rel=1e-6)
    json.dumps(res.summary())


def test_minimize_nan_policy_as_lmfit(no_solve):
    y = Y.copy()
    y[[3, 17]] = np.nan
    with pytest.raises(ValueError, match=r"args\[1\] contains NaN or inf \(first at index \(3,\)\)"):
        bf.minimize(_objective, _min_params(bf), args=(X, y))  # raised before compiling
    with pytest.raises(ValueError, match="NaN"):
        lmfit.minimize(_objective_np, _min_params(lmfit), args=(X, y))
    with pytest.raises(ValueError, match="kws\\['y'\\] contains NaN"):
        bf.minimize(lambda p, x, y: _objective(p, x, y), _min_params(bf), args=(X,), kws={"y": y})
    with pytest.raises(ValueError, match="nan_policy must be one of"):
        bf.minimize(_objective, _min_params(bf), args=(X, Y), nan_policy="drop")


def test_minimize_nan_policy_omit_and_propagate():
    y = Y.copy()
    y[[3, 17]] = np.nan
    res = bf.minimize(_objective, _min_params(bf), args=(X, y), nan_policy="omit", **TIGHT)
    lr = lmfit.minimize(_objective_np, _min_params(lmfit), args=(X, y), nan_policy="omit", **TIGHT)
    assert res.success and res.ndata == lr.ndata == X.size - 2 and res.nfree == lr.nfree
    _in_stderr(res.values, lr.params.valuesdict(), ["a", "k", "h"], lr)
    for k in ("chisqr", "redchi", "aic", "bic"):
        assert getattr(res, k) == pytest.approx(getattr(lr, k), rel=1e-8), k
    for n in ("a", "k"):  # lmfit's finite-difference Jacobian: 1e-4
        assert res.params[n].stderr == pytest.approx(lr.params[n].stderr, rel=1e-4), n
    a, k, xo = res.values["a"], res.values["k"], X[np.isfinite(y)]  # the exact Jacobian, by hand
    J = np.stack([np.exp(-k * xo), -a * xo * np.exp(-k * xo)], axis=1)
    err = np.sqrt(np.diag(np.linalg.inv(J.T @ J)) * res.redchi)
    np.testing.assert_allclose([res.params["a"].stderr, res.params["k"].stderr], err, rtol=1e-9)
    ok = np.isfinite(y)
    clean = bf.minimize(_objective, _min_params(bf), args=(X[ok], y[ok]), **TIGHT)
    assert res.chisqr == pytest.approx(clean.chisqr, rel=1e-12)
    bad = bf.minimize(_objective, _min_params(bf), args=(X, y), nan_policy="propagate")
    assert bad.status == bf.RESULTS.NONFINITE_START and not bad.success and not bad.errorbars


def test_fit_kws_are_solver_options_as_lmfit(no_solve):
    model = bf.Model(decay)
    with pytest.raises(TypeError, match="unknown solver option 'bogus' in fit_kws"):
        model.fit(Y, model.make_params(a=1, k=1), x=X, fit_kws={"bogus": 1})
    with pytest.raises(TypeError, match="unknown solver option 'bogus'"):
        bf.minimize(_objective, _min_params(bf), args=(X, Y), bogus=1)


def test_fit_kws_maxfev_and_epsfcn():
    model = bf.Model(decay)
    p = model.make_params(a=1, k=1, c=0)
    capped = model.fit(Y, p, x=X, fit_kws={"maxfev": 3})
    assert capped.status == bf.RESULTS.MAX_NFEV and capped.nfev == 3 and not capped.success
    assert capped.max_nfev == 3
    res = model.fit(Y, p, x=X, fit_kws={"epsfcn": 1e-3, **TIGHT})  # epsfcn: accepted, unused
    same = model.fit(Y, p, x=X, fit_kws=dict(TIGHT))
    assert res.values == same.values
    lr = lmfit.Model(decay_np).fit(Y, lmfit.Model(decay_np).make_params(a=1, k=1, c=0), x=X,
                                   fit_kws={"epsfcn": 1e-10, **TIGHT})
    _in_stderr(res.values, lr.params.valuesdict(), ["a", "k", "c"], lr)


def test_plot_methods_draw_what_lmfit_draws(both):
    res, lr = both
    try:
        ax = res.plot_fit(show_init=True, datafmt="s")
        ref = plt.figure().gca()
        lr.plot_fit(ax=ref, show_init=True, datafmt="s")
        lines = {ln.get_label(): ln for ln in ax.get_lines()}
        theirs = {ln.get_label(): ln for ln in ref.get_lines()}
        assert {"best fit", "initial fit"} <= set(lines) and {"best fit", "initial fit"} <= set(theirs)
        np.testing.assert_allclose(lines["best fit"].get_ydata(), theirs["best fit"].get_ydata(), atol=2e-6)
        np.testing.assert_allclose(lines["initial fit"].get_ydata(), theirs["initial fit"].get_ydata(),
                                   rtol=1e-14)
        assert ax.get_xlabel() == ref.get_xlabel() == "x"
        axr = plt.figure().gca()
        res.plot_residuals(ax=axr)
        pts = [ln for ln in axr.get_lines() if ln.get_marker() == "o"]
        np.testing.assert_allclose(pts[0].get_ydata(), res.best_fit - res.data, rtol=1e-14)
        fig = res.plot(datafmt="s", numpoints=200)
        top, bottom = fig.axes
        assert top.get_ylabel() == "residuals" and len(bottom.get_lines()[-1].get_xdata()) == 200
    finally:
        plt.close("all")
