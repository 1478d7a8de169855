"""Issue 14, part 3: the bad-input gaps found. Each test fails without its fix."""

from __future__ import annotations

import json
import pickle
from types import SimpleNamespace

import jax.numpy as jnp
import numpy as np
import pytest
from checks import LINE, M, X, Y, line, raises

import batchfit as bf
from batchfit import ExprError, Model, Parameter, Parameters, create_params, minimize
from batchfit.models import GaussianModel, LinearModel
from batchfit.report._format import gformat





# -- vary --------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["no", "False", "yes", 0, 1, 2.5])
def test_vary_must_be_a_bool(bad):
    with raises(TypeError, "parameter 'amp'", "vary must be True or False"):
        Parameter("amp", 1.0, vary=bad)
    p = Parameter("amp", 1.0)
    with raises(TypeError, "parameter 'amp'", "vary"):
        p.vary = bad
    with raises(TypeError, "parameter 'amp'", "vary"):
        p.set(vary=bad)
    assert p.vary is True  # unchanged by the failed assignments


@pytest.mark.parametrize("bad", [np.array([True, False, True]), [True, False], np.ones((2, 3), bool)])
def test_vary_array_is_an_error(bad, no_solve):
    # issue 12 item 7: a boolean array is kept (per-dataset freezing in
    # shared-parameter groups) and refused by name by every other fit
    params = create_params(cen={"value": 1.0, "vary": bad}, b=0.0)
    with raises(TypeError, "parameter 'cen'", "vary", "array of shape", str(np.shape(bad))):
        minimize(lambda p: jnp.stack([p["cen"] - 1.0, p["b"], p["cen"] + p["b"]]), params)
    params = Parameters()
    with raises(TypeError, "parameter 'cen'", "vary", "boolean array"):
        params.add("cen", 1.0, vary=np.asarray(bad, dtype=float))
    assert "cen" not in params


def test_vary_numpy_bool_is_fine():
    p = Parameter("a", 1.0, vary=np.False_)
    assert p.vary is False and type(p.vary) is bool
    p.set(vary=np.bool_(True))
    assert p.vary is True


def test_vary_of_a_parameter_like_object_checked_at_fit_time(no_solve):
    # an lmfit-style object set by hand: vary="no" used to count as True
    params = {"a": SimpleNamespace(value=1.0, vary="no", min=-np.inf, max=np.inf, expr=None, name="a")}
    with raises(TypeError, "parameter 'a'", "vary must be True or False", "'no'"):
        minimize(lambda p: jnp.stack([p["a"] - 1.0, p["a"]]), params)


def test_vary_array_in_groups(no_solve):
    with raises(TypeError, "parameter 'slope'", "vary"):
        params = LINE.make_params(slope={"value": 1.0, "vary": np.array([True, False])}, intercept=0.0)
        LINE.fit(np.tile(Y, (2, 1)), params, x=X, shared=["slope"])


# -- bounds ------------------------------------------------------------------
def test_infinite_wrong_way_bounds_are_named():
    with raises(ValueError, "parameter 'k'", "min is +inf", "lower bound of +inf", "no feasible value"):
        Parameter("k", 1.0, min=np.inf)
    with raises(ValueError, "parameter 'k'", "max is -inf", "upper bound of -inf", "no feasible value"):
        Parameter("k", 1.0, max=-np.inf)
    with raises(ValueError, "parameter 'k'", "min is +inf", "fit 2 of the batch"):
        Parameter("k", 1.0, min=np.array([0.0, 1.0, np.inf]))


def test_infinite_wrong_way_bound_at_fit_time(no_solve):
    params = LINE.make_params(slope={"value": 1.0, "min": np.zeros(3)}, intercept=0.0)
    params["slope"].min[1] = np.inf  # in place, after the parameter checked it
    with raises(ValueError, "parameter 'slope'", "min is +inf", "no feasible value", "fit 1 of the batch"):
        LINE.fit(np.tile(Y, (3, 1)), params, x=X)
    assert "min == max" not in _message(lambda: LINE.fit(np.tile(Y, (3, 1)), params, x=X))


def _message(f):
    try:
        f()
    except ValueError as err:
        return str(err)
    raise AssertionError("no error")


@pytest.mark.parametrize("lo, hi, text", [(3.0, 2.0, "min > max (3.0 > 2.0)"), (1.0, 1.0, "min == max (1.0)")])
def test_bounds_checked_where_the_parameter_is_made(lo, hi, text):
    with raises(ValueError, "parameter 'a'", text):
        Parameter("a", 1.0, min=lo, max=hi)
    params = Parameters()
    with raises(ValueError, "parameter 'a'", text):
        params.add("a", 1.0, min=lo, max=hi)
    with raises(ValueError, "parameter 'a'", text):
        create_params(a={"value": 1.0, "min": lo, "max": hi})
    with raises(ValueError, "parameter 'a'", text):
        LINE.make_params(slope=1.0, intercept=0.0).add("a", 1.0, min=lo, max=hi)


