"""statistic='cstat': Poisson maximum likelihood, against scipy on the same
negative log-likelihood, closed forms and numpy."""

import jax.numpy as jnp
import numpy as np
import pytest
from checks import raises
from scipy.optimize import minimize as sp_minimize
from scipy.special import gammaln

import batchfit as bf

X = np.linspace(0.0, 10.0, 40)


def decay(x, a, b, c):
    return a * jnp.exp(-x / b) + c


def decay_np(x, a, b, c):
    return a * np.exp(-x / b) + c


def decay_jac(x, a, b, c):
    e = np.exp(-x / b)
    return np.stack([e, a * e * x / b**2, np.ones_like(x)], axis=-1)


MODEL = bf.Model(decay)


def cstat_np(m, d):
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(d > 0, d * np.log(np.where(d > 0, d, 1.0) / m), 0.0)
    return 2.0 * np.sum(m - d + t)


def mle(y, p0, x=X):
    """scipy's tightly converged minimum of C (analytic gradient)."""
    def fun(p):
        m = decay_np(x, *p)
        if np.any(m <= 0):
            return np.inf, np.zeros(3)
        return cstat_np(m, y), decay_jac(x, *p).T @ (2.0 * (1.0 - y / m))

    res = sp_minimize(fun, p0, jac=True, method="BFGS", options={"gtol": 1e-11, "maxiter": 5000})
    assert np.linalg.norm(fun(res.x)[1]) < 1e-7
    return res.x


def fisher_stderr(p, x=X):
    m = decay_np(x, *p)
    J = decay_jac(x, *p)
    return np.sqrt(np.diag(np.linalg.inv(J.T @ (J / m[:, None]))))


def counts(rng, n, a=5.0, b=3.0, c=0.3):
    return rng.poisson(decay_np(X, a, b, c), size=(n, X.size)).astype(float)


def test_single_fit_matches_scipy_mle_and_fisher_stderr():
    y = counts(np.random.default_rng(0), 1)[0]
    res = MODEL.fit(y, MODEL.make_params(a=3, b=2, c=1), x=X, statistic="cstat")
    assert res.success
    v = np.array([res.params[n].value for n in "abc"])
    se = np.array([res.params[n].stderr for n in "abc"])
    ref = mle(y, [3, 2, 1])
    assert np.max(np.abs(v - ref) / se) < 1e-3
    np.testing.assert_allclose(se, fisher_stderr(v), rtol=1e-8)  # unscaled inverse Fisher
    C = cstat_np(decay_np(X, *ref), y)
    np.testing.assert_allclose(res.cstat, C, rtol=1e-10)
    np.testing.assert_allclose(res.chisqr, C, rtol=1e-10)
    neg2ll = -2 * np.sum(y * np.log(decay_np(X, *ref)) - decay_np(X, *ref) - gammaln(y + 1))
    np.testing.assert_allclose(res.aic, neg2ll + 2 * 3, rtol=1e-9)
    np.testing.assert_allclose(res.bic, neg2ll + np.log(X.size) * 3, rtol=1e-9)
    np.testing.assert_allclose(res.best_fit, decay_np(X, *v), rtol=1e-12)
    report = bf.fit_report(res)
    assert "C-statistic" in report and "chi-square" not in report


def test_constant_model_many_zeros_closed_form():
    """The MLE of a constant is the mean, its Fisher stderr sqrt(mean/n)."""
    rng = np.random.default_rng(1)
    y = rng.poisson(0.3, size=(4, 50)).astype(float)  # about 75 % zeros
    assert np.mean(y == 0) > 0.6
    model = bf.Model(lambda x, c: c + 0.0 * x, name="const")
    res = model.fit(y, model.make_params(c=1.0), x=np.arange(50.0), statistic="cstat")
    assert res.success.all()
    mean = y.mean(axis=1)
    se = np.sqrt(mean / 50)
    assert np.max(np.abs(res.params["c"].value - mean) / se) < 1e-6
    np.testing.assert_allclose(res.params["c"].stderr, se, rtol=1e-6)
    np.testing.assert_allclose(res.cstat, [cstat_np(np.full(50, mu), d) for mu, d in zip(mean, y)],
                               rtol=1e-10)


def test_batch_matches_scipy_and_a_nonpositive_model_gets_a_status():
    rng = np.random.default_rng(2)
    y = counts(rng, 5)
    p = MODEL.make_params(a=3, b=2, c=1)
    start_c = np.array([1.0, 1.0, -50.0, 1.0, 1.0])  # fit 2: model < 0 where counts > 0
    p["c"].value = start_c
    res = MODEL.fit(y, p, x=X, statistic="cstat")
    assert list(res.status != bf.RESULTS.MODEL_NONPOSITIVE) == [True, True, False, True, True]
    assert not res.success[2] and not res.errorbars[2]
    assert not bf.RESULTS.MODEL_NONPOSITIVE.success
    good = [0, 1, 3, 4]
    assert res.success[good].all()
    for i in good:
        ref = mle(y[i], [3, 2, 1])
        v = np.array([res.params[n].value[i] for n in "abc"])
        se = np.array([res.params[n].stderr[i] for n in "abc"])
        assert np.max(np.abs(v - ref) / se) < 1e-3
    assert np.isnan(res.cstat[2]) and np.isfinite(res.cstat[good]).all()


