"""Solver robustness: bounds active at the optimum, collinear parameters,
fits that end at the rounding floor of chi2.

References are independent: scipy's bounded trust-region solver
(``least_squares(method="trf", bounds=...)``) for the constrained optimum,
closed-form linear least squares for collinear models, lmfit for statuses.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import least_squares

import batchfit as bf
from batchfit import data as bdata
from batchfit.demo import gaussian_c

INF = np.inf
TIGHT = dict(method="trf", ftol=1e-15, xtol=1e-15, gtol=1e-15)


def gauss(x, amp, cen, sigma, c):
    return amp * jnp.exp(-((x - cen) ** 2) / (2 * sigma**2)) + c


def decay(x, a, k, c):
    return a * jnp.exp(-k * x) + c


def gauss_np(x, amp, cen, sigma, c):
    return amp * np.exp(-((x - cen) ** 2) / (2 * sigma**2)) + c


def decay_np(x, a, k, c):
    return a * np.exp(-k * x) + c


def _np(fn):
    """numpy twin of a jnp model, for scipy."""
    return {gauss: gauss_np, gaussian_c: gauss_np, decay: decay_np}[fn]


XG = np.linspace(-5.0, 5.0, 101)
YG = 5.0 * np.exp(-((XG - 0.3) ** 2) / (2 * 1.2**2)) + 1.0 + 0.1 * np.random.default_rng(0).standard_normal(101)
XD = np.linspace(0.0, 4.0, 60)
YD = 3.0 * np.exp(-1.3 * XD) + 0.5 + 0.02 * np.random.default_rng(5).standard_normal(60)

# (model, x, y, parameter settings, names of the parameters expected on a bound)
BOUND_CASES = {
    # the true amplitude (5) and width (1.2) lie beyond these bounds
    "gauss_amp_max_two_sided": (gauss, XG, YG, dict(amp=dict(value=2, min=0, max=4), cen=0,
                                                    sigma=dict(value=1, min=0.1), c=0), ["amp"]),
    "gauss_sigma_max_two_sided": (gauss, XG, YG, dict(amp=dict(value=2, min=0), cen=0,
                                                      sigma=dict(value=0.5, min=0.1, max=0.9), c=0), ["sigma"]),
    "gauss_sigma_max_one_sided": (gauss, XG, YG, dict(amp=2, cen=0, sigma=dict(value=0.5, max=0.9), c=0),
                                  ["sigma"]),
    "gauss_amp_min_one_sided": (gauss, XG, YG, dict(amp=dict(value=8, min=6), cen=0, sigma=1, c=0), ["amp"]),
    # decay rate 1.3 bounded away from its optimum, from above and below
    "decay_k_max_two_sided": (decay, XD, YD, dict(a=1, k=dict(value=0.5, min=0.1, max=1.0), c=0), ["k"]),
    "decay_k_max_one_sided": (decay, XD, YD, dict(a=1, k=dict(value=0.5, max=1.0), c=0), ["k"]),
    "decay_k_min_one_sided": (decay, XD, YD, dict(a=1, k=dict(value=2.0, min=1.6), c=0), ["k"]),
    "decay_k_min_two_sided": (decay, XD, YD, dict(a=1, k=dict(value=2.0, min=1.6, max=5), c=0), ["k"]),
    "decay_start_on_the_active_bound": (decay, XD, YD, dict(a=1, k=dict(value=1.0, min=0.1, max=1.0), c=0),
                                        ["k"]),
    "decay_two_bounds_active": (decay, XD, YD, dict(a=dict(value=1, max=2.5), k=dict(value=2.0, min=1.6), c=0),
                                ["a", "k"]),
    "decay_offset_min": (decay, XD, YD, dict(a=1, k=1, c=dict(value=1, min=0.7)), ["c"]),
}


def _scipy_bounded(fn, x, y, params, names):
    lo = np.array([params[n].min for n in names], float)
    hi = np.array([params[n].max for n in names], float)
    p0 = np.clip([params[n].value for n in names], lo + 1e-9, hi - 1e-9)
    f = _np(fn)
    ref = least_squares(lambda q: f(x, *q) - y, p0, bounds=(lo, hi), **TIGHT)
    assert ref.success
    return ref, lo, hi


@pytest.mark.parametrize("solver", ["qr", "cholesky"])
@pytest.mark.parametrize("case", list(BOUND_CASES))
def test_bound_active_at_optimum_matches_scipy_trf(case, solver):
    fn, x, y, settings, on_bound = BOUND_CASES[case]
    model = bf.Model(fn)
    names = list(model.param_names)
    params = model.make_params(**settings)
    res = model.fit(y, params, x=x, config=bf.LMConfig(linear_solver=solver))
    ref, lo, hi = _scipy_bounded(fn, x, y, params, names)
    assert res.success, res.message
    # The LM run itself (restart=False): scipy's trf takes 9 to 33 here; before the fix, 8000+
    # (MAX_NFEV). By default a fit that ends on a bound is run once more from its start
    # (solver/_restart.py, to rule out a false stop there), at most doubling nfev.
    one = model.fit(y, params, x=x, config=bf.LMConfig(linear_solver=solver, restart=False))
    assert one.success and one.nfev <= 60, one.nfev
    assert res.nfev <= 2 * 60, res.nfev
    assert abs(one.chisqr - res.chisqr) <= 1e-10 * res.chisqr
    chi2_ref = 2 * ref.cost
    assert abs(res.chisqr - chi2_ref) <= 1e-8 * chi2_ref, (res.chisqr, chi2_ref)
    est = np.array([res.params[n].value for n in names])
    np.testing.assert_allclose(est, ref.x, rtol=1e-6)
    for n in on_bound:
        i = names.index(n)
        bound = lo[i] if abs(ref.x[i] - lo[i]) < abs(ref.x[i] - hi[i]) else hi[i]
        assert ref.x[i] == pytest.approx(bound, rel=1e-12)  # scipy: on the bound
        assert est[i] == pytest.approx(bound, rel=1e-6, abs=0), (n, est[i], bound)


def test_batch_with_bounds_active_in_most_fits_matches_scipy_trf():
    # W1 Gaussians: in about 60% of the fits the amplitude maximum lies below
    # the truth and in about 30% the width minimum lies above it
    n = 48
    x, data, truth, start = bdata.gaussian_batch(n, seed=11)
    rng = np.random.default_rng(12)
    amax = np.where(rng.random(n) < 0.6, truth["amp"] * rng.uniform(0.6, 0.95, n), 100.0)
    smin = np.where(rng.random(n) < 0.3, truth["sigma"] * rng.uniform(1.1, 1.5, n), 0.01)
    amp0 = np.minimum(start["amp"], 0.99 * amax)
    sig0 = np.maximum(start["sigma"], 1.01 * smin)
    model = bf.Model(gaussian_c)
    params = model.make_params(amp=dict(value=amp0, min=0, max=amax), cen=start["cen"],
                               sigma=dict(value=sig0, min=smin, max=5.0), c=start["c"])
    res = model.fit(data, params, x=x)
    assert np.all(res.success), np.unique(res.status, return_counts=True)
    assert res.nfev.max() <= 120
    f = _np(gaussian_c)
    for i in range(n):
        p0 = [amp0[i], start["cen"][i], sig0[i], start["c"][i]]
        ref = least_squares(lambda q: f(x, *q) - data[i], p0,
                            bounds=([0, -INF, smin[i], -INF], [amax[i], INF, 5.0, INF]), **TIGHT)
        assert abs(res.chisqr[i] - 2 * ref.cost) <= 1e-8 * 2 * ref.cost, i
        if ref.x[0] >= amax[i] * (1 - 1e-12):
            assert res.params["amp"].value[i] == pytest.approx(amax[i], rel=1e-6)


def test_bound_active_stays_on_bound_and_succeeds():
    # the unconstrained optimum (-1) lies below the bound: the fit ends on it
    x = np.linspace(0.0, 1.0, 10)
    res = bf.Model(lambda x, c: c + 0.0 * x).fit(np.full(10, -1.0), bf.create_params(c={"value": 2.0, "min": 0.0}),
                                                  x=x)
    assert res.success, res.message
    assert res.params["c"].value == pytest.approx(0.0, abs=1e-12)
    assert res.chisqr == pytest.approx(10.0, rel=1e-12)


def test_inactive_bounds_change_nothing():
    # bounds far from the optimum: same optimum as unbounded, no extra work
    model = bf.Model(decay)
    free = model.fit(YD, model.make_params(a=1, k=0.5, c=0), x=XD)
    boxed = model.fit(YD, model.make_params(a=dict(value=1, min=0, max=10), k=dict(value=0.5, min=0, max=5),
                                            c=dict(value=0, min=-1, max=1)), x=XD)
    assert free.success and boxed.success
    for n in ("a", "k", "c"):
        assert boxed.params[n].value == pytest.approx(free.params[n].value, rel=1e-7)
    assert boxed.nfev <= 20


# ---------------------------------------------------------------------------
# collinear parameters: (a + b) x
# ---------------------------------------------------------------------------
XC = np.linspace(0.0, 10.0, 50)
YC = 3.0 * XC + np.random.default_rng(1).normal(0.0, 0.5, 50)
SLOPE = float(XC @ YC / (XC @ XC))  # closed-form least squares


def line_sum(x, a, b):
    return (a + b) * x


@pytest.mark.parametrize("start", [(1.0, 1.0), (0.0, 5.0), (10.0, -2.0)])
def test_collinear_model_fit_succeeds_without_errorbars(start):
    model = bf.Model(line_sum)
    res = model.fit(YC, model.make_params(a=start[0], b=start[1]), x=XC)
    assert res.success, res.message
    assert res.nfev <= 10, res.nfev  # before: STALLED after 21 evaluations
    a, b = res.params["a"].value, res.params["b"].value
    assert a + b == pytest.approx(SLOPE, rel=1e-10)
    assert res.chisqr == pytest.approx(float(np.sum((SLOPE * XC - YC) ** 2)), rel=1e-12)
    # the singular JᵀJ is reported, not hidden
    assert not res.errorbars
    assert np.isnan(res.params["a"].stderr) and np.isnan(res.params["b"].stderr)


def test_collinear_minimize_and_lmfit_agree_on_success():
    lmfit = pytest.importorskip("lmfit")

    def resid(p, x, y):
        return (p["a"] + p["b"]) * x - y

    res = bf.minimize(resid, bf.create_params(a=1.0, b=1.0), args=(XC, YC))
    assert res.success, res.message
    assert res.nfev <= 10
    ref = lmfit.minimize(resid, lmfit.create_params(a=1.0, b=1.0), args=(XC, YC))
    assert ref.success
    assert res.chisqr == pytest.approx(ref.chisqr, rel=1e-9)
    assert res.params["a"].value + res.params["b"].value == pytest.approx(SLOPE, rel=1e-10)


@pytest.mark.parametrize("solver", ["qr", "cholesky"])
def test_collinear_noise_free_and_nonlinear(solver):
    cfg = bf.LMConfig(linear_solver=solver)
    model = bf.Model(line_sum)
    exact = model.fit(3.0 * XC, model.make_params(a=1.0, b=1.0), x=XC, config=cfg)
    assert exact.success, exact.message
    assert exact.nfev <= 12, exact.nfev  # chi2 ends at its rounding floor
    assert exact.params["a"].value + exact.params["b"].value == pytest.approx(3.0, rel=1e-12)

    # a collinear pair inside a nonlinear model, one of them bounded
    def dec2(x, a, b, k):
        return (a + b) * jnp.exp(-k * x)

    y = 5.0 * np.exp(-0.3 * XC) + np.random.default_rng(2).normal(0.0, 0.05, 50)
    m2 = bf.Model(dec2)
    res = m2.fit(y, m2.make_params(a=1.0, b=dict(value=1.0, min=0, max=10), k=0.5), x=XC, config=cfg)
    assert res.success, res.message
    assert res.nfev <= 30
    f = lambda q: q[0] * np.exp(-q[1] * XC) - y  # noqa: E731
    ref = least_squares(f, [2.0, 0.5], method="lm", ftol=1e-15, xtol=1e-15, gtol=1e-15)
    assert res.chisqr == pytest.approx(2 * ref.cost, rel=1e-10)
    assert res.params["a"].value + res.params["b"].value == pytest.approx(ref.x[0], rel=1e-7)
    assert res.params["k"].value == pytest.approx(ref.x[1], rel=1e-7)
