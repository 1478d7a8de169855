"""Issue 12 item 6: scalar methods through optax (minimize(method="lbfgs",
"adam", ...)), against scipy.optimize.minimize on the same problems; the
covariance is the inverse Hessian (lmfit's 2 * inv(H) * redchi for a sum
of squares), checked against numpy finite-difference Hessians."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from checks import raises
from lmfit.minimizer import reduce_cauchylogpdf, reduce_negentropy
from scipy.optimize import minimize as sp_minimize

from batchfit import RESULTS, create_params, minimize

T = np.linspace(0.0, 10.0, 80)


def _hessian(f, x, rel=1e-4):
    """Central finite-difference Hessian of a numpy function."""
    n = len(x)
    h = rel * np.maximum(np.abs(x), 1e-2)
    H = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            e, g = np.zeros(n), np.zeros(n)
            e[i], g[j] = h[i], h[j]
            H[i, j] = (f(x + e + g) - f(x + e - g) - f(x - e + g) + f(x - e - g)) / (4 * h[i] * h[j])
    return 0.5 * (H + H.T)


def _scipy(f, x0, bounds=None):
    """A tightly converged scipy minimum (Nelder-Mead, then BFGS/L-BFGS-B)."""
    sol = sp_minimize(f, x0, method="Nelder-Mead", bounds=bounds,
                      options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 50000, "maxfev": 50000})
    method = "L-BFGS-B" if bounds is not None else "BFGS"
    opts = {"ftol": 1e-15, "gtol": 1e-12} if bounds is not None else {"gtol": 1e-10}
    return sp_minimize(f, sol.x, method=method, bounds=bounds, options=opts).x


# -- Poisson negative log-likelihood (scalar objective) -----------------------
def _counts():
    rng = np.random.default_rng(11)
    return rng.poisson(40.0 * np.exp(-T / 3.0) + 2.0).astype(float)


def poisson_nll(p, t, d):
    mu = p["amp"] * jnp.exp(-t / p["tau"]) + p["bkg"]
    return jnp.sum(mu - d * jnp.log(mu))


def _np_poisson(x, d):
    mu = x[0] * np.exp(-T / x[1]) + x[2]
    return np.sum(mu - d * np.log(mu))


def test_poisson_nll_matches_scipy():
    d = _counts()
    params = create_params(amp={"value": 10.0, "min": 0}, tau={"value": 1.0, "min": 0.01}, bkg=1.0)
    res = minimize(poisson_nll, params, args=(T, d), method="lbfgs")
    assert res.success and res.status == RESULTS.GTOL and res.errorbars
    xs = _scipy(lambda x: _np_poisson(x, d), np.array([10.0, 1.0, 1.0]))
    se = np.sqrt(np.diag(np.linalg.inv(_hessian(lambda x: _np_poisson(x, d), xs))))  # inv(H) of the NLL
    for j, n in enumerate(("amp", "tau", "bkg")):
        assert abs(res.params[n].value - xs[j]) < 1e-3 * se[j], n
        assert abs(res.params[n].stderr / se[j] - 1) < 1e-4, n
    # lmfit's statistics of a scalar objective: chisqr is its value, ndata = nfree = 1
    assert abs(res.chisqr - _np_poisson(xs, d)) < 1e-9 * abs(res.chisqr)
    assert res.ndata == 1 and res.nfree == 1


# -- Rosenbrock: scalar and array forms, batched over starts ------------------
def rosen(p):
    return (1 - p["x"]) ** 2 + 100 * (p["y"] - p["x"] ** 2) ** 2


def test_rosenbrock_batched_starts():
    starts = np.array([[-1.2, 1.0], [2.0, -1.0], [0.0, 3.0], [-2.0, -2.0]])
    params = create_params(x=starts[:, 0].copy(), y=starts[:, 1].copy())
    res = minimize(rosen, params, method="lbfgs")
    assert res.batched and np.all(res.success)
    for i, s in enumerate(starts):
        xs = _scipy(lambda v: (1 - v[0]) ** 2 + 100 * (v[1] - v[0] ** 2) ** 2, s)
        assert np.allclose([res.params["x"].value[i], res.params["y"].value[i]], xs, rtol=1e-6, atol=0)
        assert np.allclose(xs, 1.0, rtol=1e-6)  # the reference converged
    H = np.array([[802.0, -400.0], [-400.0, 200.0]])  # closed form at (1, 1)
    C = np.linalg.inv(H)
    assert np.allclose(res.params["x"].stderr, np.sqrt(C[0, 0]), rtol=1e-6)
    assert np.allclose(res.covar[0], C, rtol=1e-6)
    assert np.array_equal(params["x"].value, starts[:, 0])  # inputs are not modified


def test_sum_of_squares_covariance_follows_lmfit():
    """An array objective: minimise its sum of squares; covariance 2 inv(H)
    * redchi with H the Hessian of the sum of squares (lmfit's convention)."""
    rng = np.random.default_rng(3)
    y = 5.0 * np.exp(-T / 2.5) + 0.5 + rng.normal(0, 0.1, T.size)
    f = lambda p, t, y: p["a"] * jnp.exp(-t / p["tau"]) + p["c"] - y  # noqa: E731
    params = create_params(a=1.0, tau={"value": 1.0, "min": 0.1}, c=0.0)
    res = minimize(f, params, args=(T, y), method="lbfgs")
    lm = minimize(f, params, args=(T, y), ftol=1e-14, xtol=1e-14)
    ss = lambda x: np.sum((x[0] * np.exp(-T / x[1]) + x[2] - y) ** 2)  # noqa: E731
    xs = _scipy(ss, np.array([1.0, 1.0, 0.0]))
    redchi = ss(xs) / (T.size - 3)
    se = np.sqrt(np.diag(2 * np.linalg.inv(_hessian(ss, xs)) * redchi))
    for j, n in enumerate(("a", "tau", "c")):
        assert abs(res.params[n].value - xs[j]) < 1e-3 * se[j], n
        assert abs(res.params[n].value - lm.params[n].value) < 1e-3 * se[j], n
        assert abs(res.params[n].stderr / se[j] - 1) < 1e-4, n
    assert res.ndata == T.size and res.nfree == T.size - 3
    assert abs(res.chisqr / lm.chisqr - 1) < 1e-10 and abs(res.redchi - redchi) < 1e-8 * redchi


# -- Gaussian mixture likelihood, bounded parameters --------------------------
def _mixture_data():
    rng = np.random.default_rng(5)
    return np.concatenate([rng.normal(-1.0, 0.6, 300), rng.normal(1.5, 0.9, 200)])


def mixture_nll(p, z):
    def g(mu, s):
        return jnp.exp(-0.5 * ((z - mu) / s) ** 2) / (s * jnp.sqrt(2 * jnp.pi))

    return -jnp.sum(jnp.log(p["w"] * g(p["mu1"], p["s1"]) + (1 - p["w"]) * g(p["mu2"], p["s2"])))


def _np_mixture(x, z):
    w, m1, m2, s1, s2 = x
    g = lambda m, s: np.exp(-0.5 * ((z - m) / s) ** 2) / (s * np.sqrt(2 * np.pi))  # noqa: E731
    return -np.sum(np.log(w * g(m1, s1) + (1 - w) * g(m2, s2)))


def test_mixture_likelihood_with_bounds():
    z = _mixture_data()
    params = create_params(w={"value": 0.5, "min": 0, "max": 1}, mu1=-0.5, mu2=0.5,
                           s1={"value": 1.0, "min": 0.05}, s2={"value": 1.0, "min": 0.05})
    res = minimize(mixture_nll, params, args=(z,), method="lbfgs")
    assert res.success and res.errorbars
    x0 = np.array([0.5, -0.5, 0.5, 1.0, 1.0])
    bounds = [(1e-6, 1 - 1e-6), (None, None), (None, None), (0.05, None), (0.05, None)]
    xs = _scipy(lambda x: _np_mixture(x, z), x0, bounds=bounds)
    se = np.sqrt(np.diag(np.linalg.inv(_hessian(lambda x: _np_mixture(x, z), xs))))
    for j, n in enumerate(("w", "mu1", "mu2", "s1", "s2")):
        v = res.params[n].value
        assert abs(v - xs[j]) < 1e-3 * se[j] or abs(v / xs[j] - 1) < 1e-4, n
        assert abs(res.params[n].stderr / se[j] - 1) < 1e-3, n


# -- lmfit's reduce_fcn --------------------------------------------------------
@pytest.mark.parametrize("reduce_fcn, ref", [("neglogcauchy", reduce_cauchylogpdf),
                                             ("negentropy", reduce_negentropy)])
def test_reduce_fcn_matches_lmfit_reductions(reduce_fcn, ref):
    rng = np.random.default_rng(9)
    y = 2.0 * T + 1.0 + rng.standard_cauchy(T.size) * 0.3
    f = lambda p, t, y: (p["a"] * t + p["b"] - y) / 0.3  # noqa: E731
    res = minimize(f, create_params(a=1.5, b=0.5), args=(T, y), method="lbfgs", reduce_fcn=reduce_fcn)
    xs = _scipy(lambda x: ref((x[0] * T + x[1] - y) / 0.3), np.array([1.5, 0.5]))
    assert res.success
    assert np.allclose([res.params["a"].value, res.params["b"].value], xs, rtol=1e-4, atol=0)


def test_reduce_fcn_callable():
    y = 3.0 * T - 2.0 + np.random.default_rng(2).normal(0, 0.5, T.size)
    f = lambda p, t, y: p["a"] * t + p["b"] - y  # noqa: E731
    l1 = lambda r: jnp.sum(jnp.sqrt(1.0 + r * r))  # noqa: E731  (a smooth L1 loss)
    res = minimize(f, create_params(a=1.0, b=0.0), args=(T, y), method="lbfgs", reduce_fcn=l1)
    xs = _scipy(lambda x: np.sum(np.sqrt(1 + (x[0] * T + x[1] - y) ** 2)), np.array([1.0, 0.0]))
    assert np.allclose([res.params["a"].value, res.params["b"].value], xs, rtol=1e-5, atol=0)


# -- first-order methods, statuses ---------------------------------------------
def test_sgd_converges_and_adam_reports_max_nfev():
    c = np.array([1.0, -2.0, 3.0])
    quad = lambda p, c: (p["a"] - c[0]) ** 2 + 2 * (p["b"] - c[1]) ** 2 + 0.5 * (p["d"] - c[2]) ** 2  # noqa: E731
    params = create_params(a=0.0, b=0.0, d=0.0)
    res = minimize(quad, params, args=(c,), method="sgd", learning_rate=0.1, max_nfev=5000)
    # stopped on the objective's change (|df| <= ftol * max(1, |f|), as scipy's L-BFGS-B)
    assert res.status in (RESULTS.GTOL, RESULTS.FTOL) and res.success and res.chisqr < 1e-13
    assert np.allclose([res.params[n].value for n in "abd"], c, rtol=0, atol=1e-6)
    assert np.allclose(res.covar, np.diag([0.5, 0.25, 1.0]), rtol=1e-8)  # inv(H), H = diag(2, 4, 1)
    short = minimize(quad, params, args=(c,), method="adam", max_nfev=20)
    assert short.status == RESULTS.MAX_NFEV and not short.success and not short.errorbars
    assert short.nfev == 20


def test_one_bad_fit_gets_a_status():
    f = lambda p: (jnp.log(p["a"]) - 1.0) ** 2 + (p["b"] - 2.0) ** 2  # noqa: E731
    res = minimize(f, create_params(a=np.array([2.0, -1.0, 5.0]), b=0.0), method="lbfgs")
    assert list(res.success) == [True, False, True]
    assert res.status[1] == RESULTS.NONFINITE_START
    assert np.allclose(res.params["a"].value[[0, 2]], np.e, rtol=1e-8)


def test_scalar_method_errors(no_solve):
    f = lambda p: p["a"] ** 2  # noqa: E731
    params = create_params(a=1.0)
    with raises(ValueError, "xtol", "lbfgs"):
        minimize(f, params, method="lbfgs", xtol=1e-8)
    with raises(ValueError, "reduce_fcn", "'negative'"):
        minimize(f, params, method="lbfgs", reduce_fcn="negative")
    with raises(ValueError, "reduce_fcn", "scalar methods"):
        minimize(f, params, reduce_fcn="negentropy")
    with raises(ValueError, "float64 only"):
        minimize(f, params, method="adam", dtype="float32")
    with raises(ValueError, "method must be one of", "lbfgs"):
        minimize(f, params, method="bfgs_typo")
