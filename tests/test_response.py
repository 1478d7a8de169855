"""Issue 12 item 8: independent variables with trailing axes (a response
matrix per detector) and minimize's per_fit_args. Use case 5 of the
mission (four X-ray detectors, response matrices, the first detector's
constant frozen at 1), against scipy's minimisation of the same problem.

The statistic is a parameter of the use-case test: chi-square (Gaussian
errors) against scipy.optimize.least_squares, and the C-statistic (Poisson
counts) against scipy.optimize.minimize of the same C."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from checks import raises
from scipy.optimize import least_squares, minimize as sp_minimize

from batchfit import Model, create_params, minimize

NCHAN, NE, K, T = 400, 600, 4, 2e4
E = np.linspace(0.5, 10.0, NE)
DE = E[1] - E[0]
CH = np.linspace(0.5, 10.0, NCHAN)
AREA = (300.0, 280.0, 320.0, 150.0)
TRUTH = {"norm": 1e-2, "gamma": 1.8, "nH": 0.8}
CONST = (1.0, 0.95, 1.05, 0.9)


def _response(k):
    """T * R_k * A_k: Gaussian redistribution (columns normalised to 1) times
    the effective area and the exposure, (NCHAN, NE)."""
    width = 0.05 * (1 + 0.2 * (k + 1)) * np.sqrt(E)
    R = np.exp(-0.5 * ((CH[:, None] - E[None, :]) / width[None, :]) ** 2)
    R /= R.sum(axis=0, keepdims=True)
    return T * R * (AREA[k] * E**0.5 * np.exp(-E / 8.0))[None, :]


RSP = np.stack([_response(k) for k in range(K)])


def photons(E, norm, gamma, nH, xp=jnp):
    return norm * E ** (-gamma) * xp.exp(-nH * 0.5 * E ** (-8.0 / 3.0)) * DE


def detector(E, rsp, norm, gamma, nH, c):
    return c * (rsp @ photons(E, norm, gamma, nH))


MODEL = Model(detector, independent_vars=["E", "rsp"])


def _counts(seed):
    rng = np.random.default_rng(seed)
    m = np.stack([CONST[k] * RSP[k] @ photons(E, **TRUTH, xp=np) for k in range(K)])
    return rng.poisson(m).astype(float)


def _np_model(x, frozen_c1=True):
    norm, gamma, nH = x[:3]
    c = np.concatenate([[1.0], x[3:]]) if frozen_c1 else x[3:]
    return c[:, None] * np.einsum("kij,j->ki", RSP, photons(E, norm, gamma, nH, xp=np))


X0 = np.array([5e-3, 1.5, 0.5, 1.0, 1.0, 1.0])
NAMES = ("norm", "gamma", "nH", "c_1", "c_2", "c_3")


def _chi2_reference(C):
    """scipy least_squares of the chi-square (sigma = sqrt(max(C, 1)))."""
    sig = np.sqrt(np.maximum(C, 1.0))
    fun = lambda x: ((_np_model(x) - C) / sig).ravel()  # noqa: E731
    sol = least_squares(fun, X0, jac="3-point", x_scale="jac", method="lm", xtol=1e-15, ftol=1e-15,
                        gtol=1e-15, max_nfev=20000)
    J = sol.jac
    dof = C.size - len(X0)
    cov = np.linalg.inv(J.T @ J) * (2 * sol.cost / dof)
    return sol.x, np.sqrt(np.diag(cov))


def _cstat_reference(C):
    """scipy minimize of the C-statistic 2 sum(m - d + d ln(d/m)); stderr
    from the inverse Fisher information J^T diag(1/m) J, J the model's
    Jacobian by central differences."""
    def cstat(x):
        m = _np_model(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(C > 0, C * np.log(C / m), 0.0)
        return 2.0 * np.sum(m - C + t)

    # from the chi-square optimum, in units of its standard errors (a well-scaled problem for BFGS)
    x0, s0 = _chi2_reference(C)
    scaled = lambda u: cstat(x0 + u * s0)  # noqa: E731
    sol = sp_minimize(scaled, np.zeros(6), method="BFGS", options={"gtol": 1e-9})
    sol = sp_minimize(scaled, sol.x, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12,
                                                                     "maxiter": 20000})
    sol.x = x0 + sol.x * s0
    h = 1e-6 * np.maximum(np.abs(sol.x), 1e-3)
    J = np.stack([(_np_model(sol.x + np.eye(6)[i] * h[i]) - _np_model(sol.x - np.eye(6)[i] * h[i])).ravel()
                  / (2 * h[i]) for i in range(6)], axis=1)
    F = J.T @ (J / _np_model(sol.x).ravel()[:, None])
    return sol.x, np.sqrt(np.diag(np.linalg.inv(F)))


# statistic -> (Model.fit keywords for data C, scipy reference)
STATISTICS = {
    "chi2": (lambda C: {"weights": 1.0 / np.sqrt(np.maximum(C, 1.0))}, _chi2_reference),
    "cstat": (lambda C: {"statistic": "cstat"}, _cstat_reference),
}


def _params():
    return MODEL.make_params(norm={"value": 5e-3, "min": 0}, gamma=1.5, nH={"value": 0.5, "min": 0},
                             c={"value": 1.0, "vary": np.array([False, True, True, True])})


@pytest.mark.parametrize("solver", ["dense", "schur"])
@pytest.mark.parametrize("statistic", sorted(STATISTICS))
def test_four_detectors_response_matrices(statistic, solver):
    C = _counts(5)
    fit_kw, reference = STATISTICS[statistic]
    xref, eref = reference(C)
    rsp = RSP.copy()
    res = MODEL.fit(C, _params(), E=E, rsp=rsp, shared=list(TRUTH), group_solver=solver,
                    ftol=1e-13, xtol=1e-13, **fit_kw(C))
    assert res.success and res.solver == solver and res.nvarys == 6
    assert np.array_equal(rsp, RSP)  # inputs are not modified
    got = [res.params[n].value for n in TRUTH] + list(res.params["c"].value[1:])
    err = [res.params[n].stderr for n in TRUTH] + list(res.params["c"].stderr[1:])
    for n, v, e, vr, er in zip(NAMES, got, err, xref, eref):
        assert abs(v - vr) < 1e-3 * er, n
        assert abs(e / er - 1) < 1e-3, n
    assert res.params["c"].value[0] == 1.0 and res.params["c"].stderr[0] == 0.0


def _matches_least_squares(res, i, fun):
    """Fit i of ``res`` against scipy's least_squares of the weighted residual
    ``fun``: values within 1e-3 of a stderr, stderrs to 1e-3 relative."""
    sol = least_squares(fun, X0[:3], jac="3-point", x_scale="jac", method="lm", xtol=1e-15,
                        ftol=1e-15, gtol=1e-15)
    cov = np.linalg.inv(sol.jac.T @ sol.jac) * (2 * sol.cost / (NCHAN - 3))
    for j, n in enumerate(TRUTH):
        se = np.sqrt(cov[j, j])
        assert abs(res.params[n].value[i] - sol.x[j]) < 1e-3 * se, (i, n)
        assert abs(res.params[n].stderr[i] / se - 1) < 1e-3, (i, n)


def test_independent_fits_with_a_response_per_fit():
    """Model.fit of N datasets, each with its own (NCHAN, NE) response
    (an (N, NCHAN, NE) independent variable), against N scipy fits."""
    C = _counts(6)[1:]
    sig = np.sqrt(np.maximum(C, 1.0))
    params = MODEL.make_params(norm={"value": 5e-3, "min": 0}, gamma=1.5, nH={"value": 0.5, "min": 0},
                               c={"value": 1.0, "vary": False})
    res = MODEL.fit(C, params, E=E, rsp=RSP[1:], weights=1.0 / sig, ftol=1e-13, xtol=1e-13)
    assert np.all(res.success)
    for i in range(3):
        _matches_least_squares(res, i, lambda x, i=i: (RSP[i + 1] @ photons(E, *x, xp=np) - C[i]) / sig[i])


def _objective(p, E, rsp, y, w):
    return (p["c"] * (rsp @ photons(E, p["norm"], p["gamma"], p["nH"])) - y) * w


def test_minimize_per_fit_args_against_scipy():
    """One objective, N = 4 datasets in one call (per_fit_args), against
    N scipy fits; the single-fit call with args is lmfit's."""
    rsp = RSP[0]
    Y = np.stack([rsp @ photons(E, **TRUTH, xp=np)] * 4)
    Y = np.random.default_rng(8).poisson(Y).astype(float)
    W = 1.0 / np.sqrt(np.maximum(Y, 1.0))
    params = create_params(norm={"value": 5e-3, "min": 0}, gamma=1.5, nH={"value": 0.5, "min": 0},
                           c={"value": 1.0, "vary": False})
    Yin = Y.copy()
    res = minimize(_objective, params, args=(E, rsp), per_fit_args=(Y, W), ftol=1e-13, xtol=1e-13)
    assert np.array_equal(Y, Yin) and res.batched and len(res) == 4 and np.all(res.success)
    for i in range(4):
        _matches_least_squares(res, i, lambda x, i=i: (rsp @ photons(E, *x, xp=np) - Y[i]) * W[i])
        one = minimize(_objective, params, args=(E, rsp, Y[i], W[i]), ftol=1e-13, xtol=1e-13)
        assert not one.batched
        for n in TRUTH:
            assert abs(one.params[n].value - res.params[n].value[i]) < 1e-6 * one.params[n].stderr


