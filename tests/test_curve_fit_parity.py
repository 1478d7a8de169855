"""curve_fit's full_output beside scipy's: infodict (fvec, nfev, fjac, ipvt,
qtf), mesg and ier in MINPACK's codes; leastsq keywords."""

import jax.numpy as jnp
import numpy as np
import pytest
from scipy import optimize

import batchfit as bf

RNG = np.random.default_rng(21)
X = np.linspace(0, 3, 40)
SIGMA = np.full(X.size, 0.02)
Y = 2.0 * np.exp(-1.3 * X) + 0.5 + RNG.normal(0, 0.02, X.size)
P0 = [1.0, 1.0, 0.0]


def decay(x, a, k, c):
    return a * jnp.exp(-k * x) + c


def decay_np(x, a, k, c):
    return a * np.exp(-k * x) + c


def _cov_from_minpack(info, n):
    """scipy's own recipe (scipy.optimize.leastsq): covariance from fjac and ipvt."""
    r = np.triu(np.transpose(info["fjac"])[:n, :])
    inv = np.linalg.inv(r)
    inv[info["ipvt"]] = inv.copy()
    return inv @ inv.T


@pytest.fixture(scope="module")
def both():
    ours = bf.curve_fit(decay, X, Y, p0=P0, sigma=SIGMA, full_output=True, epsfcn=1e-8)  # epsfcn: unused
    ref = optimize.curve_fit(decay_np, X, Y, p0=P0, sigma=SIGMA, full_output=True, xtol=1e-15, ftol=1e-15)
    return ours, ref


def test_full_output_is_scipys_tuple(both):
    ours, ref = both
    assert len(ours) == len(ref) == 5
    popt, pcov, info, mesg, ier = ours
    assert set(ref[2]) <= set(info) and {"status", "result"} <= set(info)
    assert isinstance(mesg, str) and ier in (1, 2, 3, 4) and ref[4] in (1, 2, 3, 4)
    assert ier == {1: 1, 2: 2, 3: 3, 4: 4}[int(bf.RESULTS(int(info["status"])))] or \
        info["status"] == bf.RESULTS.ZERO_RESIDUAL
    err = np.sqrt(np.diag(ref[1]))
    assert np.all(np.abs(popt - ref[0]) <= 1e-4 * err)
    np.testing.assert_allclose(pcov, ref[1], rtol=1e-4)  # scipy's Jacobian: finite differences
    np.testing.assert_allclose(info["fvec"], ref[2]["fvec"], rtol=0, atol=1e-4)  # in units of sigma
    np.testing.assert_allclose(info["fvec"], (decay_np(X, *popt) - Y) / SIGMA, rtol=0, atol=1e-10)
    assert int(info["nfev"]) >= 1


def test_fjac_ipvt_qtf_give_scipys_covariance(both):
    ours, ref = both
    popt, pcov, info, _, _ = ours
    n, m = len(popt), X.size
    assert info["fjac"].shape == ref[2]["fjac"].shape == (n, m)
    assert info["ipvt"].shape == ref[2]["ipvt"].shape == (n,)
    assert sorted(info["ipvt"]) == sorted(ref[2]["ipvt"]) == list(range(n))  # 0-based, as scipy's
    mine, theirs = _cov_from_minpack(info, n), _cov_from_minpack(ref[2], n)
    np.testing.assert_allclose(mine, theirs, rtol=1e-4)
    s_sq = np.sum(info["fvec"] ** 2) / (m - n)
    np.testing.assert_allclose(mine * s_sq, pcov, rtol=1e-10)  # curve_fit's pcov from the same factor
    a, k, _ = popt  # the exact weighted Jacobian, by hand
    J = np.stack([np.exp(-k * X), -a * X * np.exp(-k * X), np.ones_like(X)], axis=1) / SIGMA[:, None]
    np.testing.assert_allclose(mine, np.linalg.inv(J.T @ J), rtol=1e-9)
    Q, _ = np.linalg.qr(J)
    np.testing.assert_allclose(np.abs(info["qtf"]), np.abs(Q.T @ info["fvec"]), rtol=1e-6, atol=1e-12)
    assert np.linalg.norm(info["qtf"]) < 1e-6 * np.linalg.norm(info["fvec"])  # at the optimum, as scipy's
    assert np.linalg.norm(ref[2]["qtf"]) < 1e-6 * np.linalg.norm(ref[2]["fvec"])