def test_bounds_checked_when_changed():
    p = Parameter("a", 1.0, min=0.0, max=10.0)
    with raises(ValueError, "parameter 'a'", "min > max (20.0 > 10.0)"):
        p.min = 20.0
    with raises(ValueError, "parameter 'a'", "min == max (0.0)"):
        p.max = 0.0
    with raises(ValueError, "parameter 'a'", "min > max (5.0 > 4.0)"):
        p.set(min=5.0, max=4.0)
    assert (p.min, p.max) == (0.0, 10.0)  # a rejected change leaves the parameter as it was
    p.set(min=20.0, max=30.0)  # both at once: no transient min > max
    assert (p.min, p.max) == (20.0, 30.0)
    p.max = None
    assert p.max == np.inf


def test_array_bounds_checked_elementwise():
    lo = np.array([0.0, 1.0, 2.0, 3.0])
    hi = np.array([1.0, 2.0, 2.0, 2.0])
    with raises(ValueError, "parameter 's'", "min == max (2.0)", "fit 2 of the batch"):
        Parameter("s", 1.0, min=lo, max=hi)
    with raises(ValueError, "parameter 's'", "min > max (3.0 > 2.0)", "fit 2 of the batch"):
        Parameter("s", 1.0, min=lo[[0, 1, 3]], max=hi[[0, 1, 3]])
    p = Parameter("s", 1.0, min=lo[:2], max=hi[:2])  # fine elementwise
    with raises(ValueError, "parameter 's'", "min > max (1.5 > 1.0)", "fit 0 of the batch"):
        p.min = np.array([1.5, 0.0])
    np.testing.assert_array_equal(p.min, lo[:2])
    # scalar against array; (G, K) arrays of groups name the (g, k) index
    with raises(ValueError, "parameter 's'", "min > max", "fit 1 of the batch"):
        Parameter("s", 1.0, min=0.5, max=np.array([1.0, 0.2]))
    grid = np.ones((2, 3))
    grid[1, 2] = -1.0
    with raises(ValueError, "parameter 's'", "min > max (0.0 > -1.0)", "index (1, 2)"):
        Parameter("s", 1.0, min=0.0, max=grid)


def test_valid_bounds_fit_as_before():
    # a bound checked at creation changes nothing for a valid fit: closed-form line
    rng = np.random.default_rng(3)
    y = 2.0 * X + 1.0 + rng.normal(0, 0.05, M)
    res = LINE.fit(y, LINE.make_params(slope={"value": 1.0, "min": -5, "max": 5}, intercept=0.0), x=X)
    ref = np.polyfit(X, y, 1)
    np.testing.assert_allclose([res.params["slope"].value, res.params["intercept"].value], ref, rtol=1e-8)


# -- expressions ---------------------------------------------------------------
@pytest.mark.parametrize("expr, text", [
    ("exp(amp, cen)", "exp() takes 1 argument, got 2"),
    ("2 * sqrt()", "sqrt() takes 1 argument, got 0"),
    ("maximum(amp)", "maximum() takes 2 arguments, got 1"),
    ("where(amp > 1, cen)", "where() takes 3 arguments, got 2"),
    ("cen + arctan2(amp, cen, 1)", "arctan2() takes 2 arguments, got 3"),
])
def test_expression_call_with_wrong_number_of_arguments(expr, text):
    params = create_params(amp=1.0, cen=2.0)
    with raises(ExprError, "parameter 'tie'", text, repr(expr)):
        params.add("tie", expr=expr)
    with raises(ExprError, "parameter 'tie'", text):
        create_params(amp=1.0, cen=2.0, tie={"expr": expr})


def test_expression_arity_error_through_a_fit(no_solve):
    params = LINE.make_params(slope=1.0, intercept=0.0)
    with raises(ExprError, "parameter 'intercept'", "exp() takes 1 argument, got 2", "'exp(slope, 2)'"):
        params["intercept"].expr = "exp(slope, 2)"
        LINE.fit(Y, params, x=X)
    assert "Model" not in _message(lambda: params["intercept"].set(expr="exp(slope, 2)"))


# -- guess ---------------------------------------------------------------------
def _ragged_peaks():
    rng = np.random.default_rng(5)
    xs = [np.linspace(-3, 3, n) for n in (30, 45, 61)]
    ys = [a * np.exp(-(x - c) ** 2 / (2 * s ** 2)) + rng.normal(0, 0.01, x.size)
          for x, a, c, s in zip(xs, (1.0, 2.0, 3.0), (0.0, 0.5, -0.5), (0.5, 0.8, 1.0))]
    return xs, ys


