"""Profile-likelihood confidence intervals against lmfit.conf_interval (run here)."""

import time

import lmfit
import numpy as np
import pytest
import scipy.stats

import batchfit as bf
from batchfit import data as bdata
from batchfit.demo import use_case_1, use_case_1_params
from batchfit.inference._distributions import f_cdf, f_ppf, sigma_to_prob, t_ppf


def line(x, a, b):
    return a * x + b


def decay(x, a, k):
    import jax.numpy as jnp

    return a * jnp.exp(-k * x)


def _lmfit_objective(params, x, data):
    out = []
    for k in (1, 2):
        g = params[f"amp_{k}"] * np.exp(-((x - params[f"cen_{k}"]) ** 2) / (2 * params[f"sigma_{k}"] ** 2))
        out.append(data[k - 1] - (g + params[f"const_{k}"]))
    return np.concatenate(out)


@pytest.fixture(scope="module")
def uc1():
    x, data = bdata.two_gaussian_datasets(seed=0)
    mini = lmfit.Minimizer(_lmfit_objective, use_case_1_params(lmfit.Parameters()), fcn_args=(x, data))
    ref = mini.minimize(method="leastsq", ftol=1e-14, xtol=1e-14)
    return use_case_1(), lmfit.conf_interval(mini, ref)


def test_distributions_match_scipy():
    q = np.array([0.6827, 0.9545, 0.9973])[:, None]
    df = np.array([1.0, 4.0, 295.0])[None, :]
    np.testing.assert_allclose(t_ppf(q, df), scipy.stats.t.ppf(q, df), rtol=1e-12)
    np.testing.assert_allclose(f_ppf(q, 1.0, df), scipy.stats.f.ppf(q, 1.0, df), rtol=1e-11)
    np.testing.assert_allclose(f_cdf(2.5, 3.0, df), scipy.stats.f.cdf(2.5, 3.0, df), rtol=1e-12)
    np.testing.assert_allclose(sigma_to_prob([0.5, 1, 2]), [0.5, 0.682689492137, 0.954499736104], rtol=1e-11)


def test_use_case_1_matches_lmfit(uc1):
    res, ref = uc1
    ci = bf.conf_interval(res)
    assert list(ci) == list(ref)  # the free parameters, in order
    for name, row in ref.items():
        ours = ci[name]
        assert [p for p, _ in ours] == pytest.approx([p for p, _ in row], rel=1e-12)
        a, b = np.array([v for _, v in ours]), np.array([v for _, v in row])
        np.testing.assert_allclose(a, b, rtol=1e-3, err_msg=name)
        # and the interval ends as offsets from the best value, in units of the stderr
        err = res.params[name].stderr
        np.testing.assert_allclose((a - a[3]) / err, (b - b[3]) / err, atol=2e-3, err_msg=name)
    text = bf.ci_report(ci)
    assert text.splitlines()[0].split() == ["99.73%", "95.45%", "68.27%", "_BEST_", "68.27%", "95.45%", "99.73%"]
    assert text.splitlines()[1].split()[0] == "cen_1" and len(text.splitlines()) == 6


def test_use_case_1_fast_when_warm(uc1):
    res, _ = uc1
    bf.conf_interval(res)
    t0 = time.perf_counter()
    bf.conf_interval(res)
    assert time.perf_counter() - t0 < 3.0  # 0.13 s measured on a quiet machine; generous for shared CPUs


def test_linear_model_closed_form():
    """For a straight line the profile is exact: ends at best +- stderr_unscaled * sqrt(dchi2)."""
    rng = np.random.default_rng(3)
    x = np.linspace(0, 1, 30)
    y = 2.0 * x - 1.0 + rng.normal(0, 0.1, x.size)
    res = bf.Model(line).fit(y, x=x, a=1.0, b=0.0)
    ci = bf.conf_interval(res, sigmas=(1, 2))
    nfree = res.nfree
    for name in ("a", "b"):
        su = np.sqrt(res.covar[res.var_names.index(name)][res.var_names.index(name)] / res.redchi)
        for k, s in ((3, 1), (4, 2)):
            prob = scipy.stats.norm.cdf(s) - scipy.stats.norm.cdf(-s)
            dchi = res.chisqr * scipy.stats.f.ppf(prob, 1, nfree) / nfree
            np.testing.assert_allclose(ci[name][k][1] - res.params[name].value, su * np.sqrt(dchi), rtol=1e-6)
            np.testing.assert_allclose(res.params[name].value - ci[name][4 - k][1], su * np.sqrt(dchi),
                                       rtol=1e-6)


