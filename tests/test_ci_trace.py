"""conf_interval's trace=True and prob_func against lmfit (run here) on use case 1."""

import lmfit
import numpy as np
import pytest
import scipy.stats
from lmfit.confidence import ConfidenceInterval, f_compare

import batchfit as bf
from batchfit import data as bdata
from batchfit.demo import use_case_1, use_case_1_params

from test_conf_interval import _lmfit_objective


@pytest.fixture(scope="module")
def uc1():
    x, data = bdata.two_gaussian_datasets(seed=0)
    mini = lmfit.Minimizer(_lmfit_objective, use_case_1_params(lmfit.Parameters()), fcn_args=(x, data))
    ref = mini.minimize(method="leastsq", ftol=1e-14, xtol=1e-14)
    return use_case_1(), mini, ref


def _lr_prob(best, new):
    """A likelihood-ratio probability (chi-square with 1 dof) in place of the F-test."""
    return scipy.stats.chi2.cdf(new.chisqr - best.chisqr, 1)


def test_trace_layout_and_points_match_lmfit(uc1):
    res, mini, ref = uc1
    ci, tr = bf.conf_interval(res, p_names=["amp_1", "const_2"], sigmas=(1, 2), trace=True)
    _, ltr = lmfit.conf_interval(mini, ref, p_names=["amp_1", "const_2"], sigmas=(1, 2), trace=True)
    assert list(tr) == list(ltr)
    for name in tr:
        assert list(tr[name]) == list(ltr[name])  # every parameter, then "prob"
        t = tr[name]
        assert all(np.ndim(a) == 1 and len(a) == len(t["prob"]) for a in t.values())
        # the best fit (prob 0) opens each direction, as in lmfit
        best = np.nonzero(t["prob"] == 0)[0]
        assert len(best) == 2 and best[0] == 0
        np.testing.assert_allclose(t[name][best], ref.params[name].value, rtol=1e-6)
        # lmfit's own profile fit at some of our points: same probability and same other values
        cio = ConfidenceInterval(mini, ref, p_names=[name], sigmas=(1, 2), trace=True)
        pnames = list(cio.params)
        para = cio.params[name]
        para.vary = False
        for i in np.nonzero(t["prob"] > 0)[0][::3]:
            cio.reset_vals()
            prob = cio.calc_prob(para, float(t[name][i]))
            assert t["prob"][i] == pytest.approx(prob, rel=1e-3), (name, i)
            fitted = cio.trace_dict[name][-1]  # lmfit's trace row: every value, then prob
            assert fitted[-1] == pytest.approx(prob, rel=1e-12)
            for other in ("sigma_1", "amp_1", "const_1", "const_2"):
                if other != name:
                    err = ref.params[other].stderr
                    assert abs(t[other][i] - fitted[pnames.index(other)]) < 1e-2 * err, (name, other, i)
            assert t["amp_2"][i] == t["amp_1"][i]  # tied values follow
        para.vary = True
    # the roots are among the traced points with the levels' probabilities
    levels = [p for p, _ in ci["amp_1"] if p > 0]
    for p in levels:
        assert np.min(np.abs(tr["amp_1"]["prob"] - p)) < 1e-4


def test_prob_func_matches_lmfit(uc1):
    res, mini, ref = uc1
    ours = bf.conf_interval(res, sigmas=(1, 2), prob_func=_lr_prob)
    theirs = lmfit.conf_interval(mini, ref, sigmas=(1, 2), prob_func=_lr_prob)
    for name, row in theirs.items():
        np.testing.assert_allclose([v for _, v in ours[name]], [v for _, v in row], rtol=1e-3, err_msg=name)
    # lmfit's own f_compare gives our default, and a scalar-only function works too
    default = bf.conf_interval(res, sigmas=(1,))
    via = bf.conf_interval(res, sigmas=(1,), prob_func=f_compare)
    scalar = bf.conf_interval(res, sigmas=(1,), prob_func=lambda b, n: float(_lr_prob(b, n)))
    for name in default:
        np.testing.assert_allclose([v for _, v in via[name]], [v for _, v in default[name]], rtol=1e-9)
        np.testing.assert_allclose([v for _, v in scalar[name]], [v for _, v in ours[name]][1:-1], rtol=1e-6)
    with pytest.raises(TypeError, match="prob_func must be callable"):
        bf.conf_interval(res, prob_func=3)


def test_batch_and_group_trace():
    x, data = bdata.two_gaussian_datasets(seed=0)
    import jax.numpy as jnp

    def gauss(x, cen, sigma, amp, const):
        return amp * jnp.exp(-((x - cen) ** 2) / (2 * sigma**2)) + const

    m = bf.Model(gauss)
    p = m.make_params(cen=dict(value=0.5, min=0, max=2), sigma=dict(value=1, min=0, max=10),
                      amp=dict(value=1, min=0, max=100), const=dict(value=0, min=0, max=100))
    g = m.fit(np.stack([data, data[::-1]]), p, x=x, shared=["cen", "sigma", "amp"])
    ci, tr = bf.conf_interval(g, p_names="const", sigmas=(1,), trace=True)
    assert list(tr) == ["const_0", "const_1"]
    t = tr["const_0"]
    assert t["prob"].ndim == 2 and t["prob"].shape[0] == 2
    # group 1 swapped its datasets: its const_1 profile is group 0's const_0 one
    a, b = t["const_0"][0], tr["const_1"]["const_1"][1]
    ka, kb = np.isfinite(a), np.isfinite(b)
    np.testing.assert_allclose(np.sort(a[ka]), np.sort(b[kb]), rtol=1e-6)