def test_guess_on_ragged_datasets_is_per_dataset():
    xs, ys = _ragged_peaks()
    model = GaussianModel()
    batch = model.guess(ys, x=xs)
    for i, (x, y) in enumerate(zip(xs, ys)):
        one = model.guess(y, x=x)
        for n in ("amplitude", "center", "sigma"):
            assert batch[n].value.shape == (3,)
            np.testing.assert_allclose(batch[n].value[i], one[n].value, rtol=1e-12, err_msg=f"{n} {i}")
    ys_before = [y.copy() for y in ys]
    LinearModel().guess(ys, x=xs)
    for y, y0 in zip(ys, ys_before):
        np.testing.assert_array_equal(y, y0)


def test_guess_on_ragged_datasets_needs_ragged_x():
    xs, ys = _ragged_peaks()
    with raises(ValueError, "GaussianModel.guess", "unequal lengths", "x must then be a list"):
        GaussianModel().guess(ys, x=xs[0])
    with raises(ValueError, "GaussianModel.guess", "x must then be a list"):
        GaussianModel().guess(ys, x=xs[::-1])


def test_guess_on_constant_x_names_x():
    y = np.exp(-np.linspace(-1, 1, 20) ** 2)
    with raises(ValueError, "GaussianModel.guess", "all x values are equal", "x = 2", "cannot be guessed"):
        GaussianModel().guess(y, x=np.full(20, 2.0))
    xb = np.stack([np.linspace(-1, 1, 20), np.full(20, -0.5)])
    with raises(ValueError, "LinearModel.guess", "all x values are equal in dataset 1"):
        LinearModel().guess(np.stack([y, y]), x=xb)


# -- bool data -------------------------------------------------------------------
def test_bool_data_is_an_error(no_solve):
    yb = np.tile(Y > 1.8, (2, 1))
    with raises(TypeError, "data is boolean", "dtype bool"):
        LINE.fit(yb, LINE.make_params(slope=1.0, intercept=0.0), x=X)
    with raises(TypeError, "data[1] is boolean"):
        LINE.fit([Y, Y[:5] > 1], LINE.make_params(slope=1.0, intercept=0.0), x=[X, X[:5]])
    with raises(TypeError, "curve_fit: ydata is boolean"):
        bf.curve_fit(line, X, Y > 1.8, p0=[1.0, 0.0])
    # bool weights stay allowed (a 0/1 mask); a bool x converts as before
    w = np.ones(M, bool)
    with pytest.raises(AssertionError, match="solver was reached"):
        LINE.fit(Y, LINE.make_params(slope=1.0, intercept=0.0), x=X, weights=w)


# -- load_result -----------------------------------------------------------------
@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = tmp_path_factory.mktemp("saved")
    rng = np.random.default_rng(7)
    res = LINE.fit(np.stack([Y, 0.5 * Y]) + rng.normal(0, 0.01, (2, M)),
                   LINE.make_params(slope=1.0, intercept=0.0), x=X)
    res.save(folder / "r.npz")
    res.save(folder / "r.json")
    return folder, res


