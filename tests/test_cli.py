"""``batchfit fit``: the command line run in-process on small seeded files,
its results checked against direct ``Model.fit`` calls and scipy."""

import csv
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy.optimize import curve_fit, least_squares

import batchfit as bf
from batchfit import cli
from batchfit.__main__ import main
from batchfit.models import GaussianModel

M = 61
X = np.linspace(-4.0, 4.0, M)
SQ2PI = math.sqrt(2 * math.pi)


def gauss(x, amplitude, center, sigma):
    return amplitude / (sigma * SQ2PI) * np.exp(-((x - center) ** 2) / (2 * sigma**2))


def gauss_data(n, seed, sigma=None, noise=0.02):
    rng = np.random.default_rng(seed)
    amp, cen = rng.uniform(1, 3, n), rng.uniform(-1, 1, n)
    sig = np.full(n, sigma) if sigma is not None else rng.uniform(0.5, 1.2, n)
    y = gauss(X[None], amp[:, None], cen[:, None], sig[:, None]) + rng.normal(0, noise, (n, M))
    return y, np.stack([amp, cen, sig], axis=1)


def scipy_fit(x, y, p0, sigma=None, f=gauss, **kw):
    ok = np.isfinite(y)
    s = None if sigma is None else sigma[ok]
    p, cov = curve_fit(f, x[ok], y[ok], p0=p0, sigma=s, xtol=1e-14, ftol=1e-14, **kw)
    return p, np.sqrt(np.diag(cov))


def group_start(model, y):
    """The command line's start of a group fit: the guess, the median sigma,
    the model's own parameters (no derived fwhm/height)."""
    p = model.guess(y, x=X)
    p["sigma"].value = float(np.median(p["sigma"].value))
    return bf.Parameters({n: p[n] for n in model.param_names})


