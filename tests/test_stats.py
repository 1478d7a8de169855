"""Statistics: closed-form linear regression, singular covariance, scale_covar."""

import jax.numpy as jnp
import numpy as np

import batchfit as bf


def _line_data(seed=0, n=40):
    rng = np.random.default_rng(seed)
    x = np.linspace(-1, 2, n)
    return x, 1.5 * x - 0.7 + rng.normal(0, 0.3, n)


def test_linear_fit_matches_closed_form():
    x, y = _line_data()
    model = bf.Model(lambda x, a, b: a * x + b)
    res = model.fit(y, model.make_params(a=0.0, b=0.0), x=x)
    X = np.stack([x, np.ones_like(x)], 1)
    beta, rss, *_ = np.linalg.lstsq(X, y, rcond=None)
    n, p = X.shape
    cov = np.linalg.inv(X.T @ X) * rss[0] / (n - p)
    np.testing.assert_allclose([res.params["a"].value, res.params["b"].value], beta, rtol=1e-10)
    np.testing.assert_allclose(res.covar, cov, rtol=1e-8)
    np.testing.assert_allclose(res.chisqr, rss[0], rtol=1e-10)
    np.testing.assert_allclose(res.aic, n * np.log(rss[0] / n) + 2 * p, rtol=1e-12)
    np.testing.assert_allclose(res.bic, n * np.log(rss[0] / n) + np.log(n) * p, rtol=1e-12)
    np.testing.assert_allclose(res.redchi, rss[0] / (n - p), rtol=1e-10)
    np.testing.assert_allclose(res.params["a"].correl["b"], cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]),
                               rtol=1e-8)
    np.testing.assert_allclose(res.residual, X @ beta - y, atol=1e-10)
    np.testing.assert_allclose(res.best_fit, X @ beta, atol=1e-10)


def test_scale_covar_false_gives_unscaled_covariance():
    x, y = _line_data(1)
    model = bf.Model(lambda x, a, b: a * x + b)
    scaled = model.fit(y, model.make_params(a=0.0, b=0.0), x=x)
    raw = model.fit(y, model.make_params(a=0.0, b=0.0), x=x, scale_covar=False)
    np.testing.assert_allclose(raw.covar * scaled.redchi, scaled.covar, rtol=1e-10)


def test_tied_parameter_stderr_by_propagation():
    x, y = _line_data(2)
    p = bf.Parameters()
    p.add("a", 0.0)
    p.add("b", 0.0)
    p.add("s", expr="2*a + 3*b")
    res = bf.minimize(lambda p, x, y: p["a"] * x + p["b"] - y, p, args=(x, y))
    g = np.array([2.0, 3.0])
    np.testing.assert_allclose(res.params["s"].stderr, np.sqrt(g @ res.covar @ g), rtol=1e-10)
    np.testing.assert_allclose(res.params["s"].value,
                               2 * res.params["a"].value + 3 * res.params["b"].value, rtol=1e-12)


def test_parameter_without_effect_gives_nan_stderr_and_report_warning():
    x, y = _line_data(3)
    p = bf.Parameters()
    p.add("a", 1.0)
    p.add("b", 0.0)
    p.add("unused", 1.0)
    res = bf.minimize(lambda p, x, y: p["a"] * x + p["b"] - y + 0.0 * p["unused"], p, args=(x, y))
    assert not res.errorbars
    assert np.isnan(res.params["a"].stderr) and np.isnan(res.params["unused"].stderr)
    text = bf.fit_report(res)
    assert "uncertainties could not be estimated" in text
    assert "unused:  at initial value" in text
    X = np.stack([x, np.ones_like(x)], 1)
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose([res.params["a"].value, res.params["b"].value], beta, rtol=1e-9)


