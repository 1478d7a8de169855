"""Bad inputs fail early (before the solver compiles) with messages naming the culprit."""

from __future__ import annotations


import jax.numpy as jnp
import numpy as np
import pytest
from checks import LINE, M, X, Y, line, raises

from batchfit import RESULTS, ExprError, LMConfig, Model, Parameters, create_params, minimize



def P(**kw):
    base = {"slope": 1.0, "intercept": 0.0}
    base.update(kw)
    return LINE.make_params(**base)




# --------------------------------------------------------------------------
# data / x / weights
# --------------------------------------------------------------------------
def test_x_shape_mismatch(no_solve):
    with raises(ValueError, "x has shape (5,)", "(8,)"):
        LINE.fit(Y, P(), x=X[:5])


def test_x_batch_shape_mismatch(no_solve):
    Yb = np.tile(Y, (3, 1))
    with raises(ValueError, "x has shape (2, 8)", "(3, 8)"):
        LINE.fit(Yb, P(), x=np.tile(X, (2, 1)))


def test_x_batched_for_single_dataset(no_solve):
    with raises(ValueError, "x has shape (3, 8)", "(8,)"):
        LINE.fit(Y, P(), x=np.tile(X, (3, 1)))


@pytest.mark.parametrize("w", [np.ones(3), np.ones((2, M)), np.ones((M, 1))])
def test_weights_shape_mismatch(no_solve, w):
    with raises(ValueError, f"weights has shape {w.shape}"):
        LINE.fit(Y, P(), x=X, weights=w)


def test_weights_batch_shape_mismatch(no_solve):
    with raises(ValueError, "weights has shape (2, 8)", "(3, 8)"):
        LINE.fit(np.tile(Y, (3, 1)), P(), x=X, weights=np.ones((2, M)))


def test_data_three_dimensional(no_solve):
    with raises(ValueError, "data must have shape", "(2, 3, 8)"):
        LINE.fit(np.ones((2, 3, M)), P(), x=X)


def test_data_scalar(no_solve):
    with raises(ValueError, "data must have shape"):
        LINE.fit(np.float64(1.0), P(), x=X)


def test_empty_data(no_solve):
    with raises(ValueError, "data is empty"):
        LINE.fit(np.array([]), P(), x=np.array([]))


def test_no_datasets(no_solve):
    with raises(ValueError, "no datasets", "N = 0"):
        LINE.fit(np.zeros((0, M)), P(), x=X)


def test_more_free_parameters_than_points(no_solve):
    with raises(ValueError, "Model 'line'", "2 free parameters", "1"):
        LINE.fit(Y[:1], P(), x=X[:1])


def test_more_free_parameters_than_points_minimize(no_solve):
    def obj(p):
        return jnp.array([p["a"] + p["b"] - 1.0])

    with raises(ValueError, "objective 'obj'", "2 free parameters", "only 1 residuals"):
        minimize(obj, create_params(a=1.0, b=2.0))


def test_every_fit_left_with_too_few_points(no_solve):
    Yb = np.tile(Y, (2, 1))
    Yb[:, 1:] = np.nan  # each fit keeps one valid point for two parameters
    with raises(ValueError, "2 free parameters", "at most 1 valid data points"):
        LINE.fit(Yb, P(), x=X, nan_policy="omit")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_data_raise_by_default(no_solve, bad):
    y = Y.copy()
    y[3] = bad
    with raises(ValueError, "data contains NaN or inf", "data[3]", "nan_policy"):
        LINE.fit(y, P(), x=X)


def test_nan_in_batch_data_names_position(no_solve):
    Yb = np.tile(Y, (3, 1))
    Yb[2, 5] = np.nan
    with raises(ValueError, "data[2, 5]"):
        LINE.fit(Yb, P(), x=X, nan_policy="raise")


def test_unknown_nan_policy(no_solve):
    with raises(ValueError, "nan_policy", "'bogus'"):
        LINE.fit(Y, P(), x=X, nan_policy="bogus")


