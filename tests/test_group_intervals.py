"""conf_interval and eval_uncertainty of shared-parameter group fits, against
lmfit (run here) on use case 1 written with lmfit's expressions."""

import jax.numpy as jnp
import lmfit
import numpy as np
import pytest

import batchfit as bf
from batchfit import data as bdata
from batchfit.demo import use_case_1_params

from test_conf_interval import _lmfit_objective

SHARED = ["cen", "sigma", "amp"]
# our flat names -> lmfit's names in use case 1
LMFIT_NAME = {"cen": "cen_1", "sigma": "sigma_1", "amp": "amp_1", "const_0": "const_1", "const_1": "const_2"}


def gauss(x, cen, sigma, amp, const):
    return amp * jnp.exp(-((x - cen) ** 2) / (2 * sigma**2)) + const


MODEL = bf.Model(gauss)


def _params():
    return MODEL.make_params(cen=dict(value=0.5, min=0, max=2), sigma=dict(value=1, min=0, max=10),
                             amp=dict(value=1, min=0, max=100), const=dict(value=0, min=0, max=100))


@pytest.fixture(scope="module")
def uc1():
    x, data = bdata.two_gaussian_datasets(seed=0)
    mini = lmfit.Minimizer(_lmfit_objective, use_case_1_params(lmfit.Parameters()), fcn_args=(x, data))
    ref = mini.minimize(method="leastsq", ftol=1e-14, xtol=1e-14)
    return x, data, ref, lmfit.conf_interval(mini, ref)


def _check_ci(ci, ref_ci, ref, g=None):
    assert list(ci) == list(LMFIT_NAME)
    for name, row in ci.items():
        lrow = ref_ci[LMFIT_NAME[name]]
        assert [p for p, _ in row] == pytest.approx([p for p, _ in lrow], rel=1e-12)
        a = np.array([v if g is None else v[g] for _, v in row])
        b = np.array([v for _, v in lrow])
        np.testing.assert_allclose(a, b, rtol=1e-3, err_msg=name)
        err = ref.params[LMFIT_NAME[name]].stderr  # the ends as offsets, in stderr units
        np.testing.assert_allclose((a - b[3]) / err, (b - b[3]) / err, atol=2e-3, err_msg=name)


@pytest.mark.parametrize("solver", ["dense", "schur"])
def test_group_conf_interval_matches_lmfit(uc1, solver):
    x, data, ref, ref_ci = uc1
    res = MODEL.fit(data, _params(), x=x, shared=SHARED, group_solver=solver)
    assert res.solver == solver
    _check_ci(bf.conf_interval(res), ref_ci, ref)
    text = bf.ci_report(bf.conf_interval(res, sigmas=(1,)))
    assert text.splitlines()[1].split()[0] == "cen" and len(text.splitlines()) == 6


@pytest.mark.parametrize("solver", ["dense", "schur"])
def test_groups_in_one_call(uc1, solver):
    """Two groups (the second with its datasets swapped) in one call: each as lmfit's."""
    x, data, ref, ref_ci = uc1
    res = MODEL.fit(np.stack([data, data[::-1]]), _params(), x=x, shared=SHARED, group_solver=solver)
    ci = bf.conf_interval(res)
    _check_ci(ci, ref_ci, ref, g=0)
    swapped = {"const_0": "const_1", "const_1": "const_0"}
    for name, row in ci.items():
        other = ci[swapped.get(name, name)]
        np.testing.assert_allclose([v[1] for _, v in row], [v[0] for _, v in other], rtol=1e-6)
    # one group of the batch, and a per-dataset parameter named as a whole
    one = bf.conf_interval(res[1], p_names="const", sigmas=(1, 2))
    assert list(one) == ["const_0", "const_1"] and isinstance(one["const_0"][0][1], float)
    np.testing.assert_allclose([v for _, v in one["const_1"]], [v[1] for _, v in ci["const_1"][1:-1]],
                               rtol=1e-6)


def test_group_conf_interval_errors(uc1):
    x, data, _, _ = uc1
    res = MODEL.fit(data, _params(), x=x, shared=SHARED, group_solver="schur")
    with pytest.raises(ValueError, match="'width' is not a free parameter of the groups"):
        bf.conf_interval(res, p_names=["width"])
    p = _params()
    p["const"].vary = False
    frozen = MODEL.fit(data, p, x=x, shared=SHARED, group_solver="dense")
    with pytest.raises(ValueError, match="'const' varies in no dataset"):
        bf.conf_interval(frozen, p_names="const")


def _lmfit_flat_band(x, data, sigma):
    def flat(x, cen, sigma, amp, c0, c1):
        g = amp * np.exp(-((x - cen) ** 2) / (2 * sigma**2))
        return np.concatenate([g + c0, g + c1])

    lm = lmfit.Model(flat)
    lp = lm.make_params(cen=dict(value=0.5, min=0, max=2), sigma=dict(value=1, min=0, max=10),
                        amp=dict(value=1, min=0, max=100), c0=dict(value=0, min=0, max=100),
                        c1=dict(value=0, min=0, max=100))
    lr = lm.fit(data.ravel(), lp, x=x, fit_kws=dict(ftol=1e-14, xtol=1e-14))
    return lr, lr.eval_uncertainty(sigma=sigma).reshape(2, -1)


@pytest.mark.parametrize("solver", ["dense", "schur"])
def test_group_eval_uncertainty_matches_lmfit(uc1, solver):
    x, data, _, _ = uc1
    lr, ref = _lmfit_flat_band(x, data, 2)
    res = MODEL.fit(data, _params(), x=x, shared=SHARED, group_solver=solver)
    dely = res.eval_uncertainty(sigma=2)
    assert dely.shape == (2, x.size)
    np.testing.assert_allclose(dely, ref, rtol=1e-3)  # lmfit's central differences: 7e-5 measured
    np.testing.assert_allclose(res.dely_predicted, lr.dely_predicted.reshape(2, -1), rtol=1e-3)
    # two groups at new points: each group's band as one group's
    batch = MODEL.fit(np.stack([data, data[::-1]]), _params(), x=x, shared=SHARED, group_solver=solver)
    xn = np.linspace(0.1, 1.9, 7)
    both = batch.eval_uncertainty(sigma=1, x=xn)
    assert both.shape == (2, 2, 7)
    alone = res.eval_uncertainty(sigma=1, x=xn)
    np.testing.assert_allclose(both[0], alone, rtol=1e-6)
    np.testing.assert_allclose(both[1], alone[::-1], rtol=1e-6)

