"""Issue 12 item 7: a per-dataset parameter frozen in some datasets of a
shared-parameter group (``vary`` a boolean array of shape (K,) or (G, K)),
checked against lmfit's fit of the same problem written with expressions
and fixed parameters (lmfit.minimize of the concatenated residual)."""

from __future__ import annotations

import jax.numpy as jnp
import lmfit
import numpy as np
import pytest
from checks import raises

from batchfit import Model, Parameters, create_params, fit_report, minimize

K, M = 4, 60
X = np.linspace(0.0, 2.0, M)


def peak(x, amp, cen, sigma, scale, const):
    return scale * amp * jnp.exp(-((x - cen) ** 2) / (2 * sigma**2)) + const


MODEL = Model(peak)
SHARED = ["amp", "cen", "sigma"]


def _data(seed, scale):
    rng = np.random.default_rng(seed)
    const = np.array([0.5, 1.0, 1.5, 2.0])
    truth = np.array([np.asarray(peak(X, 10.0, 1.0, 0.4, s, c)) for s, c in zip(scale, const)])
    return truth + rng.normal(0.0, 0.3, truth.shape)


def _lmfit_reference(y, vary_scale, scale0):
    """The same fit with lmfit: per-dataset names, a fixed parameter where
    the dataset freezes ``scale``; tightly converged."""
    p = lmfit.Parameters()
    p.add("amp", 5.0, min=0)
    p.add("cen", 0.9)
    p.add("sigma", 0.5, min=0.01)
    for k in range(K):
        p.add(f"scale_{k}", scale0[k], vary=bool(vary_scale[k]))
        p.add(f"const_{k}", 0.0)

    def resid(p):
        v = p.valuesdict()
        return np.concatenate([
            v[f"scale_{k}"] * v["amp"] * np.exp(-((X - v["cen"]) ** 2) / (2 * v["sigma"] ** 2))
            + v[f"const_{k}"] - y[k] for k in range(K)])

    out = lmfit.minimize(resid, p, method="leastsq", ftol=1e-14, xtol=1e-14, gtol=0.0, max_nfev=20000)
    assert out.success and out.errorbars
    return out


def _params(vary, scale0):
    return MODEL.make_params(amp={"value": 5.0, "min": 0}, cen=0.9, sigma={"value": 0.5, "min": 0.01},
                             scale={"value": scale0, "vary": vary}, const=0.0)


def _check_against(res, ref, g=None, scale0=None):
    """Values within 1e-3 stderr and stderr within 1e-3 relative of lmfit's."""
    pv = res.params
    for n in SHARED:
        v = pv[n].value if g is None else pv[n].value[g]
        e = pv[n].stderr if g is None else pv[n].stderr[g]
        r = ref.params[n]
        assert abs(v - r.value) < 1e-3 * r.stderr, n
        assert abs(e / r.stderr - 1) < 1e-3, n
    for n in ("scale", "const"):
        for k in range(K):
            v = pv[n].value[k] if g is None else pv[n].value[g, k]
            e = pv[n].stderr[k] if g is None else pv[n].stderr[g, k]
            r = ref.params[f"{n}_{k}"]
            if not r.vary:  # frozen: exactly its value, no error
                assert v == scale0[k] and e == 0.0
                continue
            assert abs(v - r.value) < 1e-3 * r.stderr, (n, k)
            assert abs(e / r.stderr - 1) < 1e-3, (n, k)


@pytest.mark.parametrize("solver", ["dense", "schur"])
def test_frozen_first_detector_matches_lmfit(solver):
    vary = np.array([False, True, True, True])
    scale0 = np.array([1.0, 0.9, 0.9, 0.9])
    y = _data(0, [1.0, 0.95, 1.05, 0.9])
    ref = _lmfit_reference(y, vary, scale0)
    res = MODEL.fit(y, _params(vary, scale0), x=X, shared=SHARED, group_solver=solver,
                    ftol=1e-12, xtol=1e-12)
    assert res.success and res.solver == solver
    assert res.nvarys == ref.nvarys == 3 + 4 + 3
    assert res.ndata == ref.ndata
    assert abs(res.chisqr / ref.chisqr - 1) < 1e-9
    _check_against(res, ref, scale0=scale0)
    if res.var_names is not None:  # the frozen copy is no variable
        assert "scale_0" not in res.var_names and "scale_1" in res.var_names
    report = fit_report(res)
    line = next(s for s in report.splitlines() if s.strip().startswith("scale_0:"))
    assert "(fixed)" in line and "+/-" not in line
    line = next(s for s in report.splitlines() if s.strip().startswith("scale_1:"))
    assert "(fixed)" not in line and "+/-" in line
    assert "# variables        = 10" in report