def test_nan_in_x(no_solve):
    x = X.copy()
    x[2] = np.nan
    with raises(ValueError, "x contains NaN or inf"):
        LINE.fit(Y, P(), x=x, nan_policy="omit")


@pytest.mark.parametrize("w", [-1.0, np.where(np.arange(M) == 4, -0.5, 1.0)])
def test_negative_weights(no_solve, w):
    with raises(ValueError, "weights must be >= 0"):
        LINE.fit(Y, P(), x=X, weights=w)


def test_nan_weights(no_solve):
    with raises(ValueError, "weights contain NaN or inf"):
        LINE.fit(Y, P(), x=X, weights=np.where(np.arange(M) == 2, np.nan, 1.0))


@pytest.mark.parametrize(
    "data,exc,msg",
    [
        (np.array(["a"] * M), TypeError, "data must be numeric"),
    ],
    ids=["strings"],  # complex data is fitted as lmfit fits it (tests/test_complex.py)
)
def test_non_numeric_data(no_solve, data, exc, msg):
    with raises(exc, msg):
        LINE.fit(data, P(), x=X)


def test_missing_and_unexpected_independent_vars(no_solve):
    with raises(ValueError, "Model 'line'", "independent variable", "'x'"):
        LINE.fit(Y, P())
    with raises(TypeError, "Model 'line'", "unexpected keyword", "'z'"):
        LINE.fit(Y, P(), x=X, z=X)


def test_params_missing_a_model_parameter(no_solve):
    with raises(ValueError, "Model 'line'", "params lacks", "'intercept'"):
        LINE.fit(Y, create_params(slope=1.0), x=X)


# --------------------------------------------------------------------------
# parameters and bounds
# --------------------------------------------------------------------------
@pytest.mark.parametrize("start", [5.0, -5.0])
def test_start_outside_later_bounds_is_clipped_at_the_fit_as_lmfit(start):
    """A value is clipped to bounds set before it, and a value outside bounds
    set after it is clipped at the fit: lmfit's rule, run beside lmfit."""
    lmfit = pytest.importorskip("lmfit")
    params = P(slope=start)
    params["slope"].set(min=-1.0, max=2.0)
    res = LINE.fit(Y, params, x=X)
    lparams = lmfit.Model(lambda x, slope, intercept: slope * x + intercept).make_params(slope=start, intercept=0.0)
    lparams["slope"].set(min=-1.0, max=2.0)
    ref = lmfit.Model(lambda x, slope, intercept: slope * x + intercept).fit(Y, lparams, x=X)
    assert res.init_values["slope"] == ref.init_values["slope"] == min(max(start, -1.0), 2.0)
    assert P(slope={"value": start, "min": -1.0, "max": 2.0})["slope"].value == min(max(start, -1.0), 2.0)


def test_start_outside_bounds_in_batch_is_clipped_per_fit():
    params = P(slope=np.array([0.0, 0.5, 3.0]))
    params["slope"].set(min=0.0, max=1.0)
    res = LINE.fit(np.tile(Y, (3, 1)), params, x=X)
    np.testing.assert_array_equal(res.init_values["slope"], [0.0, 0.5, 1.0])


def test_min_greater_than_max(no_solve):
    with raises(ValueError, "parameter 'intercept'", "min > max", "3.0 > 2.0"):
        LINE.fit(Y, P(intercept={"value": 2.5, "min": 3.0, "max": 2.0}), x=X)


def test_min_equal_max(no_solve):
    with raises(ValueError, "parameter 'intercept'", "min == max", "vary=False"):
        LINE.fit(Y, P(intercept={"value": 1.0, "min": 1.0, "max": 1.0}), x=X)


