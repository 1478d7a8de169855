"""Model.fit with optax's scalar methods against scipy.optimize.minimize on
the same objective (the weighted sum of squares), one fit and a batch."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import minimize

import batchfit as bf

X = np.linspace(0.0, 5.0, 60)


def decay(x, a, k, c):
    return a * jnp.exp(-k * x) + c


def _data(seed):
    rng = np.random.default_rng(seed)
    truth = np.array([[3.0, 0.7, 0.5], [2.0, 1.3, 0.2], [4.0, 0.4, -0.3]])
    clean = truth[:, :1] * np.exp(-truth[:, 1:2] * X) + truth[:, 2:]
    return clean + rng.normal(0, 0.05, clean.shape)


def _scipy(y, w):
    def f(t):
        return np.sum(((t[0] * np.exp(-t[1] * X) + t[2] - y) * w) ** 2)

    out = minimize(f, [1.0, 0.5, 0.0], method="L-BFGS-B", bounds=[(None, None), (0, None), (None, None)],
                   options=dict(ftol=1e-15, gtol=1e-12, maxiter=20000))
    return out.x, out.fun


@pytest.mark.parametrize("method", ["lbfgs", "l-bfgs-b"])
def test_batch_matches_scipy(method):
    y = _data(1)
    w = np.stack([np.full(X.size, 20.0), np.full(X.size, 10.0), 1.0 / (0.04 + 0.01 * X)])
    model = bf.Model(decay)
    params = model.make_params(a=1.0, k=dict(value=0.5, min=0), c=0.0)
    res = model.fit(y, params, x=X, weights=w, method=method)
    assert res.batched and np.all(res.success)
    for i in range(len(y)):
        ref, chi2 = _scipy(y[i], w[i])
        assert res.chisqr[i] <= chi2 * (1 + 1e-9)
        np.testing.assert_array_less(np.abs(res.values_all[i] - ref) / res.stderr_all[i], 1e-3)
    # the same objective through minimize gives the same result, stderr included
    ref = bf.minimize(lambda p, yy, ww: (decay(X, p["a"], p["k"], p["c"]) - yy) * ww, params,
                      per_fit_args=(y, w), method=method)
    np.testing.assert_allclose(res.values_all, ref.values_all, rtol=1e-9)
    np.testing.assert_allclose(res.stderr_all, ref.stderr_all, rtol=1e-9)
    a, k, c = (res.values_all[:, j, None] for j in range(3))
    np.testing.assert_allclose(res.best_fit, a * np.exp(-k * X) + c, rtol=1e-9)


def test_single_fit_and_errors():
    y = _data(2)[0]
    model = bf.Model(decay)
    params = model.make_params(a=1.0, k=dict(value=0.5, min=0), c=0.0)
    res = model.fit(y, params, x=X, method="lbfgs")
    assert not res.batched and res.success and res.best_fit.shape == y.shape
    ref, chi2 = _scipy(y, 1.0)
    assert res.chisqr <= chi2 * (1 + 1e-9)
    for j, n in enumerate(("a", "k", "c")):
        assert abs(res.params[n].value - ref[j]) < 1e-3 * res.params[n].stderr
    with pytest.raises(ValueError, match="scalar method"):
        model.fit(np.stack([y, y]), params, x=X, method="lbfgs", shared=["k"])
    with pytest.raises(ValueError, match="weights of shape"):
        model.fit(y, params, x=X, method="lbfgs", weights=np.ones(7))
