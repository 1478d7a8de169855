"""The Schur group solver with a per-dataset parameter ending on its bound
(it used to run to MAX_NFEV), against scipy's least_squares(method='trf',
bounds=...) on the same problem written densely, and the dense group solver."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import least_squares

import batchfit as bf
from batchfit.solver import RESULTS

T = np.linspace(0.0, 10.0, 50)
K = 4


def decay(t, amp, tau, bg):
    return amp * jnp.exp(-t / tau) + bg


def _counts(seed):
    """Low-count decays (the statistics example's): two of the four
    backgrounds end on their bound 0 in the fit."""
    rng = np.random.default_rng(seed)
    truth = np.stack([rng.uniform(4, 8, K), rng.uniform(2, 4, K), rng.uniform(0.1, 0.3, K)], axis=1)
    mean = truth[:, :1] * np.exp(-T / truth[:, 1:2]) + truth[:, 2:]
    return rng.poisson(mean).astype(float)


def _scipy(y):
    """tau shared, amp and bg per dataset (bg >= 0), one dense problem."""

    def resid(p):
        tau, amp, bg = p[0], p[1:1 + K], p[1 + K:]
        return (amp[:, None] * np.exp(-T / tau) + bg[:, None] - y).ravel()

    x0 = np.concatenate([[3.0], np.full(K, 5.0), np.full(K, 0.5)])
    lo = np.concatenate([[-np.inf], np.full(K, -np.inf), np.zeros(K)])
    out = least_squares(resid, x0, bounds=(lo, np.inf), method="trf", ftol=1e-15, xtol=1e-15, gtol=1e-15,
                        max_nfev=10000)
    return out.x, 2 * out.cost


@pytest.mark.parametrize("seed", [0, 5])
def test_schur_parameter_on_bound_matches_scipy(seed):
    y = _counts(seed)
    model = bf.Model(decay)
    params = model.make_params(amp=5.0, tau=3.0, bg={"value": 0.5, "min": 0.0})
    x, chi2 = _scipy(y)
    ref = {"tau": x[0], "amp": x[1:1 + K], "bg": x[1 + K:]}
    assert np.sum(x[1 + K:] < 1e-8) >= 1  # the case: a background on its bound
    dense = model.fit(y, params, t=T, shared=["tau"], group_solver="dense")
    res = model.fit(y, params, t=T, shared=["tau"], group_solver="schur")
    assert res.solver == "schur" and res.success, RESULTS(int(res.status)).name
    assert res.nfev < 500  # it ran to MAX_NFEV (8000) before
    assert res.chisqr <= chi2 * (1 + 1e-9)
    for name, v in ref.items():
        err = np.where(res.params[name].stderr > 0, res.params[name].stderr, dense.params[name].stderr)
        on = np.asarray(v) < 1e-8  # on the bound: stderr 0 there, compare absolutely
        diff = np.abs(np.asarray(res.params[name].value) - v)
        scale = np.where(on | ~(np.asarray(err) > 0), 1.0, err)
        assert np.all(diff / scale < 1e-3), (name, diff, err)
        np.testing.assert_allclose(res.params[name].value, dense.params[name].value, rtol=1e-6, atol=1e-9)


def test_schur_cstat_on_bound_converges():
    """The statistics example's group under cstat: as the dense solver."""
    y = _counts(0)
    model = bf.Model(decay)
    params = model.make_params(amp=5.0, tau=3.0, bg={"value": 0.5, "min": 0.0})
    dense = model.fit(y, params, t=T, statistic="cstat", shared=["tau"], group_solver="dense")
    res = model.fit(y, params, t=T, statistic="cstat", shared=["tau"], group_solver="schur")
    assert res.success and res.nfev < 500
    assert res.cstat <= dense.cstat * (1 + 1e-9)
    for name in ("tau", "amp", "bg"):
        err = np.asarray(dense.params[name].stderr)
        diff = np.abs(np.asarray(res.params[name].value) - dense.params[name].value)
        assert np.all(diff <= 1e-3 * np.where(err > 0, err, 1.0)), name
