"""MISSION use cases 1 and 2 against lmfit (run here) and the stated numbers."""

import lmfit
import numpy as np
import pytest

import batchfit as bf
from batchfit import data as bdata
from batchfit.demo import use_case_1, use_case_1_params, use_case_2


def _lmfit_use_case_1():
    x, data = bdata.two_gaussian_datasets(seed=0)
    p = use_case_1_params(lmfit.Parameters())

    def objective(params, x, data):
        out = []
        for k in (1, 2):
            g = params[f"amp_{k}"] * np.exp(-((x - params[f"cen_{k}"]) ** 2) / (2 * params[f"sigma_{k}"] ** 2))
            out.append(data[k - 1] - (g + params[f"const_{k}"]))
        return np.concatenate(out)

    # tight tolerances so that lmfit's own answer is the reference optimum
    return lmfit.minimize(objective, p, args=(x, data), method="leastsq", ftol=1e-14, xtol=1e-14)


@pytest.fixture(scope="module")
def both():
    return use_case_1(), _lmfit_use_case_1()


def test_use_case_1_matches_lmfit(both):
    ours, ref = both
    assert ours.success
    assert (ours.ndata, ours.nvarys, ours.nfree) == (300, 5, 295)
    for name in ref.params:
        np.testing.assert_allclose(ours.params[name].value, ref.params[name].value, rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(ours.params[name].stderr, ref.params[name].stderr, rtol=1e-3, err_msg=name)
    for attr in ("chisqr", "redchi", "aic", "bic"):
        np.testing.assert_allclose(getattr(ours, attr), getattr(ref, attr), rtol=1e-6, err_msg=attr)
    for a, b in [("cen_1", "sigma_1"), ("amp_1", "const_1"), ("const_1", "const_2")]:
        np.testing.assert_allclose(ours.params[a].correl[b], ref.params[a].correl[b], atol=1e-3)


def test_use_case_1_report(both):
    ours, _ = both
    text = bf.fit_report(ours)
    for needle in ("[[Fit Statistics]]", "# fitting method   = leastsq", "# data points      = 300",
                   "# variables        = 5", "chi-square", "reduced chi-square", "Akaike info crit",
                   "Bayesian info crit", "[[Variables]]", "== 'cen_1'", "(init = 0.5)",
                   "[[Correlations]] (unreported correlations are < 0.100)"):
        assert needle in text, needle
    corr_lines = [ln for ln in text.splitlines() if ln.strip().startswith("C(")]
    vals = [abs(float(ln.split("=")[1])) for ln in corr_lines]
    assert vals == sorted(vals, reverse=True) and min(vals) > 0.1
    # relative error in % of const_2 appears as lmfit prints it
    p = ours.params["const_2"]
    assert f"({abs(p.stderr / p.value):.2%})" in text


def test_use_case_2_lm_reaches_best_fit_from_all_starts():
    res = use_case_2("leastsq")
    assert res.success.all(), res.message
    for n, best in zip("ABC", bdata.ANTOINE_BEST):
        np.testing.assert_allclose(res.params[n].value, best, rtol=5e-7, err_msg=n)


def test_use_case_2_gauss_newton_reports_honestly():
    res = use_case_2("gauss_newton", xtol=1e-4)
    assert list(res.success) == [False, False, True]
    assert all(s != bf.RESULTS.RUNNING for s in res.status)
    for n, best in zip("ABC", bdata.ANTOINE_BEST):
        np.testing.assert_allclose(res.params[n].value[2], best, rtol=5e-7, err_msg=n)


def test_scipy_minpack_fails_from_first_start_where_we_succeed():
    """The reference claim of use case 2: MINPACK lmdif stops near A=-9 from (1, 1, 1)."""
    from scipy.optimize import leastsq

    T, P = bdata.ANTOINE_T, bdata.ANTOINE_P
    with pytest.warns(RuntimeWarning):
        sol, ier = leastsq(lambda p: P - 10 ** (p[0] + p[1] / (T + p[2])), [1.0, 1.0, 1.0], maxfev=1000)
    assert abs(sol[0] - bdata.ANTOINE_BEST[0]) > 1.0
    ours = use_case_2("leastsq")
    assert ours.success[0]