def test_groups_freeze_different_datasets_schur():
    """(G, K) vary: each group freezes a different dataset; auto picks the
    Schur solver; each group equals its own lmfit fit."""
    vary = np.array([[False, True, True, True], [True, True, False, True]])
    scale0 = np.array([[1.0, 0.9, 0.9, 0.9], [0.9, 0.9, 1.2, 0.9]])
    ys = np.stack([_data(1, [1.0, 0.95, 1.05, 0.9]), _data(2, [0.9, 1.1, 1.2, 1.0])])
    params = _params(vary, scale0)
    res = MODEL.fit(ys, params, x=X, shared=SHARED, ftol=1e-12, xtol=1e-12)
    assert res.solver == "schur" and np.all(res.success)
    assert res.nvarys == 10
    for g in range(2):
        ref = _lmfit_reference(ys[g], vary[g], scale0[g])
        _check_against(res, ref, g=g, scale0=scale0[g])
    lines = {s.split(":")[0].strip(): s for s in fit_report(res[1]).splitlines() if ":" in s}
    assert "(fixed)" in lines["scale_2"] and "+/-" in lines["scale_0"] and "(fixed)" not in lines["scale_0"]
    with raises(ValueError, "group_solver='schur'", "differ"):
        MODEL.fit(ys, params, x=X, shared=SHARED, group_solver="dense")
    assert np.array_equal(params["scale"].vary, vary)  # inputs are not modified


def test_frozen_counts_differ_between_groups():
    """Groups freezing different numbers of copies: nvarys per group."""
    vary = np.array([[False, True, True, True], [False, False, True, True]])
    scale0 = np.ones((2, K))
    ys = np.stack([_data(3, [1.0, 0.95, 1.05, 0.9]), _data(4, [1.0, 1.0, 1.2, 1.0])])
    res = MODEL.fit(ys, _params(vary, scale0), x=X, shared=SHARED, ftol=1e-12, xtol=1e-12)
    assert list(res.nvarys) == [10, 9] and list(res.nfree) == [4 * M - 10, 4 * M - 9]
    ref = _lmfit_reference(ys[1], vary[1], scale0[1])
    _check_against(res, ref, g=1, scale0=scale0[1])
    assert res[1].nvarys == 9 and abs(res[1].redchi / ref.redchi - 1) < 1e-9


# -- errors: a per-dataset vary is refused everywhere else, by name ----------
def test_vary_array_is_refused_outside_groups(no_solve):
    params = create_params(a={"value": 1.0, "vary": np.array([True, False])}, b=0.0)
    with raises(TypeError, "parameter 'a'", "vary", "array of shape (2,)", "shared-parameter groups"):
        minimize(lambda p: jnp.stack([p["a"] - 1.0, p["b"], p["a"] + p["b"]]), params)
    line = Model(lambda x, a, b: a * x + b)
    with raises(TypeError, "parameter 'a'", "vary", "array of shape (2,)"):
        line.fit(np.ones((2, 5)), params, x=np.arange(5.0))


def test_vary_array_bad_shapes_and_kinds(no_solve):
    y = _data(0, [1.0] * K)
    with raises(TypeError, "shared parameter 'amp'", "vary", "(4,)"):
        MODEL.fit(y, MODEL.make_params(amp={"value": 5.0, "vary": np.ones(K, bool)}, cen=1, sigma=0.5,
                                       scale=1.0, const=0.0), x=X, shared=SHARED)
    with raises(ValueError, "per-dataset parameter 'scale'", "vary has shape (3,)", "(4,)"):
        MODEL.fit(y, _params(np.ones(3, bool), 1.0), x=X, shared=SHARED)
    with raises(ValueError, "per-dataset parameter 'scale'", "vary has shape (2, 4)"):
        MODEL.fit(y, _params(np.ones((2, K), bool), 1.0), x=X, shared=SHARED)  # one group only
    for bad in ([1, 0, 1, 1], np.array([0.0, 1.0]), ["no", "yes"]):
        with raises(TypeError, "parameter 'scale'", "vary", "boolean array"):
            Parameters().add("scale", 1.0, vary=bad)


def test_list_of_bools_is_not_silently_true():
    p = Parameters()
    p.add("scale", 1.0, vary=[False, True])
    assert isinstance(p["scale"].vary, np.ndarray) and p["scale"].vary.tolist() == [False, True]
    assert "1 of 2 free" in repr(p["scale"])
