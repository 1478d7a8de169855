"""A fit that converges to a saddle (J singular there, chi2 falling only at
higher order along its null direction) is run again off it (engine/_saddle.py)."""
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.special import erf
from scipy.optimize import least_squares
from scipy.special import erf as np_erf

import batchfit as bf

X = np.linspace(-5, 5, 201)


def skewed(x, a, c, s, g):
    return a / (s * jnp.sqrt(2 * jnp.pi)) * jnp.exp(-(x - c) ** 2 / (2 * s * s)) * (
        1 + erf(g * (x - c) / (s * jnp.sqrt(2.0))))


def skewed_np(x, a, c, s, g):
    return a / (s * np.sqrt(2 * np.pi)) * np.exp(-(x - c) ** 2 / (2 * s * s)) * (
        1 + np_erf(g * (x - c) / (s * np.sqrt(2.0))))


def _data(seed, n=1):
    rng = np.random.default_rng(seed)
    clean = skewed_np(X, 3.0, 0.4, 0.9, 2.0)
    return clean + rng.normal(0, 0.01 * clean.max(), (n, X.size))


def _scipy(y):
    """scipy's TRF, tightly converged from an asymmetric start, with stderrs."""
    f = lambda p: skewed_np(X, *p) - y  # noqa: E731
    r = least_squares(f, [4.0, 1.0, 0.7, 0.5], xtol=1e-15, ftol=1e-15, gtol=1e-15, method="lm")
    J = r.jac
    cov = np.linalg.inv(J.T @ J) * 2 * r.cost / (X.size - 4)
    return r.x, np.sqrt(np.diag(cov)), 2 * r.cost


def _params(n):
    p = bf.Parameters()
    p.add("a", value=np.full(n, 4.0), min=0)
    p.add("c", value=1.0)
    p.add("s", value=0.7, min=0)
    p.add("g", value=0.0)  # symmetric start: gamma acts as the centre does
    return p


def objective(params, x, y):
    return skewed(x, params["a"], params["c"], params["s"], params["g"]) - y


def test_symmetric_start_escapes_the_saddle_and_reaches_scipy():
    y = _data(0, n=3)
    res = bf.minimize(objective, _params(3), args=(X,), per_fit_args=(y,))
    assert np.all(res.success)
    for i in range(3):
        ref, se, chi2 = _scipy(y[i])
        got = np.array([np.asarray(res.params[n].value)[i] for n in "acsg"])
        assert np.all(np.abs(got - ref) <= 1e-3 * se), (got, ref)
        assert res.chisqr[i] == pytest.approx(chi2, rel=1e-9)


def test_without_restart_the_symmetric_fit_is_the_saddle():
    """The case the escape exists for: the plain LM stops at gamma = 0 with a
    chi2 several times scipy's."""
    y = _data(0)
    res = bf.minimize(objective, _params(1), args=(X,), per_fit_args=(y,), config=bf.LMConfig(restart=False))
    _, _, chi2 = _scipy(y[0])
    assert abs(float(np.asarray(res.params["g"].value).ravel()[0])) < 1e-3
    assert float(np.ravel(res.chisqr)[0]) > 3 * chi2


def test_neighbours_are_unchanged_and_nfev_counts_both_runs():
    y = _data(0)
    rng = np.random.default_rng(1)
    # asymmetric starts: no saddle; their fits must not depend on the saddle fit's company
    others = skewed_np(X, 3.0, 0.4, 0.9, 2.0) + rng.normal(0, 0.05, (2, X.size))
    p = _params(3)
    p["g"].set(value=np.array([0.0, 1.0, 1.5]))
    both = bf.minimize(objective, p, args=(X,), per_fit_args=(np.concatenate([y, others]),))
    q = _params(2)
    q["g"].set(value=np.array([1.0, 1.5]))
    alone = bf.minimize(objective, q, args=(X,), per_fit_args=(others,))
    for n in "acsg":
        np.testing.assert_array_equal(np.asarray(both.params[n].value)[1:], np.asarray(alone.params[n].value))
    np.testing.assert_array_equal(both.nfev[1:], alone.nfev)
    plain = bf.minimize(objective, _params(1), args=(X,), per_fit_args=(y,), config=bf.LMConfig(restart=False))
    assert both.nfev[0] > np.ravel(plain.nfev)[0]