@pytest.mark.parametrize("solver", ["dense", "schur"])
def test_shared_group_matches_scipy_joint_mle(solver):
    rng = np.random.default_rng(3)
    A = np.array([4.0, 6.0, 8.0])
    y = np.stack([rng.poisson(decay_np(X, a, 3.0, 0.5)) for a in A]).astype(float)
    res = MODEL.fit(y, MODEL.make_params(a=3, b=2, c=1), x=X, statistic="cstat", shared=["b"],
                    group_solver=solver)
    assert res.success and res.solver == solver

    def fun(q):  # q = [b, a0, a1, a2, c0, c1, c2]
        b, a, c = q[0], q[1:4], q[4:7]
        m = decay_np(X[None], a[:, None], b, c[:, None])
        if np.any(m <= 0):
            return np.inf, np.zeros(7)
        w = 2.0 * (1.0 - y / m)
        e = np.exp(-X / b)
        g = [np.sum(w * a[:, None] * e * X / b**2)] + list(np.sum(w * e, axis=1)) + list(np.sum(w, axis=1))
        return cstat_np(m, y), np.array(g)

    ref = sp_minimize(fun, [2, 3, 3, 3, 1, 1, 1], jac=True, method="BFGS",
                      options={"gtol": 1e-11, "maxiter": 5000}).x
    v = np.concatenate([[res.params["b"].value], res.params["a"].value, res.params["c"].value])
    se = np.concatenate([[res.params["b"].stderr], res.params["a"].stderr, res.params["c"].stderr])
    assert np.max(np.abs(v - ref) / se) < 1e-3
    np.testing.assert_allclose(res.cstat, fun(ref)[0], rtol=1e-9)
    np.testing.assert_allclose(res.best_fit, decay_np(X[None], v[1:4, None], v[0], v[4:7, None]),
                               rtol=1e-12)


def test_curve_fit_cstat():
    y = counts(np.random.default_rng(4), 1)[0]
    popt, pcov = bf.curve_fit(decay, X, y, p0=[3, 2, 1], statistic="cstat")
    ref = mle(y, [3, 2, 1])
    se = fisher_stderr(popt)
    assert np.max(np.abs(popt - ref) / se) < 1e-3
    np.testing.assert_allclose(np.sqrt(np.diag(pcov)), se, rtol=1e-8)


def test_bad_inputs_raise_before_compiling(no_solve):
    y = np.array([1.0, 0.0, 3.0, 2.0, 5.0, 1.0])
    x = np.arange(6.0)
    p = MODEL.make_params(a=1, b=1, c=1)
    with raises(ValueError, "statistic='cstat'", "weights"):
        MODEL.fit(y, p, x=x, statistic="cstat", weights=np.ones(6))
    with raises(ValueError, "counts >= 0", "= -3.0"):
        MODEL.fit(np.array([1.0, 0.0, -3.0, 2.0, 5.0, 1.0]), p, x=x, statistic="cstat")
    with raises(ValueError, "statistic must be one of", "'poisson'"):
        MODEL.fit(y, p, x=x, statistic="poisson")
    with raises(ValueError, "no robust loss"):
        MODEL.fit(y, p, x=x, statistic="cstat", loss="huber")
    with raises(ValueError, "curve_fit", "weights"):
        bf.curve_fit(decay, x, y, p0=[1, 1, 1], sigma=np.ones(6), statistic="cstat")


def test_cli_statistic_cstat(tmp_path, capsys):
    import csv

    from batchfit.cli import main

    y = np.random.default_rng(5).poisson(0.7, size=(3, 40)).astype(float)
    np.save(tmp_path / "y.npy", y)
    code = main([str(tmp_path / "y.npy"), "--model", "constant", "--statistic", "cstat",
                 "--param", "c=2", "--out", str(tmp_path / "r.csv")])
    out = capsys.readouterr().out
    assert code == 0 and "C-statistic" in out
    with open(tmp_path / "r.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    c = np.array([float(r["c"]) for r in rows])
    se = np.array([float(r["c_stderr"]) for r in rows])
    mean = y.mean(axis=1)
    assert np.max(np.abs(c - mean) / np.sqrt(mean / 40)) < 1e-6
    np.testing.assert_allclose(se, np.sqrt(mean / 40), rtol=1e-6)
    assert main([str(tmp_path / "y.npy"), "--model", "constant", "--statistic", "cstat",
                 "--weights", str(tmp_path / "y.npy")]) == 2
    assert "weights make no sense" in capsys.readouterr().err