def test_maxfev_is_ier_5_as_scipy():
    with pytest.raises(RuntimeError, match="Optimal parameters not found"):
        optimize.curve_fit(decay_np, X, Y, p0=P0, maxfev=3)
    with pytest.raises(RuntimeError, match="Optimal parameters not found"):
        bf.curve_fit(decay, X, Y, p0=P0, maxfev=3)
    *_, ier_ref = optimize.leastsq(lambda p: decay_np(X, *p) - Y, P0, maxfev=3, full_output=True)
    with pytest.warns(bf.OptimizeWarning, match="did not converge"):
        _, _, info, mesg, ier = bf.curve_fit(decay, X, Y[None], p0=P0, maxfev=3, full_output=True)
    assert ier_ref == 5 and list(ier) == [5] and list(info["status"]) == [bf.RESULTS.MAX_NFEV]
    assert mesg == [bf.RESULTS.MAX_NFEV.message]


def test_ier_codes_of_every_status():
    from batchfit.fitting._curve_fit_out import ier_codes

    R = bf.RESULTS
    codes = [R.FTOL, R.XTOL, R.FTOL_XTOL, R.GTOL, R.ZERO_RESIDUAL, R.MAX_NFEV, R.STALLED,
             R.NONFINITE_START, R.DIVERGED, R.NO_DATA, R.TOO_FEW_POINTS, R.PRECISION_LIMITED]
    assert ier_codes(codes).tolist() == [1, 2, 3, 4, 1, 5, 6, 0, 0, 0, 0, 0]
    # success is exactly scipy's {1, 2, 3, 4}
    assert all((c in (1, 2, 3, 4)) == R(int(s)).success for s, c in zip(codes, ier_codes(codes)))


def test_leastsq_keywords(no_solve):
    with pytest.raises(TypeError, match="unexpected keyword"):
        optimize.curve_fit(decay_np, X, Y, p0=P0, bogus=1)
    with pytest.raises(TypeError, match="unknown solver option 'bogus'"):
        bf.curve_fit(decay, X, Y, p0=P0, bogus=1)


def test_batch_full_output_per_fit():
    Yb = np.stack([Y, 1.2 * Y, 0.8 * Y + 0.1])
    popt, _, info, mesg, ier = bf.curve_fit(decay, X, Yb, p0=P0, sigma=SIGMA, full_output=True)
    assert info["fjac"].shape == (3, 3, X.size) and info["ipvt"].shape == (3, 3) and info["qtf"].shape == (3, 3)
    assert ier.shape == (3,) and set(ier.tolist()) <= {1, 2, 3, 4} and len(mesg) == 3
    for i in range(3):
        one = bf.curve_fit(decay, X, Yb[i], p0=P0, sigma=SIGMA, full_output=True)
        ref = optimize.curve_fit(decay_np, X, Yb[i], p0=P0, sigma=SIGMA, full_output=True,
                                 xtol=1e-15, ftol=1e-15)
        np.testing.assert_allclose(info["fjac"][i], one[2]["fjac"], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(_cov_from_minpack({k: v[i] for k, v in info.items() if k in ("fjac", "ipvt")}, 3),
                                   _cov_from_minpack(ref[2], 3), rtol=1e-4)
        err = np.sqrt(np.diag(ref[1]))
        assert np.all(np.abs(popt[i] - ref[0]) <= 1e-4 * err)
