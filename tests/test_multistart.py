"""Multi-start fits (n_starts=, seed=): the draws, the selection, hard problems."""


import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats
from nist import MODELS, load

import batchfit as bf
from batchfit import data as bdata
from batchfit.demo import antoine_residual
from batchfit.inference._multistart import draw


def _antoine_params(lo=True):
    p = bf.Parameters()
    # physically plain bounds (T + C > 0 over the data); the start (1, 1, 1) is MISSION's first
    p.add("A", 1.0, min=0, max=20)
    p.add("B", 1.0, min=-5000, max=5000)
    p.add("C", 1.0, min=-60, max=500)
    return p


def test_draw_rule():
    rng = np.random.default_rng(0)
    k = 4001
    start = np.array([2.0, 5.0, -3.0, 0.0])
    lo = np.array([0.0, 1.0, -np.inf, -np.inf])
    hi = np.array([4.0, np.inf, np.inf, np.inf])
    s = np.stack([draw(start[i:i + 1], lo[i:i + 1], hi[i:i + 1], k, rng)[0] for i in range(4)])
    np.testing.assert_array_equal(s[:, 0], start)  # start 0 is the given one
    d = s[:, 1:]
    assert scipy.stats.kstest(d[0] / 4.0, "uniform").pvalue > 1e-3  # two bounds: uniform
    u = np.log10((d[1] - 1.0) / 4.0)  # one bound: distance log-uniform over +-2 decades
    assert u.min() >= -2 and u.max() <= 2 and scipy.stats.kstest((u + 2) / 4, "uniform").pvalue > 1e-3
    m = np.log10(np.abs(d[2]) / 3.0)  # no bound: magnitude log-uniform, either sign
    assert scipy.stats.kstest((m + 2) / 4, "uniform").pvalue > 1e-3
    assert 0.45 < np.mean(d[2] < 0) < 0.55
    assert np.all(np.abs(d[3]) <= 100) and np.all(np.abs(d[3]) >= 0.01)  # start 0: |x| in 10^[-2, 2]


def test_gauss_newton_reaches_antoine_optimum_with_8_starts():
    args = (bdata.ANTOINE_T, bdata.ANTOINE_P)
    p = _antoine_params()
    one = bf.minimize(antoine_residual, p, args=args, method="gauss_newton")
    assert not (one.success and np.isclose(one.params["A"].value, bdata.ANTOINE_BEST[0], rtol=1e-3))
    res = bf.minimize(antoine_residual, p, args=args, method="gauss_newton", n_starts=8, seed=0)
    assert res.success and not res.batched
    for n, best in zip("ABC", bdata.ANTOINE_BEST):
        np.testing.assert_allclose(res.params[n].value, best, rtol=5e-7, err_msg=n)
    assert res.nstarts_best >= 1 and res.start_index != 0 and res.n_starts == 8
    assert res.chisqr == np.nanmin(res.chisqr_starts)
    # reproducible, and the input was not modified
    again = bf.minimize(antoine_residual, p, args=args, method="gauss_newton", n_starts=8, seed=0)
    np.testing.assert_array_equal(again.chisqr_starts, res.chisqr_starts)
    assert p["A"].value == 1.0 and p["A"].min == 0


def test_batch_of_fits_keeps_each_best():
    args = (bdata.ANTOINE_T, bdata.ANTOINE_P)
    starts = np.array(bdata.ANTOINE_STARTS)
    p = bf.Parameters()
    for j, n in enumerate("ABC"):
        p.add(n, starts[:, j])
    plain = bf.minimize(antoine_residual, p, args=args, method="gauss_newton", xtol=1e-4)
    res = bf.minimize(antoine_residual, p, args=args, method="gauss_newton", xtol=1e-4, n_starts=6, seed=1)
    assert res.batched and len(res) == 3 and res.chisqr_starts.shape == (3, 6)
    # start 0 of each fit is its given start: the same fit as without n_starts
    np.testing.assert_allclose(res.chisqr_starts[:, 0], plain.chisqr, rtol=1e-12)
    ok = plain.success
    assert np.all(res.chisqr[ok] <= plain.chisqr[ok] * (1 + 1e-12))
    assert res[2].success and res[2].nstarts_best >= 1