@pytest.mark.parametrize("ext", ["npz", "json"])
def test_truncated_file_names_the_file(saved, tmp_path, ext):
    folder, _ = saved
    raw = (folder / f"r.{ext}").read_bytes()
    path = tmp_path / f"cut.{ext}"
    path.write_bytes(raw[: len(raw) // 2])
    with raises(ValueError, "cut." + ext, "truncated"):
        bf.load_result(path)


@pytest.mark.parametrize("ext", ["npz", "json"])
def test_pickle_under_a_result_suffix(saved, tmp_path, ext):
    path = tmp_path / f"pickled.{ext}"
    path.write_bytes(pickle.dumps({"format": "batchfit.FitResult", "arrays": np.arange(3)}))
    with raises(ValueError, f"pickled.{ext}"):
        bf.load_result(path)


def test_garbage_metadata_names_file_and_field(saved, tmp_path):
    folder, _ = saved
    tree = json.loads((folder / "r.json").read_text())
    cases = {
        "spec": lambda t: t.pop("spec"),
        "spec.free": lambda t: t["spec"].__setitem__("free", "slope"),
        "params.slope": lambda t: t["params"]["slope"].__setitem__("vary", "maybe"),
        "method": lambda t: t.__setitem__("method", 3),
    }
    for field, spoil in cases.items():
        t = json.loads(json.dumps(tree))
        spoil(t)
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(t))
        with raises(ValueError, "bad.json", f"field '{field}'"):
            bf.load_result(path)
    np.savez(tmp_path / "meta.npz", __meta__=np.array("{not json"))
    with raises(ValueError, "meta.npz", "not valid JSON"):
        bf.load_result(tmp_path / "meta.npz")


@pytest.mark.parametrize("key", ["chisqr", "values_all", "covar", "residual"])
def test_arrays_of_inconsistent_lengths(saved, tmp_path, key):
    folder, _ = saved
    tree = json.loads((folder / "r.json").read_text())
    entry = tree["arrays"][key]["__ndarray__"]
    a = np.array(entry["data"]).reshape(entry["shape"])
    a = {"chisqr": np.zeros(3), "residual": a[:-1]}.get(key, a[..., :-1])  # 3 fits, 1 fit, 1 column short
    entry.update(shape=list(a.shape), data=a.ravel().tolist())
    path = tmp_path / "lengths.json"
    path.write_text(json.dumps(tree))
    with raises(ValueError, "lengths.json", f"field 'arrays.{key}'", "expected"):
        bf.load_result(path)


def test_good_files_still_load(saved):
    folder, res = saved
    for ext in ("npz", "json"):
        back = bf.load_result(folder / f"r.{ext}")
        np.testing.assert_array_equal(back.chisqr, res.chisqr)
        np.testing.assert_array_equal(back.params["slope"].stderr, res.params["slope"].stderr)


# -- statistics of a fit without data --------------------------------------------
def test_all_nan_row_has_nan_chisqr():
    rng = np.random.default_rng(11)
    data = np.stack([2.0 * X + 1.0, 0.5 * X - 1.0, -X]) + rng.normal(0, 0.02, (3, M))
    data[1] = np.nan
    res = LINE.fit(data, LINE.make_params(slope=1.0, intercept=0.0), x=X, nan_policy="omit")
    assert res.status[1] == bf.RESULTS.NO_DATA and not res.success[1] and res.ndata[1] == 0
    for attr in ("chisqr", "redchi", "aic", "bic"):
        assert np.isnan(getattr(res, attr)[1]), attr
    A = np.stack([X, np.ones(M)], 1)
    for i in (0, 2):  # neighbours: the closed-form least squares
        beta, rss, *_ = np.linalg.lstsq(A, data[i], rcond=None)
        np.testing.assert_allclose([res.params["slope"].value[i], res.params["intercept"].value[i]], beta,
                                   rtol=1e-9)
        np.testing.assert_allclose(res.chisqr[i], rss[0], rtol=1e-9)
        np.testing.assert_allclose(res.aic[i], M * np.log(rss[0] / M) + 4, rtol=1e-9)


# -- report of a fit stopped by max_nfev -----------------------------------------
def _gauss(x, amp, cen, sigma, c):
    return amp * jnp.exp(-(x - cen) ** 2 / (2 * sigma ** 2)) + c


def test_max_nfev_report_says_one_thing():
    x = np.linspace(0, 2, 150)
    y = 10 * np.exp(-(x - 1) ** 2 / 0.5) + 3 + np.random.default_rng(0).normal(0, 0.5, x.size)
    model = Model(_gauss)
    params = model.make_params(amp=5, cen=0.8, sigma=0.3, c=0)
    stopped = model.fit(y, params, x=x, max_nfev=3)
    assert stopped.status == bf.RESULTS.MAX_NFEV and not stopped.success and not stopped.errorbars
    text = bf.fit_report(stopped)
    assert "uncertainties not reported: the fit did not converge" in text
    assert "+/-" not in text and "[[Correlations]]" not in text
    assert "did not affect the fit" not in text
    done = model.fit(y, params, x=x)
    assert done.success and done.errorbars
    text = bf.fit_report(done)
    assert "+/-" in text and "uncertainties" not in text
    for n in params:
        assert f"+/-{gformat(done.params[n].stderr)}" in text


def test_max_nfev_group_report_prints_no_stderr():
    x = np.linspace(0, 2, 40)
    rng = np.random.default_rng(2)
    data = np.stack([10 * np.exp(-(x - 1) ** 2 / 0.5) + c + rng.normal(0, 0.3, x.size) for c in (1, 3)])
    model = Model(_gauss)
    params = model.make_params(amp=5, cen=0.8, sigma={"value": 0.3, "min": 0}, c=0)
    res = model.fit(data, params, x=x, shared=["amp", "cen", "sigma"], max_nfev=2)
    assert res.status == bf.RESULTS.MAX_NFEV and not res.errorbars
    text = bf.fit_report(res)
    assert "uncertainties not reported: the fit did not converge" in text
    assert "+/-" not in text and "did not affect the fit" not in text
    assert "c_1:" in text and "(init = 0)" in text