def test_min_greater_than_max_on_fixed_and_tied(no_solve):
    # rejected where the parameter is made (issue 14)
    with raises(ValueError, "parameter 'intercept'", "min > max"):
        P(intercept={"value": 1.0, "min": 2.0, "max": 0.0, "vary": False})
    params = P()
    with raises(ValueError, "parameter 't'", "min > max"):
        params.add("t", expr="2*slope", min=1.0, max=-1.0)
    # and at fit time, for per-fit bound arrays changed in place after they were checked
    params = P(intercept={"value": 1.0, "min": np.zeros(3), "max": np.full(3, 2.0), "vary": False})
    params["intercept"].min[1] = 3.0
    with raises(ValueError, "parameter 'intercept'", "min > max", "3.0 > 2.0", "fit 1 of the batch"):
        LINE.fit(np.tile(Y, (3, 1)), params, x=X)
    params = P()
    params.add("t", expr="2*slope", min=np.zeros(3), max=np.ones(3))
    params["t"].max[2] = -1.0
    with raises(ValueError, "parameter 't'", "min > max", "fit 2 of the batch"):
        LINE.fit(np.tile(Y, (3, 1)), params, x=X)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_start(no_solve, bad):
    with raises(ValueError, "parameter 'slope'", "not finite"):
        LINE.fit(Y, P(slope=bad), x=X)


def test_nan_bound(no_solve):
    with raises(ValueError, "parameter 'slope'", "bounds must not be NaN"):
        LINE.fit(Y, P(slope={"value": 1.0, "min": np.nan}), x=X)


def test_parameter_without_value(no_solve):
    params = Parameters()
    params.add("slope")
    params.add("intercept", 0.0)
    with raises(ValueError, "parameter 'slope' has no value"):
        LINE.fit(Y, params, x=X)


def test_unknown_name_in_expr(no_solve):
    params = P()
    params["intercept"].expr = "2*slope + zz"
    with raises(ExprError, "parameter 'intercept'", "unknown name", "'zz'"):
        LINE.fit(Y, params, x=X)
    with raises(ExprError, "parameter 'intercept'", "'zz'"):
        minimize(lambda p: jnp.array([p["slope"]]), params)


def test_cyclic_expr(no_solve):
    params = P()
    params.add("c", expr="d + 1")
    params.add("d", expr="2*c")
    with raises(ExprError, "cyclic", "c -> d -> c"):
        LINE.fit(Y, params, x=X)


def test_self_referencing_expr(no_solve):
    params = P()
    params["intercept"].expr = "intercept + 1"
    with raises(ExprError, "parameter 'intercept'", "cyclic"):
        LINE.fit(Y, params, x=X)


def test_syntax_error_in_expr():
    with raises(ExprError, "parameter 'intercept'", "invalid syntax"):
        P(intercept={"expr": "slope +* 2"})
    with raises(ExprError, "parameter 'q'", "not allowed"):
        create_params(q={"expr": "slope.real"})


def test_no_varying_parameter(no_solve):
    params = P(slope={"value": 1.0, "vary": False}, intercept={"value": 0.0, "vary": False})
    with raises(ValueError, "no parameter varies"):
        LINE.fit(Y, params, x=X)
    with raises(ValueError, "no parameter varies"):
        minimize(lambda p: jnp.array([p["a"]]), create_params(a={"value": 1.0, "vary": False}))


def test_only_tied_parameters_do_not_vary(no_solve):
    params = create_params(a={"value": 1.0, "vary": False}, b={"expr": "a*2"})
    with raises(ValueError, "no parameter varies"):
        minimize(lambda p: jnp.array([p["a"], p["b"]]), params)


def test_empty_params(no_solve):
    with raises(ValueError, "params is empty"):
        minimize(lambda p: jnp.zeros(2), Parameters())


@pytest.mark.parametrize("method", ["nelder", "Levenberg", "", None])
def test_unknown_method(no_solve, method):
    with raises(ValueError, "method must be one of", repr(method)):
        LINE.fit(Y, P(), x=X, method=method)
    with raises(ValueError, "method must be one of", repr(method)):
        minimize(lambda p: jnp.array([p["a"]]), create_params(a=1.0), method=method)


def test_invalid_solver_options(no_solve):
    with raises(ValueError, "ftol", "-1"):
        LINE.fit(Y, P(), x=X, ftol=-1.0)
    with raises(ValueError, "max_nfev"):
        LINE.fit(Y, P(), x=X, max_nfev=0)
    with raises(ValueError, "linear_solver", "'svd'"):
        LMConfig(linear_solver="svd")


