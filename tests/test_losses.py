"""Robust losses (loss=, f_scale=) against scipy.optimize.least_squares and
scipy's curve_fit on the same data with outliers."""

import jax.numpy as jnp
import numpy as np
import pytest
from checks import raises
from scipy.optimize import curve_fit as sp_curve_fit
from scipy.optimize import least_squares

import batchfit as bf

X = np.linspace(0.0, 4.0, 30)
F_SCALE = 0.3
TIGHT = {"method": "trf", "xtol": 1e-15, "ftol": 1e-15, "gtol": 1e-15, "max_nfev": 10000}


def decay(x, a, k, c):
    return a * jnp.exp(-k * x) + c


def decay_np(x, a, k, c):
    return a * np.exp(-k * x) + c


def decay_jac(x, a, k, c):
    e = np.exp(-k * x)
    return np.stack([e, -a * x * e, np.ones_like(x)], axis=-1)


MODEL = bf.Model(decay)
RHO = {  # scipy.optimize.least_squares' definitions
    "soft_l1": lambda z: 2 * (np.sqrt(1 + z) - 1),
    "huber": lambda z: np.where(z <= 1, z, 2 * np.sqrt(z) - 1),
    "cauchy": np.log1p,
    "arctan": np.arctan,
}


def outlier_data(n, seed=0):
    rng = np.random.default_rng(seed)
    y = decay_np(X, 2.0, 1.3, 0.5) + rng.normal(0.0, 0.1, (n, X.size))
    for i in range(n):  # three gross outliers per dataset
        idx = rng.choice(X.size, 3, replace=False)
        y[i, idx] += rng.choice([-1, 1], 3) * rng.uniform(1.0, 3.0, 3)
    return y


def scipy_fit(y, loss, p0=(1.0, 1.0, 0.0)):
    res = least_squares(lambda p: decay_np(X, *p) - y, p0, jac=lambda p: decay_jac(X, *p),
                        loss=loss, f_scale=F_SCALE, **TIGHT)
    assert res.status > 0
    return res.x


@pytest.mark.parametrize("loss", ["soft_l1", "huber", "cauchy", "arctan"])
def test_batch_matches_least_squares_and_curve_fit_pcov(loss):
    y = outlier_data(3)
    popt, pcov, info, _, ier = bf.curve_fit(decay, X, y, p0=[1.0, 1.0, 0.0], loss=loss, f_scale=F_SCALE,
                                            full_output=True)
    assert info["result"].success.all(), ier
    for i in range(3):
        ref = scipy_fit(y[i], loss)
        _, ref_cov = sp_curve_fit(decay_np, X, y[i], p0=[1.0, 1.0, 0.0], jac=lambda x, *p: decay_jac(x, *p),
                                  loss=loss, f_scale=F_SCALE, **TIGHT)
        se = np.sqrt(np.diag(pcov[i]))
        assert np.max(np.abs(popt[i] - ref) / se) < 1e-3, (loss, i)
        np.testing.assert_allclose(pcov[i], ref_cov, rtol=1e-4)
        # chisqr is twice scipy's cost
        f = (decay_np(X, *popt[i]) - y[i]) / F_SCALE
        cost = 0.5 * F_SCALE**2 * np.sum(RHO[loss](f * f))
        np.testing.assert_allclose(info["result"].chisqr[i], 2 * cost, rtol=1e-10)
    # the robust fit is not the least-squares one
    plain = bf.curve_fit(decay, X, y, p0=[1.0, 1.0, 0.0])[0]
    assert np.max(np.abs(plain - popt) / np.sqrt(np.diagonal(pcov, axis1=1, axis2=2))) > 0.5


def test_model_fit_single_and_group_huber():
    y = outlier_data(3, seed=1)
    res = MODEL.fit(y[0], MODEL.make_params(a=1, k=1, c=0), x=X, loss="huber", f_scale=F_SCALE)
    assert res.success
    v = np.array([res.params[n].value for n in "akc"])
    se = np.array([res.params[n].stderr for n in "akc"])
    assert np.max(np.abs(v - scipy_fit(y[0], "huber")) / se) < 1e-3
    np.testing.assert_allclose(res.best_fit, decay_np(X, *v), rtol=1e-12)
    assert "2 cost (huber)" in bf.fit_report(res)

    grp = MODEL.fit(y, MODEL.make_params(a=1, k=1, c=0), x=X, loss="huber", f_scale=F_SCALE, shared=["k"])
    assert grp.success

    def fun(q):  # q = [k, a0, a1, a2, c0, c1, c2]
        return (decay_np(X[None], q[1:4, None], q[0], q[4:7, None]) - y).ravel()

    ref = least_squares(fun, [1, 1, 1, 1, 0, 0, 0], loss="huber", f_scale=F_SCALE, **TIGHT).x
    v = np.concatenate([[grp.params["k"].value], grp.params["a"].value, grp.params["c"].value])
    se = np.concatenate([[grp.params["k"].stderr], grp.params["a"].stderr, grp.params["c"].stderr])
    assert np.max(np.abs(v - ref) / se) < 1e-3


def test_minimize_soft_l1():
    y = outlier_data(1, seed=2)[0]
    p = bf.Parameters()
    for n, v in zip("akc", (1.0, 1.0, 0.0)):
        p.add(n, v)
    res = bf.minimize(lambda p, x, y: decay(x, p["a"], p["k"], p["c"]) - y, p, args=(X, y),
                      loss="soft_l1", f_scale=F_SCALE)
    assert res.success
    v = np.array([res.params[n].value for n in "akc"])
    se = np.array([res.params[n].stderr for n in "akc"])
    assert np.max(np.abs(v - scipy_fit(y, "soft_l1")) / se) < 1e-3
    assert "2 cost (soft_l1)" in bf.fit_report(res)


def test_bad_loss_arguments_raise_before_compiling(no_solve):
    p = MODEL.make_params(a=1, k=1, c=0)
    y = decay_np(X, 2.0, 1.3, 0.5)
    with raises(ValueError, "loss must be one of", "'tukey'"):
        MODEL.fit(y, p, x=X, loss="tukey")
    with raises(ValueError, "f_scale must be positive", "-1.0"):
        MODEL.fit(y, p, x=X, loss="huber", f_scale=-1.0)
    with raises(TypeError, "f_scale must be a positive number"):
        bf.curve_fit(decay, X, y, p0=[1, 1, 0], loss="huber", f_scale="1")
    with raises(ValueError, "minimize", "loss must be one of"):
        bf.minimize(lambda p: p["a"] - 1.0, bf.create_params(a=0.0), loss="l1")