def fit(argv, capsys):
    code = main(["fit", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def read_csv(path):
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {k: np.array([r[k] for r in rows]) for k in rows[0]}


def col(table, name):
    return table[name].astype(float)


def test_npy_to_csv_equals_model_fit_and_scipy(tmp_path, capsys):
    y, truth = gauss_data(5, seed=1)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "x.npy", X)
    code, out, err = fit([tmp_path / "y.npy", "--model", "gaussian", "--x", tmp_path / "x.npy",
                          "--out", tmp_path / "r.csv"], capsys)
    assert code == 0, err
    assert "[[Batch Summary]]" in out and "# fits             = 5" in out and "results:" in out
    t = read_csv(tmp_path / "r.csv")
    assert list(t)[:3] == ["fit", "amplitude", "amplitude_stderr"]
    assert list(t)[-5:] == ["nfev", "ndata", "status", "success", "message"]
    # the same fit called directly (the model's vectorised guess as start)
    model = GaussianModel()
    ref = model.fit(y, model.guess(y, x=X), x=X, nan_policy="omit")
    for n in ("amplitude", "center", "sigma", "fwhm", "height"):
        np.testing.assert_allclose(col(t, n), ref.params[n].value, rtol=1e-12)
        np.testing.assert_allclose(col(t, f"{n}_stderr"), ref.params[n].stderr, rtol=1e-12)
    np.testing.assert_allclose(col(t, "chisqr"), ref.chisqr, rtol=1e-12)
    assert list(t["success"]) == ["True"] * 5 and set(t["ndata"]) == {str(M)}
    # independent reference: scipy per dataset
    for i in range(5):
        p, e = scipy_fit(X, y[i], truth[i])
        np.testing.assert_allclose([col(t, n)[i] for n in ("amplitude", "center", "sigma")], p, rtol=1e-6)
        np.testing.assert_allclose([col(t, f"{n}_stderr")[i] for n in ("amplitude", "center", "sigma")],
                                   e, rtol=1e-3)
        chi = np.sum((y[i] - gauss(X, *p)) ** 2)
        assert col(t, "redchi")[i] == pytest.approx(chi / (M - 3), rel=1e-6)


def test_csv_first_row_x_ragged_rows_to_npz(tmp_path, capsys):
    y, truth = gauss_data(5, seed=2)
    y[1, 50:] = np.nan  # a shorter row
    y[2, 7] = np.nan  # an empty field
    with open(tmp_path / "d.csv", "w") as fh:
        fh.write("# spectra: first row x, then one spectrum per row\n")
        fh.write(",".join(f"{v!r}" for v in X.tolist()) + "\n")
        for row in y:
            fields = ["" if np.isnan(v) else repr(v) for v in row.tolist()]
            while fields and fields[-1] == "":
                fields.pop()
            fh.write(",".join(fields) + "\n")
    code, out, err = fit([tmp_path / "d.csv", "--model", "gaussian", "--x", "first-row",
                          "--out", tmp_path / "r.npz"], capsys)
    assert code == 0, err
    res = bf.load_result(tmp_path / "r.npz")
    assert len(res) == 5 and res.success.all()
    np.testing.assert_array_equal(res.ndata, [M, 50, M - 1, M, M])
    for i in range(5):
        p, e = scipy_fit(X, y[i], truth[i])
        np.testing.assert_allclose([res.params[n].value[i] for n in ("amplitude", "center", "sigma")], p,
                                   rtol=1e-6)
        np.testing.assert_allclose([res.params[n].stderr[i] for n in ("amplitude", "center", "sigma")], e,
                                   rtol=1e-3)


def test_csv_columns_layout_x_column_and_labels(tmp_path, capsys):
    y, truth = gauss_data(5, seed=3)
    names = ["alpha", "beta", "gamma", "delta", "epsilon"]
    with open(tmp_path / "d.csv", "w") as fh:
        fh.write("t," + ",".join(names) + "\n")
        for j in range(M):
            fh.write(",".join(repr(float(v)) for v in [X[j], *y[:, j]]) + "\n")
    code, out, err = fit([tmp_path / "d.csv", "--layout", "columns", "--x", "t", "--model", "gaussian",
                          "--out", tmp_path / "r.csv", "--quiet"], capsys)
    assert code == 0, err
    assert out == ""
    t = read_csv(tmp_path / "r.csv")
    assert list(t["label"]) == names and list(t)[:2] == ["fit", "label"]
    for i in range(5):
        p, _ = scipy_fit(X, y[i], truth[i])
        np.testing.assert_allclose([col(t, n)[i] for n in ("amplitude", "center", "sigma")], p, rtol=1e-6)


def test_npz_keys_and_weights_to_json(tmp_path, capsys):
    y, truth = gauss_data(3, seed=4, noise=0.0)
    rng = np.random.default_rng(40)
    sd = rng.uniform(0.01, 0.05, (3, M))
    y = y + rng.normal(0, 1, y.shape) * sd
    np.savez(tmp_path / "d.npz", spectra=y, energy=X, w=1 / sd)
    code, out, err = fit([tmp_path / "d.npz", "--data-key", "spectra", "--x-key", "energy",
                          "--weights", "w", "--model", "gaussian", "--out", tmp_path / "r.json"], capsys)
    assert code == 0, err
    res = bf.load_result(tmp_path / "r.json")
    for i in range(3):
        p, e = scipy_fit(X, y[i], truth[i], sigma=sd[i])
        np.testing.assert_allclose([res.params[n].value[i] for n in ("amplitude", "center", "sigma")], p,
                                   rtol=1e-6)
        np.testing.assert_allclose([res.params[n].stderr[i] for n in ("amplitude", "center", "sigma")], e,
                                   rtol=1e-3)
        chi = np.sum(((y[i] - gauss(X, *p)) / sd[i]) ** 2)
        assert res.chisqr[i] == pytest.approx(chi, rel=1e-6)
    # --x NAME also names an array of the data file; weights as a separate .npy file
    np.save(tmp_path / "w.npy", 1 / sd)
    code, _, err = fit([tmp_path / "d.npz", "--data-key", "spectra", "--x", "energy", "--weights",
                        tmp_path / "w.npy", "--model", "gaussian", "--out", tmp_path / "r2.json"], capsys)
    assert code == 0, err
    np.testing.assert_allclose(bf.load_result(tmp_path / "r2.json").params["center"].value,
                               res.params["center"].value, rtol=1e-12)


def test_shared_group_table_matches_model_fit_and_scipy(tmp_path, capsys):
    K = 4
    y, truth = gauss_data(K, seed=5, sigma=0.8)
    np.save(tmp_path / "y.npy", y)
    code, out, err = fit([tmp_path / "y.npy", "--model", "gaussian", "--x", "first-row"], capsys)
    assert code == 2 and "first-row applies to .csv" in err  # (a .npy has no x row)
    np.save(tmp_path / "x.npy", X)
    code, out, err = fit([tmp_path / "y.npy", "--model", "gaussian", "--x", tmp_path / "x.npy",
                          "--shared", "sigma", "--out", tmp_path / "g.csv"], capsys)
    assert code == 0, err
    assert "[[Group]]" in out and "sigma:" in out
    t = read_csv(tmp_path / "g.csv")
    assert list(t)[:4] == ["group", "dataset", "sigma", "sigma_stderr"]
    np.testing.assert_array_equal(t["dataset"].astype(int), np.arange(K))
    assert len(set(t["sigma"])) == 1  # one shared value, repeated

    def resid(z):
        return (gauss(X[None], z[1:1 + K, None], z[1 + K:, None], z[0]) - y).ravel()

    z0 = np.concatenate([[1.0], truth[:, 0], truth[:, 1]])
    ref = least_squares(resid, z0, method="lm", xtol=1e-14, ftol=1e-14, gtol=1e-14)
    chi = 2 * ref.cost
    cov = np.linalg.inv(ref.jac.T @ ref.jac) * chi / (K * M - (1 + 2 * K))
    err_ref = np.sqrt(np.diag(cov))
    assert col(t, "sigma")[0] == pytest.approx(ref.x[0], rel=1e-6)
    assert col(t, "sigma_stderr")[0] == pytest.approx(err_ref[0], rel=1e-3)
    np.testing.assert_allclose(col(t, "amplitude"), ref.x[1:1 + K], rtol=1e-6)
    np.testing.assert_allclose(col(t, "center_stderr"), err_ref[1 + K:], rtol=1e-3)
    assert col(t, "chisqr")[0] == pytest.approx(chi, rel=1e-6)
    # the direct call with the start the command line uses (the group median for sigma)
    model = GaussianModel()
    direct = model.fit(y, group_start(model, y), x=X, shared=["sigma"], nan_policy="omit")
    assert col(t, "sigma")[0] == pytest.approx(direct.params["sigma"].value, rel=1e-10)
    np.testing.assert_allclose(col(t, "center"), direct.params["center"].value, rtol=1e-10)


def test_shared_many_groups_from_3d_npz(tmp_path, capsys):
    G, K = 2, 3
    sig = (0.7, 1.0)
    parts = [gauss_data(K, seed=60 + g, sigma=sig[g]) for g in range(G)]
    y = np.stack([p[0] for p in parts])
    np.savez(tmp_path / "d.npz", data=y, x=X)
    code, out, err = fit([tmp_path / "d.npz", "--model", "gaussian", "--shared", "sigma",
                          "--out", tmp_path / "g.npz"], capsys)
    assert code == 0, err
    back = bf.load_result(tmp_path / "g.npz")  # the saved GroupFitResult, as the README says
    assert isinstance(back, bf.GroupFitResult) and len(back) == G
    t = {k: np.asarray(v) for k, v in back.to_dataframe().items()}
    np.testing.assert_array_equal(t["group"], [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(t["dataset"], [0, 1, 2, 0, 1, 2])
    assert list(t["status"]) == ["FTOL_XTOL"] * 6 or t["success"].all()
    for g in range(G):  # scipy on each group's stacked problem
        truth = parts[g][1]

        def resid(z):
            return (gauss(X[None], z[1:1 + K, None], z[1 + K:, None], z[0]) - y[g]).ravel()

        ref = least_squares(resid, np.concatenate([[0.9], truth[:, 0], truth[:, 1]]), method="lm",
                            xtol=1e-14, ftol=1e-14, gtol=1e-14)
        rows = slice(g * K, (g + 1) * K)
        np.testing.assert_allclose(t["sigma"][rows], ref.x[0], rtol=1e-6)
        np.testing.assert_allclose(t["amplitude"][rows], ref.x[1:1 + K], rtol=1e-6)
        np.testing.assert_allclose(t["center"][rows], ref.x[1 + K:], rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(t["chisqr"][rows], 2 * ref.cost, rtol=1e-6)


def test_param_fixed_value_and_bounds(tmp_path, capsys):
    y, truth = gauss_data(3, seed=7)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "x.npy", X)
    code, out, err = fit([tmp_path / "y.npy", "--model", "gaussian", "--x", tmp_path / "x.npy",
                          "--param", "center=0.25,vary=false", "--param", "sigma,min=0.3",
                          "--param", "sigma,max=3", "--out", tmp_path / "r.npz"], capsys)
    assert code == 0, err
    res = bf.load_result(tmp_path / "r.npz")
    sig = res.params["sigma"]
    assert (sig.min, sig.max, res.params["center"].vary) == (0.3, 3.0, False)
    np.testing.assert_array_equal(res.params["center"].value, 0.25)
    np.testing.assert_array_equal(res.params["center"].stderr, 0.0)
    assert res.nvarys == 2 and res.success.all()
    for i in range(3):
        f = lambda x, a, s: gauss(x, a, 0.25, s)  # noqa: E731
        p, cov = curve_fit(f, X, y[i], p0=truth[i, [0, 2]], xtol=1e-14, ftol=1e-14)
        e = np.sqrt(np.diag(cov))
        np.testing.assert_allclose([res.params["amplitude"].value[i], sig.value[i]], p, rtol=1e-6)
        np.testing.assert_allclose([res.params["amplitude"].stderr[i], sig.stderr[i]], e, rtol=1e-3)


def test_models_by_name_options_and_composite(tmp_path, capsys):
    assert cli.build_model("polynomial:degree=2").param_names == ["c0", "c1", "c2"]
    assert cli.build_model("step:form=erf").opts == {"form": "erf"}
    two = cli.build_model("gaussian:prefix=g1_+gaussian:prefix=g2_")
    assert two.param_names == ["g1_amplitude", "g1_center", "g1_sigma", "g2_amplitude", "g2_center", "g2_sigma"]
    np.save(tmp_path / "x.npy", X)
    yg, truth = gauss_data(3, seed=9)
    yg = yg + np.array([[0.3], [-0.2], [0.5]])
    np.save(tmp_path / "g.npy", yg)
    code, out, err = fit([tmp_path / "g.npy", "--model", "gaussian+constant", "--x", tmp_path / "x.npy",
                          "--out", tmp_path / "g.csv"], capsys)
    assert code == 0, err
    t = read_csv(tmp_path / "g.csv")
    for i in range(3):
        p, _ = scipy_fit(X, yg[i], [*truth[i], 0.0], f=lambda x, a, cn, s, c: gauss(x, a, cn, s) + c)
        np.testing.assert_allclose([col(t, n)[i] for n in ("amplitude", "center", "sigma", "c")], p, rtol=1e-6)


def test_chunks_progress_checkpoint_equal_plain_fit(tmp_path, capsys):
    y, _ = gauss_data(10, seed=14)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "x.npy", X)
    code, out, err = fit([tmp_path / "y.npy", "--model", "gaussian", "--x", tmp_path / "x.npy",
                          "--out", tmp_path / "b.csv", "--chunk-size", "5", "--progress",
                          "--checkpoint", tmp_path / "ck"], capsys)
    assert code == 0, err
    assert "10/10" in err  # the tqdm bar on stderr
    assert sorted(os.listdir(tmp_path / "ck")) == ["chunk_000000.npz", "chunk_000001.npz", "manifest.json"]
    b = read_csv(tmp_path / "b.csv")
    model = GaussianModel()
    for half in (slice(0, 5), slice(5, 10)):  # each chunk equals a fit of its datasets alone
        ref = model.fit(y[half], model.guess(y[half], x=X), x=X, nan_policy="omit")
        for n in ("amplitude", "center", "sigma"):
            np.testing.assert_allclose(col(b, n)[half], ref.params[n].value, rtol=1e-10)
            np.testing.assert_allclose(col(b, f"{n}_stderr")[half], ref.params[n].stderr, rtol=1e-8)
        np.testing.assert_allclose(col(b, "chisqr")[half], ref.chisqr, rtol=1e-10)


def test_float32(tmp_path, capsys):
    y, _ = gauss_data(5, seed=11)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "x.npy", X)
    base = [tmp_path / "y.npy", "--model", "gaussian", "--x", tmp_path / "x.npy"]
    assert fit(base + ["--out", tmp_path / "a.npz"], capsys)[0] == 0
    assert fit(base + ["--dtype", "float32", "--out", tmp_path / "b.npz"], capsys)[0] == 0
    a, b = bf.load_result(tmp_path / "a.npz"), bf.load_result(tmp_path / "b.npz")
    assert b.params["center"].value.dtype == np.float32 or b._a["values_all"].dtype == np.float32
    np.testing.assert_allclose(b.params["center"].value, a.params["center"].value, rtol=2e-4, atol=1e-4)


def test_csv_writer_without_pandas_matches_to_dataframe(tmp_path, monkeypatch):
    y, _ = gauss_data(5, seed=12)
    model = GaussianModel()
    res = model.fit(y, model.guess(y, x=X), x=X, nan_policy="omit")
    yk, _ = gauss_data(4, seed=13, sigma=0.9)
    grp = model.fit(yk, group_start(model, yk), x=X, shared=["sigma"], nan_policy="omit")
    with_pd = [cli.result_table(r) for r in (res, grp)]
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now fails
    without = [cli.result_table(r) for r in (res, grp)]
    for a, b in zip(with_pd, without):
        assert list(a) == list(b)
        for k in a:
            if np.asarray(a[k]).dtype.kind in "fiub":
                np.testing.assert_array_equal(np.asarray(a[k], float), np.asarray(b[k], float), err_msg=k)
            else:
                assert [str(v) for v in a[k]] == [str(v) for v in b[k]], k
    cli.write_results(res, tmp_path / "r.csv")
    t = read_csv(tmp_path / "r.csv")
    np.testing.assert_array_equal(col(t, "center"), res.params["center"].value)  # repr round-trips


# -- errors: exit status 2, one line on stderr, nothing fitted ---------------
@pytest.fixture()
def files(tmp_path):
    y, _ = gauss_data(2, seed=0)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "x_short.npy", X[:-1])
    np.savez(tmp_path / "d.npz", data=y, x=X)
    (tmp_path / "bad.csv").write_text("a,b,c\n1,2,3\n4,oops,6\n")
    (tmp_path / "cols.csv").write_text("t,y1\n0,1\n1,2\n2,3\n")
    np.save(tmp_path / "obj.npy", np.array([1, "a"], dtype=object), allow_pickle=True)
    return tmp_path