def test_per_fit_args_errors(no_solve):
    params = create_params(a=1.0, b=0.0)
    f = lambda p, x, y: p["a"] * x + p["b"] - y  # noqa: E731
    x = np.linspace(0, 1, 5)
    with raises(ValueError, "per_fit_args", "disagree", "number of fits"):
        minimize(f, params, args=(x,), per_fit_args=(np.zeros((3, 5)), np.zeros((2, 5))))
    with raises(ValueError, "per_fit_args[0]", "scalar"):
        minimize(f, params, args=(x,), per_fit_args=(1.0,))
    with raises(TypeError, "per_fit_args must be a tuple"):
        minimize(f, params, args=(x,), per_fit_args=np.zeros((3, 5)))
    with raises(ValueError, "per_fit_args hold 3 fits", "length 2"):
        minimize(f, create_params(a=np.ones(2), b=0.0), args=(x,), per_fit_args=(np.zeros((3, 5)),))
    with raises(TypeError, "per_fit_args[0]", "numeric"):
        minimize(f, params, args=(x,), per_fit_args=(np.array(["a", "b"]),))


def test_response_of_the_wrong_shape_is_named(no_solve):
    with raises(ValueError, "detector", "returned shape (300,)", "(400,)"):
        MODEL.fit(_counts(5), _params(), E=E, rsp=RSP[:, :300], shared=list(TRUTH))
