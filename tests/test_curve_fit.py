"""curve_fit: scipy.optimize.curve_fit's results, single and batched."""

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize as so

import batchfit as bf

TIGHT = dict(ftol=1e-14, xtol=1e-14, gtol=1e-14)  # a converged scipy reference


def decay(x, a, k, c):
    return a * jnp.exp(-k * x) + c


def decay_np(x, a, k, c):
    return a * np.exp(-k * x) + c


def _data(seed=0, m=50):
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 4, m)
    y = decay_np(x, 2.5, 1.3, 0.5) + rng.normal(0, 0.05, m)
    sigma = rng.uniform(0.03, 0.1, m)
    return x, y, sigma


def _batch(N=50, seed=1, m=40):
    rng = np.random.default_rng(seed)
    truth = rng.uniform([1, 0.5, 0], [3, 2, 1], (N, 3))
    x = np.sort(rng.uniform(0, 4, (N, m)), axis=1)
    sigma = rng.uniform(0.02, 0.08, (N, m))
    y = np.stack([decay_np(x[i], *truth[i]) for i in range(N)]) + sigma * rng.normal(size=(N, m))
    p0 = truth * rng.uniform(0.7, 1.3, (N, 3))
    return x, y, sigma, p0


@pytest.mark.parametrize("kw", [
    {},
    {"sigma": "sigma"},
    {"sigma": "sigma", "absolute_sigma": True},
    {"bounds": ([0, 0, -1], [10, 5, 2])},
    {"bounds": (-10, 10), "sigma": "sigma"},
], ids=["plain", "sigma", "absolute_sigma", "bounds", "scalar_bounds_sigma"])
def test_single_fit_matches_scipy(kw):
    x, y, sigma = _data()
    kw = {k: (sigma if v == "sigma" else v) for k, v in kw.items()}
    popt, pcov = bf.curve_fit(decay, x, y, p0=[1, 1, 0], **kw)
    method = "trf" if "bounds" in kw else "lm"
    ref, rcov = so.curve_fit(decay_np, x, y, p0=[1, 1, 0], method=method, **kw, **TIGHT)
    assert popt.shape == (3,) and pcov.shape == (3, 3)
    np.testing.assert_allclose(popt, ref, rtol=1e-6)
    np.testing.assert_allclose(pcov, rcov, rtol=1e-3)


def test_absolute_sigma_only_drops_the_redchi_scaling():
    x, y, sigma = _data(2)
    p1, c1, info, _, _ = bf.curve_fit(decay, x, y, p0=[1, 1, 0], sigma=sigma, full_output=True)
    p2, c2 = bf.curve_fit(decay, x, y, p0=[1, 1, 0], sigma=sigma, absolute_sigma=True)
    chi2 = np.sum(((decay_np(x, *p1) - y) / sigma) ** 2)
    np.testing.assert_allclose(p1, p2, rtol=1e-12)
    np.testing.assert_allclose(c1, c2 * chi2 / (x.size - 3), rtol=1e-9)
    np.testing.assert_allclose(info["fvec"], (decay_np(x, *p1) - y) / sigma, atol=1e-12)


def test_default_p0_is_ones_as_scipy():
    x, y, _ = _data(3)
    popt, pcov, info, _, _ = bf.curve_fit(decay, x, y, full_output=True)
    np.testing.assert_array_equal(info["result"].init_vals, [1.0, 1.0, 1.0])
    ref, rcov = so.curve_fit(decay_np, x, y, **TIGHT)
    np.testing.assert_allclose(popt, ref, rtol=1e-6)
    np.testing.assert_allclose(pcov, rcov, rtol=1e-3)


def test_default_p0_inside_bounds_is_scipys_feasible_point():
    x, y, _ = _data(4)
    bounds = ([0, -np.inf, -1], [10, 5, np.inf])
    popt, _, info, _, _ = bf.curve_fit(decay, x, y, bounds=bounds, full_output=True)
    np.testing.assert_allclose(popt, so.curve_fit(decay_np, x, y, bounds=bounds, **TIGHT)[0], rtol=1e-6)
    # midpoint where both bounds are finite, ub - 1 / lb + 1 where one is
    np.testing.assert_array_equal(info["result"].init_vals, [5.0, 4.0, 0.0])
    # a scipy.optimize.Bounds gives the same fit
    popt, _ = bf.curve_fit(decay, x, y, bounds=so.Bounds(*bounds))
    np.testing.assert_array_equal(popt, info["result"].values_all)