def test_invalid_dtype(no_solve):
    with raises(ValueError, "dtype must be float32 or float64", "int32"):
        LINE.fit(Y, P(), x=X, dtype="int32")


# --------------------------------------------------------------------------
# parameter arrays vs the data batch
# --------------------------------------------------------------------------
def test_parameter_array_length_disagrees_with_data(no_solve):
    with raises(ValueError, "parameter arrays have length 4", "data holds 3 datasets"):
        LINE.fit(np.tile(Y, (3, 1)), P(slope=np.ones(4)), x=X)


def test_parameter_arrays_disagree_with_each_other(no_solve):
    params = P(slope=np.ones(3), intercept={"value": 0.0, "min": -np.ones(2)})
    with raises(ValueError, "disagree on the batch size", "parameter 'slope' value has length 3",
                "parameter 'intercept' min has length 2"):
        LINE.fit(np.tile(Y, (3, 1)), params, x=X)
    with raises(ValueError, "disagree on the batch size"):
        minimize(lambda p: jnp.array([p["slope"], p["intercept"]]), params)


def test_parameter_array_with_single_dataset(no_solve):
    with raises(ValueError, "parameter arrays need data of shape (N, m)"):
        LINE.fit(Y, P(slope=np.ones(1)), x=X)


# --------------------------------------------------------------------------
# the model function itself
# --------------------------------------------------------------------------
def short_model(x, slope, intercept):
    return (slope * x + intercept)[:-1]


def long_model(x, slope, intercept):
    return jnp.concatenate([slope * x, intercept * x])


def complex_model(x, slope, intercept):
    return (slope * x + intercept) * (1.0 + 0.0j)


class Boom(RuntimeError):
    pass


def raising_model(x, slope, intercept):
    raise Boom("kaboom: the detector is offline")


@pytest.mark.parametrize("func,n", [(short_model, 7), (long_model, 16)], ids=["short", "long"])
def test_model_returning_wrong_shape(no_solve, func, n):
    with pytest.raises((ValueError, TypeError)) as info:
        Model(func).fit(Y, P(), x=X)
    msg = str(info.value)
    assert f"Model '{func.__name__}'" in msg
    assert f"({n},)" in msg and f"({M},)" in msg


def test_model_returning_complex(no_solve):
    with raises(TypeError, "Model 'complex_model'", "real floating", "complex"):
        Model(complex_model).fit(Y, P(), x=X)


def test_minimize_returning_int_or_complex(no_solve):
    with raises(TypeError, "objective 'int_obj'", "real floating", "int"):
        def int_obj(p):
            return jnp.round(jnp.array([p["a"], p["a"]])).astype(jnp.int32)

        minimize(int_obj, create_params(a=1.0))
    with raises(TypeError, "objective 'cplx'", "complex"):
        def cplx(p):
            return jnp.array([p["a"], p["a"]]) * 1j

        minimize(cplx, create_params(a=1.0))


def test_model_raising_mentions_name_and_message(no_solve):
    with pytest.raises(Boom) as info:
        Model(raising_model, name="detector").fit(Y, P(), x=X)
    msg = str(info.value)
    assert "Model 'detector'" in msg
    assert "kaboom: the detector is offline" in msg
    assert isinstance(info.value.__cause__, Boom)


def test_objective_raising_mentions_name_and_message(no_solve):
    def objective(p):
        return jnp.array([p["a"], p["not_a_parameter"]])

    with raises(KeyError, "objective 'objective'", "not_a_parameter"):
        minimize(objective, create_params(a=1.0))


def test_minimize_non_numeric_argument(no_solve):
    with raises(TypeError, "minimize", "argument", "<U"):
        minimize(lambda p, s: jnp.array([p["a"]]), create_params(a=1.0), args=("text",))


def test_not_callable():
    with raises(TypeError, "callable"):
        minimize(3.0, create_params(a=1.0))
    with raises(TypeError, "callable"):
        Model("line")