@pytest.mark.parametrize("argv, message", [
    (["missing.npy", "--model", "gaussian"], "data file '{d}/missing.npy' not found"),
    (["y.npy", "--model", "gaussien"], "unknown model 'gaussien'; known models: gaussian, lorentzian"),
    (["y.npy", "--model", "polynomial:degree=9"], "degree must be between 0 and 7"),
    (["y.npy", "--model", "gaussian+gaussian"], "give the models distinct prefixes"),
    (["y.npy", "--model", "gaussian2d"], "one variable x"),
    (["y.npy", "--model", "gaussian", "--param", "amp=1"], "model gaussian has no parameter 'amp'"),
    (["y.npy", "--model", "gaussian", "--param", "center=abc"], "the value must be a number, got 'abc'"),
    (["y.npy", "--model", "gaussian", "--param", "center=1,mx=2"], "'mx=2' is not one of value="),
    (["y.npy", "--model", "gaussian", "--param", "center,vary=maybe"], "vary must be true or false"),
    (["y.npy", "--model", "gaussian", "--param", "1x=2"], "'1x' is not a parameter name"),
    (["y.npy", "--model", "gaussian", "--param", "fwhm=2"], "fwhm is tied"),
    (["d.npz", "--model", "gaussian", "--data-key", "spectra"],
     "d.npz: no array 'spectra' (--data-key); it holds data, x"),
    (["d.npz", "--model", "gaussian", "--x", "energy"], "has no array 'energy'"),
    (["bad.csv", "--model", "gaussian"], "bad.csv: line 3, column 2 ('b'): 'oops' is not a number"),
    (["cols.csv", "--layout", "columns", "--x", "time", "--model", "gaussian"],
     "no column 'time' for --x; columns: t, y1"),
    (["y.npy", "--model", "gaussian", "--x", "x_short.npy"], "--x: shape (60,) does not fit data of shape (2, 61)"),
    (["y.npy", "--model", "gaussian", "--x", "nothere.npy"], "--x file '{d}/nothere.npy' not found"),
    (["y.npy", "--model", "gaussian", "--out", "r.xlsx"], "unsupported type '.xlsx'"),
    (["y.npy", "--model", "gaussian", "--out", "no/such/r.csv"], "does not exist"),
    (["y.npy", "--model", "gaussian", "--shared", "width"], "--shared: model gaussian has no parameter(s) ['width']"),
    (["y.npy", "--model", "gaussian", "--shared", "sigma", "--chunk-size", "2"], "do not apply to --shared"),
    (["obj.npy", "--model", "gaussian"], "object arrays are refused"),
    (["x.npy", "--model", "gaussian", "--param", "center=9,max=1", "--x", "x.npy"], "outside its bounds"),
])
def test_errors_are_one_line(files, capsys, argv, message):
    d = str(files)
    argv = [os.path.join(d, a) if a.endswith((".npy", ".npz", ".csv", ".xlsx")) else a for a in argv]
    code, out, err = fit(argv, capsys)
    assert code == 2
    lines = [ln for ln in err.splitlines() if not ln.startswith("batchfit fit: no x given")]
    assert len(lines) == 1 and lines[0].startswith("batchfit fit: error: "), err
    assert message.format(d=d) in lines[0]
    assert "Traceback" not in err