def test_batch_matches_scipy_fit_by_fit():
    x, y, sigma, p0 = _batch()
    copies = [a.copy() for a in (x, y, sigma, p0)]
    popt, pcov, info, mesg, ier = bf.curve_fit(decay, x, y, p0=p0, sigma=sigma, full_output=True)
    for a, b in zip((x, y, sigma, p0), copies):  # inputs are not modified
        np.testing.assert_array_equal(a, b)
    assert popt.shape == (50, 3) and pcov.shape == (50, 3, 3)
    assert ier.shape == (50,) and len(mesg) == 50 and np.all(np.isin(ier, [1, 2, 3, 4, 5]))
    for i in range(50):
        ref, rcov = so.curve_fit(decay_np, x[i], y[i], p0=p0[i], sigma=sigma[i], **TIGHT)
        np.testing.assert_allclose(popt[i], ref, rtol=1e-6, err_msg=f"fit {i}")
        np.testing.assert_allclose(pcov[i], rcov, rtol=1e-3, err_msg=f"fit {i}")


def test_batch_shared_x_shared_sigma_per_fit_bounds_absolute_sigma():
    x, y, _ = _data(5, m=30)
    N = 12
    rng = np.random.default_rng(6)
    sigma = rng.uniform(0.03, 0.1, x.size)
    Y = np.stack([decay_np(x, 1 + 0.2 * i, 1.0 + 0.05 * i, 0.3) for i in range(N)])
    Y = Y + sigma * rng.normal(size=Y.shape)
    lb = np.tile([0.0, 0.1, -1.0], (N, 1))
    ub = np.column_stack([np.full(N, 10.0), 2.0 + np.arange(N) * 0.1, np.full(N, 2.0)])
    popt, pcov = bf.curve_fit(decay, x, Y, p0=[1, 1, 0], sigma=sigma, bounds=(lb, ub), absolute_sigma=True)
    for i in range(N):
        ref, rcov = so.curve_fit(decay_np, x, Y[i], p0=[1, 1, 0], sigma=sigma, bounds=(lb[i], ub[i]),
                                 absolute_sigma=True, **TIGHT)
        np.testing.assert_allclose(popt[i], ref, rtol=1e-6)
        np.testing.assert_allclose(pcov[i], rcov, rtol=1e-3)


def test_several_predictors_in_xdata_match_least_squares():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(2, 60))
    y = 1.5 * X[0] - 0.5 * X[1] + 0.25 + rng.normal(0, 0.1, 60)
    popt, pcov = bf.curve_fit(lambda X, a, b, c: a * X[0] + b * X[1] + c, X, y)
    A = np.column_stack([X[0], X[1], np.ones(60)])
    beta, rss, *_ = np.linalg.lstsq(A, y, rcond=None)
    np.testing.assert_allclose(popt, beta, rtol=1e-9)
    np.testing.assert_allclose(pcov, np.linalg.inv(A.T @ A) * rss[0] / (60 - 3), rtol=1e-8)


def test_nan_policy_omit_matches_scipy():
    x, y, sigma = _data(8)
    y = y.copy()
    y[[3, 17, 40]] = np.nan
    y_in = y.copy()
    popt, pcov = bf.curve_fit(decay, x, y, p0=[1, 1, 0], sigma=sigma, nan_policy="omit")
    ref, rcov = so.curve_fit(decay_np, x, y, p0=[1, 1, 0], sigma=sigma, nan_policy="omit", **TIGHT)
    np.testing.assert_allclose(popt, ref, rtol=1e-6)
    np.testing.assert_allclose(pcov, rcov, rtol=1e-3)
    np.testing.assert_array_equal(y, y_in)  # inputs are not modified


def test_pcov_is_inf_where_not_estimable_as_scipy():
    x = np.linspace(0, 1, 20)
    y = 3 * x + np.random.default_rng(9).normal(0, 0.1, 20)

    def f(x, a, b):  # b has no effect
        return a * x + 0.0 * b

    with pytest.warns(bf.OptimizeWarning, match="Covariance of the parameters could not be estimated"):
        popt, pcov = bf.curve_fit(f, x, y)
    with pytest.warns(so.OptimizeWarning):
        ref, rcov = so.curve_fit(lambda x, a, b: a * x + 0.0 * b, x, y)
    assert np.all(np.isinf(pcov)) and np.all(np.isinf(rcov))
    np.testing.assert_allclose(popt, ref, rtol=1e-9)
    np.testing.assert_allclose(popt[0], x @ y / (x @ x), rtol=1e-9)
    # as many points as parameters: no degrees of freedom left
    with pytest.warns(bf.OptimizeWarning):
        _, pcov = bf.curve_fit(decay, x[:3], decay_np(x[:3], 1, 1, 1), p0=[0.5, 0.5, 0.5])
    assert np.all(np.isinf(pcov))