def test_model_var_args_rejected():
    def f(x, *p):
        return x

    with raises(ValueError, "Model 'f'", "*args"):
        Model(f)


def test_model_unknown_independent_var():
    with raises(ValueError, "Model 'line'", "independent_vars", "'t'"):
        Model(line, independent_vars=["t"])


def test_make_params_unknown_name():
    with raises(ValueError, "Model 'line'", "'slop'"):
        LINE.make_params(slop=1.0)


# --------------------------------------------------------------------------
# nan_policy omit / propagate (these run the solver)
# --------------------------------------------------------------------------
RNG = np.random.default_rng(1234)
TRUE = np.array([[1.0, 2.0], [3.0, 4.0], [-5.0, 0.5]])
YB = TRUE[:, :1] * X + TRUE[:, 1:] + 0.02 * RNG.standard_normal((3, M))


def test_omit_equals_fit_without_point():
    yb = YB.copy()
    yb[1, 3] = np.nan
    res = LINE.fit(yb, P(), x=X, nan_policy="omit")
    ref = LINE.fit(np.delete(YB[1], 3), P(), x=np.delete(X, 3))
    assert np.all(res.success) and ref.success
    np.testing.assert_array_equal(res.ndata, [M, M - 1, M])
    for n in ("slope", "intercept"):
        np.testing.assert_allclose(res.params[n].value[1], ref.params[n].value, rtol=1e-9)
        np.testing.assert_allclose(res.params[n].stderr[1], ref.params[n].stderr, rtol=1e-7)
    np.testing.assert_allclose(res.chisqr[1], ref.chisqr, rtol=1e-9)
    # closed-form reference: ordinary least squares without the point
    A = np.stack([np.delete(X, 3), np.ones(M - 1)], axis=1)
    ols = np.linalg.lstsq(A, np.delete(YB[1], 3), rcond=None)[0]
    np.testing.assert_allclose([res.params["slope"].value[1], res.params["intercept"].value[1]], ols,
                               rtol=1e-9)
    assert np.isnan(res.best_fit[1, 3]) and np.all(np.isfinite(np.delete(res.best_fit[1], 3)))


def test_omit_single_dataset():
    y = YB[0].copy()
    y[[0, 6]] = np.nan
    res = LINE.fit(y, P(), x=X, nan_policy="omit")
    A = np.stack([X, np.ones(M)], axis=1)
    keep = np.isfinite(y)
    ols = np.linalg.lstsq(A[keep], y[keep], rcond=None)[0]
    assert res.success and res.ndata == M - 2
    np.testing.assert_allclose([res.params["slope"].value, res.params["intercept"].value], ols, rtol=1e-9)


def test_omit_via_model_default_policy():
    y = YB[0].copy()
    y[2] = np.inf
    res = Model(line, nan_policy="omit").fit(y, P(), x=X)
    A = np.stack([X, np.ones(M)], axis=1)
    keep = np.arange(M) != 2
    ols = np.linalg.lstsq(A[keep], y[keep], rcond=None)[0]
    np.testing.assert_allclose([res.params["slope"].value, res.params["intercept"].value], ols, rtol=1e-9)


def test_propagate_fails_only_that_fit():
    yb = YB.copy()
    yb[1, 3] = np.nan
    res = LINE.fit(yb, P(), x=X, nan_policy="propagate")
    clean = LINE.fit(YB, P(), x=X)
    assert np.all(clean.success)
    np.testing.assert_array_equal(res.success, [True, False, True])
    assert res.status[1] != RESULTS.RUNNING
    for i in (0, 2):
        assert res.status[i] == clean.status[i]
        for n in ("slope", "intercept"):
            np.testing.assert_allclose(res.params[n].value[i], clean.params[n].value[i], rtol=1e-12)
        np.testing.assert_allclose(res.chisqr[i], clean.chisqr[i], rtol=1e-12)
    # the neighbours are the ordinary least-squares solutions
    A = np.stack([X, np.ones(M)], axis=1)
    for i in (0, 2):
        ols = np.linalg.lstsq(A, YB[i], rcond=None)[0]
        np.testing.assert_allclose([res.params["slope"].value[i], res.params["intercept"].value[i]], ols,
                                   rtol=1e-9)