def test_optional_formats_need_their_packages(files, capsys):
    import importlib.util

    have_arrow = any(importlib.util.find_spec(m) for m in ("pyarrow", "fastparquet"))
    code, _, err = fit([files / "y.npy", "--model", "gaussian", "--x", files / "x.npy",
                        "--out", files / "r.parquet"], capsys)
    if have_arrow:
        import pandas as pd

        assert code == 0 and len(pd.read_parquet(files / "r.parquet")) == 2
    else:
        assert code == 2 and "needs pyarrow or fastparquet" in err
    (files / "d.h5").write_bytes(b"not really hdf5")
    code, _, err = fit([files / "d.h5", "--model", "gaussian"], capsys)
    assert code == 2
    if importlib.util.find_spec("h5py") is None:
        assert "reading .h5 files needs h5py" in err
    else:
        assert "not a readable HDF5 file" in err


def test_console_entry_point_error(tmp_path):
    """``python -m batchfit fit`` exits with status 2 and one line, no traceback."""
    proc = subprocess.run([sys.executable, "-m", "batchfit", "fit", str(tmp_path / "none.csv"),
                           "--model", "gaussian"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"batchfit fit: error: data file '{tmp_path / 'none.csv'}' not found"


def test_parse_param_fields():
    assert cli.parse_param("amp=-inf") == ("amp", {"value": -math.inf})
    assert cli.parse_param("c=1,min=0,max=2,vary=no") == ("c", {"value": 1.0, "min": 0.0, "max": 2.0,
                                                                 "vary": False})
    assert cli.parse_param("h,expr=a*b, max(a,b)")[1] == {"expr": "a*b, max(a,b)"}
    with pytest.raises(cli.CLIError, match="min given twice"):
        cli.parse_param("a=1,min=0,min=1")
    with pytest.raises(cli.CLIError, match="must not be NaN"):
        cli.parse_param("a=1,max=nan")
    assert json.dumps(cli.parse_param("b")) == '["b", {}]'