def test_failed_single_fit_raises_and_batch_warns():
    x, y, _ = _data(10)
    with pytest.raises(RuntimeError, match="Optimal parameters not found"):
        bf.curve_fit(decay, x, y, p0=[1, 1, 0], max_nfev=2)
    with pytest.warns(bf.OptimizeWarning, match="1 of 1 fits did not converge"):
        popt, _, _, mesg, ier = bf.curve_fit(decay, x, y[None], p0=[1, 1, 0], maxfev=2, full_output=True)
    assert popt.shape == (1, 3) and list(ier) == [5]  # scipy: maxfev reached
    assert mesg == [bf.RESULTS.MAX_NFEV.message]


def test_parameter_names_from_signature_or_positional():
    from batchfit.fitting._curve_fit import _names_from_signature

    assert _names_from_signature(decay, None) == ("x", ("a", "k", "c"))
    # names that tie expressions reserve, or *args: positional names
    assert _names_from_signature(lambda t, e, exp: t, None) == ("t", ("p0", "p1"))
    assert _names_from_signature(lambda x, *p: x, 3) == ("x", ("p0", "p1", "p2"))
    x, y, _ = _data(11)
    *_, info, _, _ = bf.curve_fit(decay, x, y, p0=[1, 1, 0], full_output=True)
    assert list(info["result"].params) == ["a", "k", "c"]

    def varargs(x, *p):
        return p[0] * jnp.exp(-p[1] * x) + p[2]

    p2, _, info, _, _ = bf.curve_fit(varargs, x, y, p0=[1, 1, 0], full_output=True)
    assert list(info["result"].params) == ["p0", "p1", "p2"]
    np.testing.assert_allclose(p2, so.curve_fit(decay_np, x, y, p0=[1, 1, 0], **TIGHT)[0], rtol=1e-6)
    with pytest.raises(ValueError, match="number of fit parameters"):
        bf.curve_fit(varargs, x, y)


@pytest.mark.parametrize("args, kw, match", [
    ((np.zeros(10), np.zeros((2, 2, 10))), {}, "ydata must have shape"),
    ((np.zeros(9), np.zeros(10)), {}, "xdata has length 9"),
    ((np.zeros((3, 9)), np.zeros((3, 10))), {}, r"xdata has shape \(3, 9\)"),
    ((np.zeros(10), np.zeros(10)), {"sigma": np.ones(9)}, r"sigma has shape \(9,\)"),
    ((np.zeros(10), np.zeros((2, 10))), {"sigma": np.ones((3, 10))}, r"sigma has shape \(3, 10\)"),
    ((np.zeros(10), np.zeros(10)), {"sigma": np.ones((10, 10))}, "`sigma` must be positive definite"),
    ((np.zeros(10), np.zeros(10)), {"sigma": np.zeros(10)}, "sigma must be finite and > 0"),
    ((np.zeros(10), np.zeros((2, 10))), {"p0": np.ones((3, 3))}, r"p0 has shape \(3, 3\)"),
    ((np.zeros(10), np.zeros(10)), {"p0": np.ones((2, 3))}, r"p0 has shape \(2, 3\)"),
    ((np.zeros(10), np.zeros(10)), {"bounds": ([0, 0], [1, 1, 1])}, r"bounds\[0\] \(lower\) has shape"),
    ((np.zeros(10), np.zeros(10)), {"bounds": (0, 1, 2)}, "bounds must be a pair"),
    ((np.zeros(10), np.zeros(10)), {"bounds": ([0, 2, 0], 1)}, "parameter 'k': min > max"),
    ((np.zeros(10), np.r_[np.nan, np.zeros(9)]), {}, "ydata contains NaN"),
    ((np.r_[np.inf, np.zeros(9)], np.zeros(10)), {}, "xdata contains NaN"),
    ((np.zeros(10), np.zeros(10)), {"method": "lm", "bounds": (0, 5)}, "Method 'lm' only works for unconstrained"),
    ((np.zeros(10), np.zeros(10)), {"method": "unknown"}, "method must be one of"),
    ((np.zeros(10), np.zeros(10)), {"nan_policy": "propagate"}, "`nan_policy='propagate'` is not supported"),
    ((np.zeros(10), np.zeros(10)), {"nan_policy": "hi"}, "nan_policy must be one of"),
    ((np.zeros(10), np.zeros(10)), {"jac": "4-point"}, "jac must be None, a callable or one of"),
    ((np.zeros(10), np.zeros(10)), {"args": (1,)}, "'args' is not a supported keyword"),
    ((np.zeros(10), np.zeros(10)), {"p0": [1, 1, 1, 1]}, "p0 has 4 values but f takes 3"),
    ((np.zeros(10), np.zeros(10)), {"p0": [5, 1, 1], "bounds": (0, 2)}, "parameter 'a': start value 5"),
])
def test_bad_input_names_the_array(args, kw, match):
    with pytest.raises(ValueError, match=match):
        bf.curve_fit(decay, *args, **kw)