def test_batch_equals_single_and_bad_fit_gets_nan():
    rng = np.random.default_rng(5)
    x = np.linspace(0, 4, 40)
    amp = np.array([3.0, 5.0, 2.0])
    y = amp[:, None] * np.exp(-0.7 * x)[None, :] + rng.normal(0, 0.05, (3, x.size))
    y[2, 5] = np.nan  # this fit fails (propagated NaN), its neighbours do not
    model = bf.Model(decay)
    res = model.fit(y, x=x, a=1.0, k=1.0, nan_policy="propagate")
    assert list(res.success) == [True, True, False]
    ci = bf.conf_interval(res, sigmas=(1,))
    for i in (0, 1):
        one = bf.conf_interval(res[i], sigmas=(1,))
        for name in ("a", "k"):
            got = [v[i] for _, v in ci[name]]
            np.testing.assert_allclose(got, [v for _, v in one[name]], rtol=1e-9)
            assert got[0] < got[1] < got[2]
    assert all(np.isnan(v[2]) for name in ci for _, v in ci[name] if _ != 0.0)


def test_bound_gives_inf_as_lmfit():
    """A level beyond a bound is -inf/+inf, with lmfit's warning."""
    rng = np.random.default_rng(7)
    x = np.linspace(0, 1, 20)
    y = 0.02 + 1.0 * x + rng.normal(0, 0.05, x.size)
    model = bf.Model(line)
    params = model.make_params(a=1.0, b={"value": 0.1, "min": 0.0})
    res = model.fit(y, params, x=x)
    with pytest.warns(UserWarning, match="Bound reached"):
        ci = bf.conf_interval(res, p_names=["b"], sigmas=(1, 3))
    assert ci["b"][0][1] == -np.inf and np.isfinite(ci["b"][-1][1])


def test_cstat_uses_delta_c(monkeypatch):
    """With ``statistic == "cstat"`` the ends are where the statistic rises by sigma^2."""
    rng = np.random.default_rng(2)
    x = np.linspace(0, 1, 25)
    y = 1.5 * x + 0.5 + rng.normal(0, 0.2, x.size)
    res = bf.Model(line).fit(y, x=x, a=1.0, b=0.0, scale_covar=False)
    res.extras["statistic"] = "cstat"
    ci = bf.conf_interval(res, p_names=["a"], sigmas=(1, 2))
    sd = np.sqrt(res.covar[0][0])  # unscaled: chi2 rises by (delta / sd)^2 exactly (linear model)
    np.testing.assert_allclose(ci["a"][3][1] - res.params["a"].value, 1.0 * sd, rtol=1e-6)
    np.testing.assert_allclose(ci["a"][4][1] - res.params["a"].value, 2.0 * sd, rtol=1e-6)


def test_errors_are_clear():
    x = np.linspace(0, 1, 10)
    res = bf.Model(line).fit(2 * x + 1, x=x, a=1.0, b=0.0)
    with pytest.raises(ValueError, match="'c' is not a free parameter"):
        bf.conf_interval(res, p_names=["c"])
    with pytest.raises(ValueError, match="sigmas must be positive"):
        bf.conf_interval(res, sigmas=(1, -2))
    one = bf.Model(lambda x, a: a * x).fit(2 * x, x=x, a=1.0)
    with pytest.raises(ValueError, match="at least 2 free parameters"):
        bf.conf_interval(one)
    with pytest.raises(ValueError, match="index="):
        bf.ci_report({"a": [(0.68, np.zeros(2)), (0.0, np.zeros(2)), (0.68, np.zeros(2))]})