def test_one_fit_with_too_few_points_gets_status():
    yb = YB.copy()
    yb[1, 1:] = np.nan
    res = LINE.fit(yb, P(), x=X, nan_policy="omit")
    np.testing.assert_array_equal(res.ndata, [M, 1, M])
    assert res.status[1] == RESULTS.TOO_FEW_POINTS
    np.testing.assert_array_equal(res.success, [True, False, True])
    # an underdetermined fit has no chi-square (its end point is arbitrary); the others do
    assert np.isnan(res.chisqr[1]) and np.all(np.isfinite(res.chisqr[[0, 2]]))


# --------------------------------------------------------------------------
# inputs are not modified
# --------------------------------------------------------------------------
def _snapshot(params):
    return {n: (np.copy(p.value) if p.value is not None else None, np.copy(p.min), np.copy(p.max), p.vary,
                p.expr, p.stderr, p.init_value, p.correl) for n, p in params.items()}


def _assert_same(params, snap):
    assert list(params) == list(snap)
    for n, (v, lo, hi, vary, expr, stderr, init, correl) in snap.items():
        p = params[n]
        if v is None:
            assert p.value is None
        else:
            np.testing.assert_array_equal(p.value, v)
        np.testing.assert_array_equal(p.min, lo)
        np.testing.assert_array_equal(p.max, hi)
        assert (p.vary, p.expr, p.stderr, p.init_value, p.correl) == (vary, expr, stderr, init, correl)


def test_model_fit_does_not_modify_inputs():
    yb = YB.copy()
    yb[1, 3] = np.nan
    x = X.copy()
    w = np.full((3, M), 2.0)
    params = P(slope={"value": np.array([0.5, 1.0, 1.5]), "min": -10.0, "max": 10.0})
    params.add("twice", expr="2*slope")
    keep = [yb.copy(), x.copy(), w.copy()]
    snap = _snapshot(params)
    res = LINE.fit(yb, params, x=x, weights=w, nan_policy="omit")
    assert np.all(res.success)
    for a, b in zip((yb, x, w), keep):
        np.testing.assert_array_equal(a, b)
    _assert_same(params, snap)
    assert res.params is not params and res.params["slope"] is not params["slope"]
    np.testing.assert_allclose(res.params["twice"].value, 2 * res.params["slope"].value, rtol=1e-12)
    # the result's arrays share no memory with the inputs
    for n in ("slope", "intercept", "twice"):
        for a in (params[n].value, params[n].min, yb, x, w):
            if isinstance(a, np.ndarray):
                assert not np.shares_memory(res.params[n].value, a)


def test_minimize_does_not_modify_inputs():
    x = X.copy()
    y = YB[0].copy()
    keep = (x.copy(), y.copy())
    params = create_params(a={"value": 0.0, "min": -5.0}, b=0.0)
    snap = _snapshot(params)

    def resid(p, x, y):
        return p["a"] * x + p["b"] - y

    res = minimize(resid, params, args=(x, y))
    assert res.success
    np.testing.assert_array_equal(x, keep[0])
    np.testing.assert_array_equal(y, keep[1])
    _assert_same(params, snap)
    ols = np.linalg.lstsq(np.stack([X, np.ones(M)], axis=1), YB[0], rcond=None)[0]
    np.testing.assert_allclose([res.params["a"].value, res.params["b"].value], ols, rtol=1e-9)