def test_bad_types():
    with pytest.raises(TypeError, match="The number of func parameters=3 must not exceed the number of data points=2"):
        bf.curve_fit(decay, np.zeros(2), np.zeros(2))
    with pytest.raises(TypeError, match="ydata must be real"):
        bf.curve_fit(decay, np.zeros(5), np.zeros(5, complex))
    with pytest.raises(ValueError, match=r"ydata shape \(5,\)\) returned shape \(7,\)"):
        bf.curve_fit(lambda x, a: a * jnp.ones(7), np.zeros(5), np.zeros(5))


def _cov_data(m=12, seed=3):
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 3, m)
    a = rng.normal(0, 0.05, (m, m))
    C = a @ a.T + np.diag(np.full(m, 0.01))
    y = decay_np(x, 2.0, 1.1, 0.3) + rng.multivariate_normal(np.zeros(m), C)
    return x, y, C


def test_covariance_sigma_matches_scipy_single_and_batched():
    x, y, C = _cov_data()
    ref = so.curve_fit(decay_np, x, y, p0=[1, 1, 0], sigma=C, **TIGHT)
    popt, pcov, info, _, _ = bf.curve_fit(decay, x, y, p0=[1, 1, 0], sigma=C, full_output=True)
    np.testing.assert_allclose(popt, ref[0], rtol=1e-6)
    np.testing.assert_allclose(pcov, ref[1], rtol=1e-4)
    L = np.linalg.cholesky(C)  # fvec is scipy's whitened residual, best_fit the model
    np.testing.assert_allclose(info["fvec"], np.linalg.solve(L, decay_np(x, *popt) - y), atol=1e-8)
    np.testing.assert_allclose(info["result"].best_fit, decay_np(x, *popt), atol=1e-10)
    # a batch: one covariance shared, or one per fit; the third fit has NaNs omitted
    y2 = np.stack([y, y * 1.1, y])
    y2[2, [3, 7]] = np.nan
    keep = np.isfinite(y2[2])
    ref2 = so.curve_fit(decay_np, x[keep], y2[2, keep], p0=[1, 1, 0], sigma=C[np.ix_(keep, keep)], **TIGHT)
    for sig in (C, np.stack([C, C, C])):
        pb, cb = bf.curve_fit(decay, x, y2, p0=[1, 1, 0], sigma=sig, nan_policy="omit")
        np.testing.assert_allclose(pb[0], popt, rtol=1e-8)
        np.testing.assert_allclose(cb[0], pcov, rtol=1e-6)
        np.testing.assert_allclose(pb[2], ref2[0], rtol=1e-6)
        np.testing.assert_allclose(cb[2], ref2[1], rtol=1e-4)
    with pytest.raises(ValueError, match=r"`sigma` must be positive definite \(sigma\[1\] is not\)"):
        bf.curve_fit(decay, x, y2[:2], p0=[1, 1, 0], sigma=np.stack([C, -C]))


def test_scipy_input_forms():
    x, y, sigma = _data()
    ref = so.curve_fit(decay_np, x, y, p0=[1, 1, 0], sigma=sigma, **TIGHT)[0]
    # ydata a list, xdata a tuple of rows (a 2-D array), float32 inputs fitted in float64
    p1, _ = bf.curve_fit(lambda xy, a, k, c: decay(xy[0], a, k, c) + 0 * xy[1], (x, x), list(y),
                         p0=[1, 1, 0], sigma=sigma)
    np.testing.assert_allclose(p1, ref, rtol=1e-6)
    p32, c32 = bf.curve_fit(decay, x.astype(np.float32), y.astype(np.float32), p0=[1, 1, 0])
    assert p32.dtype == np.float64 and c32.dtype == np.float64
    p32_ref = so.curve_fit(decay_np, x.astype(np.float32), y.astype(np.float32), p0=[1, 1, 0], **TIGHT)[0]
    np.testing.assert_allclose(p32, p32_ref, rtol=1e-6)
    # least_squares keywords with method='trf' are accepted; jac callables are unused
    p2, _ = bf.curve_fit(decay, x, y, p0=[1, 1, 0], sigma=sigma, method="trf", x_scale="jac",
                         jac=lambda x, a, k, c: None)
    np.testing.assert_allclose(p2, ref, rtol=1e-6)


def test_scipy_optimize_warning_filters_catch_batchfit_warnings():
    x = np.arange(6.0)
    f = lambda x, a, b: a * x  # noqa: E731 - b has no effect: no covariance
    with pytest.warns(so.OptimizeWarning, match="Covariance of the parameters could not be estimated"):
        bf.curve_fit(f, x, 2 * x)
    with pytest.warns(bf.OptimizeWarning):
        bf.curve_fit(f, x, 2 * x)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", so.OptimizeWarning)
        bf.curve_fit(f, x, 2 * x)  # silenced as scipy's would be (filterwarnings=error otherwise)
