"""FitResult.to_dict / to_dataframe / save and batchfit.load_result."""

import json
import sys

import jax.numpy as jnp
import numpy as np
import pytest

import batchfit as bf


def gauss(x, amp, cen, sigma, c):
    return amp * jnp.exp(-((x - cen) ** 2) / (2 * sigma**2)) + c


def gauss_np(x, amp, cen, sigma, c):
    return amp * np.exp(-((x - cen) ** 2) / (2 * sigma**2)) + c


MODEL = bf.Model(gauss)
NAMES = ["amp", "cen", "sigma", "c", "fwhm"]


def _params():
    p = MODEL.make_params(amp=5, cen=1, sigma=0.3, c=0.5)
    p["c"].set(vary=False)
    p["cen"].set(min=0, max=2)
    p.add("fwhm", expr="2.3548200*sigma")
    return p


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    N, m = 6, 60
    x = np.sort(rng.uniform(0, 2, (N, m)), axis=1)  # per-fit x
    truth = rng.uniform([4, 0.8, 0.2], [8, 1.2, 0.4], (N, 3))
    sd = rng.uniform(0.1, 0.3, (N, m))
    y = np.stack([gauss_np(x[i], *truth[i], 0.5) for i in range(N)]) + sd * rng.normal(size=(N, m))
    return MODEL.fit(y, _params(), x=x, weights=1 / sd), x, y, sd


def _same_result(a, b):
    """Every statistic, parameter, correlation, report and stored array."""
    assert bf.fit_report(a) == bf.fit_report(b)
    assert a.batched == b.batched and a.method == b.method and a.var_names == b.var_names
    for key in ("status", "nfev", "ndata", "nfree", "chisqr", "redchi", "aic", "bic", "covar",
                "init_vals", "errorbars", "residual", "correl"):
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key), err_msg=key)
    assert np.all(a.success == b.success) and a.message == b.message
    for n in a.params:
        pa, pb = a.params[n], b.params[n]
        np.testing.assert_array_equal(pa.value, pb.value, err_msg=n)
        np.testing.assert_array_equal(pa.stderr, pb.stderr, err_msg=n)
        np.testing.assert_array_equal(pa.min, pb.min)
        np.testing.assert_array_equal(pa.max, pb.max)
        assert (pa.vary, pa.expr) == (pb.vary, pb.expr)
        np.testing.assert_array_equal(pa.init_value, pb.init_value, err_msg=n)
        assert (pa.correl is None) == (pb.correl is None)
        for k in pa.correl or {}:
            np.testing.assert_array_equal(pa.correl[k], pb.correl[k])


def test_dataframe_has_one_row_per_fit_with_values_stderr_and_statistics(batch):
    res, x, y, sd = batch
    df = res.to_dataframe()
    assert list(df.columns) == [c for n in NAMES for c in (n, f"{n}_stderr")] + [
        "chisqr", "redchi", "aic", "bic", "nfev", "ndata", "status", "success", "message"]
    assert len(df) == 6 and df.index.name == "fit"
    for n in NAMES:
        np.testing.assert_array_equal(df[n].to_numpy(), res.params[n].value)
        np.testing.assert_array_equal(df[f"{n}_stderr"].to_numpy(), res.params[n].stderr)
    # statistics recomputed from the data and the fitted values
    v = df[["amp", "cen", "sigma", "c"]].to_numpy()
    chi2 = [np.sum(((gauss_np(x[i], *v[i]) - y[i]) / sd[i]) ** 2) for i in range(6)]
    np.testing.assert_allclose(df["chisqr"], chi2, rtol=1e-10)
    np.testing.assert_allclose(df["redchi"], np.array(chi2) / (60 - 3), rtol=1e-10)
    np.testing.assert_allclose(df["aic"], 60 * np.log(np.array(chi2) / 60) + 2 * 3, rtol=1e-10)
    np.testing.assert_allclose(df["fwhm"], 2.35482 * df["sigma"], rtol=1e-12)
    assert (df["c_stderr"] == 0).all() and (df["c"] == 0.5).all()
    assert list(df["status"]) == [bf.RESULTS(s).name for s in res.status]
    assert df["success"].tolist() == list(res.success) and df["message"].tolist() == res.message
    one = res[2].to_dataframe()
    assert len(one) == 1 and one.iloc[0]["cen"] == res.params["cen"].value[2]


def test_to_dict_is_plain_and_json_serialisable(batch):
    res, x, y, sd = batch
    d = res.to_dict()
    assert d["spec"] == {"names": NAMES, "free": ["amp", "cen", "sigma"], "fixed": ["c"],
                         "tied": [["fwhm", "2.3548200*sigma"]]}
    assert d["params"]["cen"] == {"value": 1.0, "min": 0.0, "max": 2.0, "vary": True, "expr": None}
    assert sorted(d["extras"]) == ["best_fit", "data", "indep", "mask", "max_nfev", "model_label",
                                  "model_name", "model_param_names", "nan_policy", "scale_covar", "weights"]
    back = json.loads(json.dumps(d, default=lambda a: a.tolist()))
    np.testing.assert_array_equal(back["arrays"]["values_all"], res.to_dict()["arrays"]["values_all"])
    np.testing.assert_array_equal(back["extras"]["indep"]["x"], x)
    np.testing.assert_array_equal(back["extras"]["weights"], 1 / sd)
    assert back["arrays"]["status"] == [int(s) for s in res.status]