# --------------------------------------------------------------------------
# zero weights mask points (negative weights are errors, tested above)
# --------------------------------------------------------------------------
def test_zero_weights_mask_points():
    """A zero weight removes its point from the fit and from the statistics
    (ndata, nfree, redchi): the fit equals the fit without those points."""
    w = np.ones(M)
    w[[1, 5]] = 0.0
    y = YB[2].copy()
    y[5] = np.nan  # a masked point may hold NaN, even under nan_policy="raise"
    res = LINE.fit(y, P(), x=X, weights=w)
    keep = w > 0
    A = np.stack([X[keep], np.ones(keep.sum())], axis=1)
    ols, rss = np.linalg.lstsq(A, YB[2][keep], rcond=None)[:2]
    assert res.success and res.ndata == M - 2 and res.nfree == M - 4
    np.testing.assert_allclose([res.params["slope"].value, res.params["intercept"].value], ols, rtol=1e-10)
    np.testing.assert_allclose(res.chisqr, rss[0], rtol=1e-9)
    np.testing.assert_allclose(res.redchi, rss[0] / (M - 4), rtol=1e-9)
    cov = rss[0] / (M - 4) * np.linalg.inv(A.T @ A)
    np.testing.assert_allclose(res.params["slope"].stderr, np.sqrt(cov[0, 0]), rtol=1e-8)
    assert np.isnan(res.best_fit[1]) and np.isnan(res.best_fit[5]) and np.isfinite(res.best_fit[0])


def test_all_weights_zero_in_every_fit(no_solve):
    with raises(ValueError, "Model 'line'", "2 free parameters", "at most 0 valid data points"):
        LINE.fit(np.tile(Y, (2, 1)), P(), x=X, weights=np.zeros(M))


def test_ragged_weights_must_match_ragged_data(no_solve):
    with raises(ValueError, "weights", "ragged lengths must match"):
        LINE.fit([Y, Y[:5]], P(), x=[X, X[:5]], weights=[np.ones(M), np.ones(4)])


def test_empty_dataset_in_ragged_batch_gets_status():
    res = LINE.fit([YB[0], YB[1][:0], YB[2][:5]], P(), x=[X, X[:0], X[:5]])
    np.testing.assert_array_equal(res.ndata, [M, 0, 5])
    assert res.status[1] == RESULTS.NO_DATA and not res.success[1]
    A = np.stack([X[:5], np.ones(5)], axis=1)
    np.testing.assert_allclose([res.params["slope"].value[2], res.params["intercept"].value[2]],
                               np.linalg.lstsq(A, YB[2][:5], rcond=None)[0], rtol=1e-10)


# --------------------------------------------------------------------------
# more input checks
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kw,exc,msg",
    [
        ({"x": np.array(["a"] * M)}, TypeError, "x must be numeric"),
        ({"x": np.where(np.arange(M) == 2, np.inf, X)}, ValueError, "x contains NaN or inf"),
        ({"x": X, "weights": np.ones(M) + 1j}, TypeError, "weights must be real"),
        ({"x": X, "weights": "heavy"}, TypeError, "weights must be numeric"),
        ({"x": np.ones((2, M, 1))}, ValueError, "x has shape (2, 8, 1)"),
    ],
    ids=["x_strings", "x_inf", "weights_complex", "weights_string", "x_3d"],
)
def test_bad_independent_variable_or_weights(no_solve, kw, exc, msg):
    with raises(exc, msg):
        LINE.fit(np.tile(Y, (2, 1)), P(), **kw)


def test_data_none_or_objects(no_solve):
    with raises(TypeError, "data must be numeric"):
        LINE.fit(None, P(), x=X)
    with raises(TypeError, "data must be numeric"):
        LINE.fit(np.array([1.0, None] * 4), P(), x=X)


def test_params_that_are_not_parameters(no_solve):
    with raises(TypeError, "params['slope'] must be a Parameter", "got int"):
        LINE.fit(Y, {"slope": 1, "intercept": 2}, x=X)
    with raises(TypeError, "params must be a batchfit Parameters", "list"):
        minimize(lambda p: jnp.array([p["a"]]), [1.0, 2.0])


def test_non_numeric_parameter_value():
    with raises(TypeError, "parameter 'slope' value must be a number", "'steep'"):
        P(slope="steep")
    with raises(TypeError, "parameter 'a' min must be a number", "'low'"):
        create_params(a={"value": 1.0, "min": "low"})


