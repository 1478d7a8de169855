"""GroupFitResult.save / load_result round trip (.npz, .json) and the CLI's
--shared output read back by load_result."""

import json

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import least_squares

import batchfit as bf
from batchfit.__main__ import main

X = np.linspace(-3, 3, 41)


def gauss(x, amp, cen, sig):
    return amp * jnp.exp(-((x - cen) ** 2) / (2 * sig**2))


MODEL = bf.Model(gauss)


def _data(G, K, seed):
    rng = np.random.default_rng(seed)
    amp = rng.uniform(1, 2, (G, K))
    cen = rng.uniform(-0.5, 0.5, (G, K))
    sig = rng.uniform(0.6, 1.0, (G, 1))
    y = amp[..., None] * np.exp(-((X - cen[..., None]) ** 2) / (2 * sig[..., None] ** 2))
    return y + rng.normal(0, 0.01, y.shape)


def _same(a, b):
    assert type(a) is type(b) and len(a) == len(b) and a.solver == b.solver
    assert bf.fit_report(a) == bf.fit_report(b)
    for n in a.params:
        np.testing.assert_array_equal(a.params[n].value, b.params[n].value)
        np.testing.assert_array_equal(a.params[n].stderr, b.params[n].stderr)
        np.testing.assert_array_equal(a.params[n].init_value, b.params[n].init_value)
    for k in ("chisqr", "redchi", "aic", "bic", "nfev", "ndata", "status", "success"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    for k in ("covar", "covar_shared", "best_fit", "data"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
    assert a.to_dataframe().equals(b.to_dataframe())


@pytest.mark.parametrize("ext", ["npz", "json"])
def test_dense_group_round_trip(tmp_path, ext):
    y = _data(1, 3, seed=1)[0]
    res = MODEL.fit(y, MODEL.make_params(amp=1, cen=0, sig=0.8), x=X, shared=["sig"], group_solver="dense")
    res.save(tmp_path / f"g.{ext}")
    back = bf.load_result(tmp_path / f"g.{ext}")
    _same(res, back)
    assert back.flat is not None and bf.fit_report(back.flat) == bf.fit_report(res.flat)
    # the shared sigma against scipy on the stacked problem
    ref = least_squares(lambda z: (gauss(X[None], z[1:4, None], z[4:, None], z[0]) - y).ravel(),
                        np.r_[0.8, np.ones(3), np.zeros(3)], method="lm", xtol=1e-15, ftol=1e-15)
    assert abs(back.params["sig"].value - ref.x[0]) < 1e-3 * back.params["sig"].stderr  # scipy: 2-point Jacobian


@pytest.mark.parametrize("ext", ["npz", "json"])
def test_schur_groups_round_trip(tmp_path, ext):
    y = _data(2, 4, seed=2)
    res = MODEL.fit(y, MODEL.make_params(amp=1, cen=0, sig=0.8), x=X, shared=["sig"], group_solver="schur")
    res.save(tmp_path / f"s.{ext}")
    back = bf.load_result(tmp_path / f"s.{ext}")
    _same(res, back)
    _same(res[1], back[1])


def test_damaged_group_files_name_the_field(tmp_path):
    y = _data(1, 2, seed=3)[0]
    res = MODEL.fit(y, MODEL.make_params(amp=1, cen=0, sig=0.8), x=X, shared=["sig"])
    res.save(tmp_path / "g.json")
    tree = json.loads((tmp_path / "g.json").read_text())
    del tree["values"]["amp"]
    (tmp_path / "bad.json").write_text(json.dumps(tree))
    with pytest.raises(ValueError, match=r"bad.json.*field 'values' must hold the parameters"):
        bf.load_result(tmp_path / "bad.json")
    tree = json.loads((tmp_path / "g.json").read_text())
    tree["stats"]["chisqr"]["__ndarray__"]["shape"] = [1, 1]
    (tmp_path / "shape.json").write_text(json.dumps(tree))
    with pytest.raises(ValueError, match=r"field 'stats.chisqr' has shape \(1, 1\)"):
        bf.load_result(tmp_path / "shape.json")


def test_cli_shared_json_is_read_by_load_result(tmp_path, capsys):
    y = _data(1, 3, seed=4)[0]
    np.savez(tmp_path / "d.npz", data=y, x=X)
    code = main(["fit", str(tmp_path / "d.npz"), "--model", "gaussian", "--shared", "sigma",
                 "--out", str(tmp_path / "g.json")])
    _, err = capsys.readouterr()
    assert code == 0, err
    back = bf.load_result(tmp_path / "g.json")
    assert isinstance(back, bf.GroupFitResult) and back.shared_names == ["sigma"] and back.success
    assert back.fit_report() == bf.fit_report(back)
    model = bf.models.GaussianModel()
    direct = model.fit(y, back.params.copy(), x=X, shared=["sigma"])  # from the fitted values: stays
    np.testing.assert_allclose(back.params["sigma"].value, direct.params["sigma"].value, rtol=1e-9)
    np.testing.assert_allclose(back.params["center"].value, direct.params["center"].value, rtol=1e-9, atol=1e-12)
    full = model.fit(y, model.make_params(amplitude=1, center=0, sigma=0.8), x=X, shared=["sigma"])
    full.save(tmp_path / "full.json")
    again = bf.load_result(tmp_path / "full.json")
    for r in (full, again):
        assert {"fwhm", "height"} <= set(r.values)  # lmfit: values has every parameter,
        assert sorted(r.best_values) == ["amplitude", "center", "sigma"]  # best_values the arguments only
    np.testing.assert_array_equal(again.values["fwhm"], full.values["fwhm"])