@pytest.mark.parametrize("ext", ["npz", "json"])
def test_batch_round_trip(batch, tmp_path, ext):
    res, x, y, sd = batch
    path = tmp_path / f"fit.{ext}"
    res.save(path)
    back = bf.load_result(path)
    _same_result(res, back)
    for key in ("best_fit", "data", "weights"):
        np.testing.assert_array_equal(getattr(back, key), getattr(res, key))
    np.testing.assert_array_equal(back.indep["x"], x)
    _same_result(res[4], back[4])
    np.testing.assert_allclose(back[4].best_fit, gauss_np(x[4], *[res.params[n].value[4] for n in NAMES[:4]]),
                               rtol=1e-12)
    if ext == "npz":  # plain arrays only: loadable without pickle
        with np.load(path, allow_pickle=False) as z:
            assert all(z[k].dtype != object for k in z.files)


@pytest.mark.parametrize("ext", ["npz", "json"])
def test_single_minimize_round_trip(tmp_path, ext):
    rng = np.random.default_rng(1)
    x = np.linspace(0, 3, 40)
    y = 2.0 * np.exp(-1.3 * x) + rng.normal(0, 0.02, 40)
    p = bf.create_params(a=1.0, k={"value": 1.0, "min": 0, "max": 10})
    res = bf.minimize(lambda p, x, y: p["a"] * jnp.exp(-p["k"] * x) - y, p, args=(x, y))
    res.save(tmp_path / f"m.{ext}")
    back = bf.load_result(tmp_path / f"m.{ext}")
    # everything but the in-memory refit handle (the problem conf_interval refits; not data) is saved
    assert "refit" in res.extras and "refit" not in back.extras
    kept = {k: v for k, v in res.extras.items() if k != "refit"}
    # max_nfev: the limit used (lmfit's), LM's default 2000 (nvarys + 1)
    assert not back.batched and back.extras == kept == {"nan_policy": "raise", "scale_covar": True,
                                                        "max_nfev": 2000 * (res.nvarys + 1)}
    _same_result(res, back)
    assert back.params["k"].value == pytest.approx(1.3, rel=0.05)


def test_ragged_float32_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    xs = [np.linspace(0, 2, m).astype(np.float32) for m in (30, 45, 38)]
    ys = [(gauss_np(x, 6, 1, 0.3, 0.5) + rng.normal(0, 0.2, x.size)).astype(np.float32) for x in xs]
    res = MODEL.fit(ys, _params(), x=xs)
    assert res.residual.dtype == np.float32
    for ext in ("npz", "json"):
        res.save(tmp_path / f"r.{ext}")
        back = bf.load_result(tmp_path / f"r.{ext}")
        _same_result(res, back)
        assert back.residual.dtype == np.float32 and back.best_fit.dtype == res.best_fit.dtype
        np.testing.assert_array_equal(back.mask, res.mask)
        np.testing.assert_array_equal(back.ndata, [30, 45, 38])


def test_curve_fit_result_stores_shared_x_once(tmp_path):
    x = np.linspace(0, 2, 50)
    Y = np.stack([gauss_np(x, a, 1.0, 0.3, 0.5) for a in (3.0, 4.0, 5.0, 6.0)])
    Y = Y + np.random.default_rng(3).normal(0, 0.1, Y.shape)
    *_, info, _, _ = bf.curve_fit(gauss, x, Y, p0=[5, 1, 0.3, 0], full_output=True)
    res = info["result"]
    res.save(tmp_path / "c.npz")
    with np.load(tmp_path / "c.npz", allow_pickle=False) as z:
        assert z["extras/indep/x"].shape == (50,)  # per-fit view of one shared array
    back = bf.load_result(tmp_path / "c.npz")
    _same_result(res, back)
    np.testing.assert_array_equal(back.indep["x"], np.broadcast_to(x, (4, 50)))
    np.testing.assert_array_equal(back[2].indep["x"], x[None])


def test_saving_does_not_change_the_result(batch, tmp_path):
    res, *_ = batch
    before = {k: np.copy(v) for k, v in res.to_dict()["arrays"].items()}
    res.save(tmp_path / "s.json")
    for k, v in res.to_dict()["arrays"].items():
        np.testing.assert_array_equal(v, before[k])


def test_bad_paths_and_files(batch, tmp_path):
    res, *_ = batch
    with pytest.raises(ValueError, match="must end in .npz or .json"):
        res.save(tmp_path / "fit.pkl")
    with pytest.raises(ValueError, match="must end in .npz or .json"):
        bf.load_result(tmp_path / "fit.txt")
    np.savez(tmp_path / "other.npz", a=np.arange(3))
    with pytest.raises(ValueError, match="not a saved batchfit FitResult"):
        bf.load_result(tmp_path / "other.npz")
    (tmp_path / "other.json").write_text(json.dumps({"format": "x"}))
    with pytest.raises(ValueError, match="not a saved batchfit FitResult"):
        bf.load_result(tmp_path / "other.json")


def test_dataframe_without_pandas_names_the_extra(batch, monkeypatch):
    res, *_ = batch
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install batchfit\[pandas\]"):
        res.to_dataframe()