def test_fixed_parameter_is_reported_fixed():
    x, y = _line_data(4)
    p = bf.Parameters()
    p.add("a", 1.5, vary=False)
    p.add("b", 0.0)
    res = bf.minimize(lambda p, x, y: p["a"] * x + p["b"] - y, p, args=(x, y))
    np.testing.assert_allclose(res.params["b"].value, np.mean(y - 1.5 * x), rtol=1e-10)
    assert res.params["a"].value == 1.5 and res.params["a"].stderr == 0
    assert "(fixed)" in bf.fit_report(res) and res.nvarys == 1


def test_reverse_mode_jacobian_when_more_parameters_than_residuals():
    """n > m picks jacrev; the Jacobian equals jacfwd's."""
    import jax

    from batchfit.problem._compat import x64_context
    from batchfit.solver import jacobian

    with x64_context(np.float64):
        A = np.random.default_rng(0).normal(size=(3, 7))
        fn = lambda t: jnp.tanh(jnp.asarray(A) @ t)  # noqa: E731
        t = jnp.linspace(0.1, 0.7, 7)
        J, r = jacobian(fn, t)
        np.testing.assert_allclose(J, jax.jacfwd(fn)(t), rtol=1e-12)
        np.testing.assert_allclose(r, fn(t), rtol=1e-14)
        assert J.shape == (3, 7)


def _cubic_reference(x, y):
    """Least-squares cubic, covariance from numpy's SVD-based pseudo-inverse."""
    X = np.stack([np.ones_like(x), x, x**2, x**3], 1)
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    r = X @ beta - y
    P = np.linalg.pinv(X, rcond=1e-15)
    return beta, P @ P.T * (r @ r) / (len(x) - 4)


def _assert_cov_close(cov, ref, tol):
    """Every entry within tol of the scale sqrt(ref_ii ref_jj) (entries that
    vanish by symmetry have no relative precision)."""
    d = np.sqrt(np.diag(ref))
    err = np.abs(cov - ref) / np.outer(d, d)
    assert np.max(err) <= tol, np.max(err)


def test_covariance_fast_path_and_svd_fallback(monkeypatch):
    """The covariance comes from the Cholesky inverse of the scaled JᵀJ where
    that is well conditioned, and from the SVD of J where it is not (a cubic
    on x in [30, 31]: cond(J) ~ 1e9, so JᵀJ would lose everything in
    float64). Both agree with numpy's pseudo-inverse."""
    from batchfit.stats import _compute as _stats

    calls = []
    orig = _stats._covar_svd

    def spy(resid_ext, spec, theta, p, shared):
        calls.append(theta.shape[0])
        return orig(resid_ext, spec, theta, p, shared)

    monkeypatch.setattr(_stats, "_covar_svd", spy)
    rng = np.random.default_rng(5)
    xs = np.stack([np.linspace(-1, 1, 50), np.linspace(30, 31, 50)])
    ys = 1.0 + 0.5 * xs - 0.2 * xs**2 + 0.01 * xs**3 + rng.normal(0, 0.1, xs.shape)
    model = bf.Model(lambda x, a, b, c, d: a + b * x + c * x**2 + d * x**3)
    start = dict(a=np.zeros(2), b=np.zeros(2), c=np.zeros(2), d=np.zeros(2))

    well = model.fit(ys[:1], model.make_params(**{k: v[:1] for k, v in start.items()}), x=xs[:1])
    assert calls == []  # well conditioned: no SVD
    beta, cov = _cubic_reference(xs[0], ys[0])
    _assert_cov_close(well.covar[0], cov, 1e-9)

    res = model.fit(ys, model.make_params(**start), x=xs)
    assert calls == [1]  # only the ill-conditioned fit is redone, padded to its bucket
    assert np.all(res.success)
    for i in range(2):
        beta, cov = _cubic_reference(xs[i], ys[i])
        np.testing.assert_allclose([res.params[n].value[i] for n in "abcd"], beta, rtol=1e-6)
        _assert_cov_close(res.covar[i], cov, 1e-6)
    _assert_cov_close(res.covar[0], well.covar[0], 1e-12)
