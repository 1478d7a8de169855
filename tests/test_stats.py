"""Statistics: closed-form linear regression, singular covariance, scale_covar."""

from fractions import Fraction

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


def _exact_polyfit(x, y, n):
    """Exact least squares of the float64 data (rational arithmetic, then
    rounded once): coefficients, (XᵀX)⁻¹ and the residual sum of squares."""
    X = [[Fraction(float(xi)) ** k for k in range(n)] for xi in x]
    Y = [Fraction(float(yi)) for yi in y]
    # Gauss-Jordan on [XᵀX | I | Xᵀy]
    M = [[sum(r[i] * r[j] for r in X) for j in range(n)] + [Fraction(int(i == j)) for j in range(n)]
         + [sum(r[i] * v for r, v in zip(X, Y))] for i in range(n)]
    for c in range(n):
        M[c] = [v / M[c][c] for v in M[c]]  # XᵀX is positive definite: no pivoting needed
        for i in range(n):
            if i != c:
                M[i] = [a - M[i][c] * b for a, b in zip(M[i], M[c])]
    beta = [M[i][2 * n] for i in range(n)]
    rss = sum((sum(b * v for b, v in zip(beta, r)) - yy) ** 2 for r, yy in zip(X, Y))
    inv = np.array([[float(M[i][n + j]) for j in range(n)] for i in range(n)])
    return np.array([float(b) for b in beta]), inv, float(rss)


def _cov_error(cov, ref):
    """Largest error of a covariance, each entry relative to the scale
    sqrt(ref_ii ref_jj) (entries that vanish by symmetry have no relative
    precision)."""
    d = np.sqrt(np.diag(ref))
    return np.max(np.abs(cov - ref) / np.outer(d, d))


def test_covariance_fast_path_and_svd_fallback(monkeypatch):
    """The covariance comes from the Cholesky inverse of the scaled JᵀJ where
    that is well conditioned, and from the SVD of J where it is not (a cubic
    on x in [30, 31]: cond(J) ~ 4e10, so JᵀJ would lose everything in
    float64). Both are held against the exact least-squares solution of the
    same float64 data (rational arithmetic), to bounds derived from the
    conditioning, not tuned on one CPU:

    - Values, in units of the standard error: within the distance at which
      float64 can no longer tell a solution from the optimum. Evaluating the
      cubic rounds each residual by up to ``delta_i = 2 n eps (|y_i| +
      sum_k |b_k x_i^k|)`` (terms of 3e4 cancel to 1 at x = 30), so chi2 is
      known to ``dchi2 = 2 |r| |delta| + |delta|^2``, and a point with chi2
      within dchi2 of the optimum lies up to ``sqrt(dchi2 / sigma^2)``
      standard errors from it (6e-4 for the cubic at x = 30, 2e-6 at x = 0).
      Measured (this solver, 2026-12-01, Intel Xeon with AVX-512, and the
      same under XLA_FLAGS=--xla_cpu_max_isa=AVX2 and SSE4_2): 1.1e-6, 1.1e-6
      and 6.5e-6 standard errors at x = 30. A bare rtol of 1e-6 against
      numpy's lstsq failed on an AMD EPYC and under SSE4_2.
    - Covariance, each entry relative to sqrt(C_ii C_jj): the SVD of the
      column-scaled J is backward stable (error ~ sqrt(m n) eps |J|), which
      the inverse of JᵀJ amplifies by 2 cond(J_scaled): 8e-8 here, measured
      7e-10. The Cholesky path squares the condition: 2 sqrt(m n) cond^2
      eps (1.4e-13 at x = 0, measured 2.6e-15)."""
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
    eps = np.finfo(float).eps
    m, n = xs.shape[1], 4

    def bounds(x, y):
        beta, inv, rss = _exact_polyfit(x, y, n)
        X = np.stack([x**k for k in range(n)], 1)
        kappa = np.linalg.cond(X / np.linalg.norm(X, axis=0))
        delta = 2 * n * eps * (np.abs(y) + np.abs(X) @ np.abs(beta))
        dchi2 = 2 * np.sqrt(rss) * np.linalg.norm(delta) + delta @ delta
        cov = inv * rss / (m - n)
        tol_svd, tol_chol = (2 * np.sqrt(m * n) * kappa**p * eps for p in (1, 2))
        return beta, cov, rss, dchi2, np.sqrt(dchi2 / (rss / (m - n))), tol_svd, tol_chol

    well = model.fit(ys[:1], model.make_params(**{k: v[:1] for k, v in start.items()}), x=xs[:1])
    assert calls == []  # well conditioned: no SVD
    *_, tol_chol0 = bounds(xs[0], ys[0])
    assert _cov_error(well.covar[0], bounds(xs[0], ys[0])[1]) <= tol_chol0

    res = model.fit(ys, model.make_params(**start), x=xs)
    assert calls == [1]  # only the ill-conditioned fit is redone, padded to its bucket
    assert np.all(res.success)
    for i, path in ((0, "chol"), (1, "svd")):
        beta, cov, rss, dchi2, dmax, tol_svd, tol_chol = bounds(xs[i], ys[i])
        values = np.array([res.params[k].value[i] for k in "abcd"])
        se = np.sqrt(np.diag(cov))
        assert np.max(np.abs(values - beta) / se) <= dmax, (values, beta, dmax)
        assert res.chisqr[i] <= rss + dchi2
        assert _cov_error(res.covar[i], cov) <= (tol_chol if path == "chol" else tol_svd)
    assert _cov_error(res.covar[0], well.covar[0]) <= 2 * tol_chol0