# Eckerle4 and Bennett5 pass too (k = 32, seed 0); left out to keep the suite fast. MGH10,
# whose single far start stalls at chi2 6e7 with b1 = 5e-150, is reached by 1 start of 32
HARD = ["BoxBOD", "Rat43", "MGH10"]


@pytest.mark.parametrize("name", HARD)
def test_lm_solves_nist_from_starts_ten_times_farther(shared_dir, name):
    """start = certified + 10 (start1 - certified); one start fails there, 32 (seed 0) reach the
    certified values to 6 digits."""
    x, y, cert = load(shared_dir, name)
    names = [f"b{i + 1}" for i in range(cert["n_params"])]
    far = np.array(cert["certified"]) + 10 * (np.array(cert["start1"]) - np.array(cert["certified"]))
    model = bf.Model(MODELS[name])
    params = model.make_params(**dict(zip(names, far)))
    one = model.fit(y, params, x=x)
    est1 = np.array([one.params[n].value for n in names])
    assert not (one.success and np.allclose(est1, cert["certified"], rtol=1e-6))
    res = model.fit(y, params, x=x, n_starts=32, seed=0)
    assert res.success, res.message
    est = np.array([res.params[n].value for n in names])
    if name == "Eckerle4":  # (b1, b2) -> (-b1, -b2) leaves the curve unchanged
        est[:2] = np.abs(est[:2])
    np.testing.assert_allclose(est, cert["certified"], rtol=1e-6)
    np.testing.assert_allclose(res.chisqr, cert["certified_rss"], rtol=1e-6)
    assert res.nstarts_best >= 1


def _gauss(x, amp, cen, sigma):
    return amp * jnp.exp(-((x - cen) ** 2) / (2 * sigma**2))


def test_group_fit_with_starts():
    rng = np.random.default_rng(4)
    x = np.linspace(-3, 3, 50)
    amp = np.array([[2.0, 3.0], [1.0, 4.0]])  # G = 2 groups of K = 2 datasets, sigma shared
    y = amp[..., None] * np.exp(-x**2 / (2 * 0.7**2)) + rng.normal(0, 0.02, (2, 2, x.size))
    model = bf.Model(_gauss)
    good = model.fit(y, model.make_params(amp=2.0, cen=0.0, sigma=0.8), x=x, shared=["sigma"])
    bad = model.make_params(amp=1.0, cen=2.9, sigma={"value": 0.05, "min": 0.01, "max": 5})
    res = model.fit(y, bad, x=x, shared=["sigma"], n_starts=8, seed=0)
    assert np.all(res.success) and res.chisqr_starts.shape == (2, 8)
    np.testing.assert_allclose(res.chisqr, good.chisqr, rtol=1e-9)
    np.testing.assert_allclose(res.params["sigma"].value, good.params["sigma"].value, rtol=1e-6)
    np.testing.assert_allclose(res.params["amp"].value, good.params["amp"].value, rtol=1e-6)


def test_bad_n_starts_raise_before_compiling(no_solve):
    p = bf.Parameters()
    p.add("a", 1.0)
    p.add("b", 0.0)
    x = np.linspace(0, 1, 5)
    for bad, err in ((0, ValueError), (2.5, TypeError), (True, TypeError)):
        with pytest.raises(err, match="n_starts"):
            bf.minimize(lambda p, x: p["a"] * x + p["b"], p, args=(x,), n_starts=bad)
    with pytest.raises(TypeError, match="seed"):
        bf.minimize(lambda p, x: p["a"] * x + p["b"], p, args=(x,), n_starts=2, seed="s")
    model = bf.Model(lambda x, a, b: a * x + b)
    with pytest.raises(ValueError, match="n_starts"):
        model.fit(2 * x, x=x, a=1.0, b=0.0, n_starts=-1)