def test_empty_parameter_arrays(no_solve):
    with raises(ValueError, "parameter 'a' value is an empty array", "N = 0"):
        minimize(lambda p: jnp.array([p["a"], p["a"]]), create_params(a=np.zeros(0)))


def test_min_greater_than_max_in_one_fit_of_a_batch(no_solve):
    with raises(ValueError, "parameter 'slope'", "min > max", "5.0 > 3.0", "fit 2 of the batch"):
        params = P(slope={"value": 1.0, "min": np.array([0.0, 0.0, 5.0]), "max": np.array([2.0, 2.0, 3.0])})
        LINE.fit(np.tile(Y, (3, 1)), params, x=X)


def test_bad_expressions_through_the_api(no_solve):
    with raises(ExprError, "parameter 'intercept'", "unknown function 'open'"):
        P(intercept={"expr": "open('x')"})
    with raises(ExprError, "parameter 'intercept'", "'Attribute' is not allowed"):
        P(intercept={"expr": "slope.__class__"})
    with raises(ExprError, "parameter 'intercept'", "may not start with '_'"):
        P(intercept={"expr": "__import__"})
    params = P()
    with raises(ExprError, "parameter 'intercept'", "invalid syntax"):
        params["intercept"].expr = "slope *"
    assert params["intercept"].expr is None  # a rejected tie leaves the parameter as it was
    params.add("t", expr="slope + 1")
    params.add("u", expr="t * 2")
    params["t"].expr = "u - 1"
    with raises(ExprError, "cyclic", "t -> u -> t"):
        LINE.fit(Y, params, x=X)


# --------------------------------------------------------------------------
# what the model function returns
# --------------------------------------------------------------------------
def _col(x, slope, intercept):
    return (slope * x + intercept)[:, None]


def _grid(x, slope, intercept):
    return (slope * x + intercept).reshape(2, 4)


def _outer(x, slope, intercept):
    return slope * x[:, None] + intercept * x[None, :]


@pytest.mark.parametrize("func,shape", [(_col, "(8, 1)"), (_grid, "(2, 4)"), (_outer, "(8, 8)"),
                                        (short_model, "(7,)")])
def test_model_output_shape_named(no_solve, func, shape):
    with raises(ValueError, f"Model '{func.__name__}'", f"returned shape {shape}", "dataset has shape (8,)"):
        Model(func).fit(Y, P(), x=X)


def test_scalar_model_output_broadcasts():
    def level(x, c):
        return c

    res = Model(level).fit(YB[0], x=X, c=0.0)
    assert res.success
    np.testing.assert_allclose(res.params["c"].value, YB[0].mean(), rtol=1e-12)
    np.testing.assert_allclose(res.params["c"].stderr, YB[0].std(ddof=1) / np.sqrt(M), rtol=1e-9)


@pytest.mark.parametrize("dtype", ["int32", "bool"])
def test_model_returning_int_or_bool(no_solve, dtype):
    def f(x, slope, intercept):
        return (slope * x + intercept > 1.0).astype(dtype)

    with raises(TypeError, "Model 'f'", "real floating", dtype):
        Model(f).fit(Y, P(), x=X)


@pytest.mark.parametrize("ret", [None, "abc"], ids=["none", "string"])
def test_model_returning_no_array(no_solve, ret):
    def nothing(x, slope, intercept):
        return ret

    with pytest.raises((TypeError, ValueError)) as info:
        Model(nothing, name="nothing").fit(Y, P(), x=X)
    assert "Model 'nothing'" in str(info.value) and "while being evaluated" in str(info.value)


def test_numpy_inside_a_model_gets_a_hint(no_solve):
    def np_model(x, slope, intercept):
        return np.exp(slope) * x + intercept

    with raises(Exception, "Model 'np_model'", "traced by JAX", "jax.numpy"):
        Model(np_model).fit(Y, P(), x=X)

    def branching(x, slope, intercept):
        return slope * x if slope > 0 else intercept * x

    with raises(Exception, "Model 'branching'", "traced by JAX", "jnp.where"):
        Model(branching).fit(Y, P(), x=X)
