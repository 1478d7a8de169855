"""The examples run end to end and produce what they promise."""

import importlib.util
import os

import numpy as np
import pytest

import batchfit as bf
from batchfit.data import ANTOINE_BEST

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")


def _load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_simultaneous_fit_example(tmp_path, capsys):
    out = tmp_path / "fit.png"
    res = _load("simultaneous_fit").main(str(out))
    assert res.success and res.nvarys == 5 and res.ndata == 300
    assert out.stat().st_size > 10_000
    import matplotlib.image as mpimg

    assert mpimg.imread(str(out)).shape[:2] == (600, 700)
    assert "[[Correlations]]" in capsys.readouterr().out


def test_antoine_example():
    results = _load("antoine_lm_vs_gn").main()
    lm, gn = results["leastsq"], results["gauss_newton"]
    assert lm.success.all()
    for n, best in zip("ABC", ANTOINE_BEST):
        np.testing.assert_allclose(lm.params[n].value, best, rtol=5e-7)
    assert list(gn.success) == [False, False, True]


def test_demo_cli_runs(capsys, monkeypatch):
    from batchfit import __main__ as cli
    from batchfit import demo

    full = demo.batch
    monkeypatch.setattr(demo, "batch", lambda n=10_000, seed=0: full(200, seed))
    assert cli.main(["demo"]) == 0
    text = capsys.readouterr().out
    assert "Use case 1" in text and "OK   A=7.13144455" in text and "[[Batch Summary]]" in text
    assert "# fits             = 200" in text


# -- notebook-style examples (# %% cells), run with small sizes --------------
def _run_script(name, monkeypatch, tmp_path, **env):
    import runpy

    monkeypatch.setenv("BATCHFIT_FIGURE_DIR", str(tmp_path))
    for k, v in env.items():
        monkeypatch.setenv(k, str(v))
    return runpy.run_path(os.path.join(EXAMPLES, f"{name}.py"), run_name="__main__")


def test_shared_groups_example_matches_lmfit(monkeypatch, tmp_path, capsys):
    import lmfit

    from batchfit.data import two_gaussian_datasets
    from batchfit.demo import use_case_1_params

    g = _run_script("shared_groups", monkeypatch, tmp_path)
    text = capsys.readouterr().out
    assert "[[Group]]" in text and "== 'cen_1'" in text and "largest relative difference" in text
    assert g["value_diff"] < 1e-8 and g["stderr_diff"] < 1e-6
    group = g["group"]
    assert group.nvarys == 5 and group.ndata == 300 and group.success

    x, data = two_gaussian_datasets(seed=0)

    def objective(p, x, data):
        return np.concatenate([data[k - 1] - (p[f"amp_{k}"] * np.exp(-(x - p[f"cen_{k}"]) ** 2
                                                                     / (2 * p[f"sigma_{k}"] ** 2))
                                              + p[f"const_{k}"]) for k in (1, 2)])

    ref = lmfit.minimize(objective, use_case_1_params(lmfit.Parameters()), args=(x, data))
    for n in ("cen", "sigma", "amp"):
        assert group.params[n].value == pytest.approx(ref.params[f"{n}_1"].value, rel=1e-6)
        assert group.params[n].stderr == pytest.approx(ref.params[f"{n}_1"].stderr, rel=1e-3)
    for k in (0, 1):
        assert group.params["const"].value[k] == pytest.approx(ref.params[f"const_{k + 1}"].value, rel=1e-6)
    assert group.chisqr == pytest.approx(ref.chisqr, rel=1e-6)
    assert (tmp_path / "shared_groups.png").stat().st_size > 10_000


def test_many_fits_example(monkeypatch, tmp_path, capsys):
    from scipy.optimize import curve_fit

    g = _run_script("many_fits", monkeypatch, tmp_path, BATCHFIT_N=300)
    text = capsys.readouterr().out
    assert "[[Batch Summary]]" in text and "# fits             = 300" in text
    res, truth, dead, y, x = g["res"], g["truth"], g["dead"], g["y"], g["x"]
    assert len(res) == 300 and dead.sum() == 1
    assert res.success[~dead].all() and g["counts"]["TOO_FEW_POINTS"] == 1
    assert (res.status[dead] == bf.RESULTS.TOO_FEW_POINTS).all()
    ndata = np.isfinite(y).sum(axis=1)
    np.testing.assert_array_equal(res.ndata, ndata)
    assert ndata.min() == 3 and ndata[~dead].min() < 128  # ragged and masked
    # honest standard errors: about 95% of the pulls within 2
    for name in ("amplitude", "center", "sigma", "c"):
        assert 0.9 < np.mean(np.abs(g["pulls"][name]) < 2) <= 1.0
    # three fits against scipy on their finite points
    def f(x, a, cen, s, c):
        return a / (s * np.sqrt(2 * np.pi)) * np.exp(-(x - cen) ** 2 / (2 * s**2)) + c

    for i in np.nonzero(~dead)[0][:3]:
        ok = np.isfinite(y[i])
        p0 = [truth[n][i] for n in ("amplitude", "center", "sigma", "c")]
        p, _ = curve_fit(f, x[ok], y[i, ok], p0=p0, xtol=1e-14, ftol=1e-14)
        np.testing.assert_allclose([res.params[n].value[i] for n in ("amplitude", "center", "sigma", "c")],
                                   p, rtol=1e-5)
    df = g["df"]
    assert len(df) == 300 and (df["status"] == "TOO_FEW_POINTS").sum() == 1
    np.testing.assert_array_equal(df["center"].to_numpy(), res.params["center"].value)
    assert (tmp_path / "many_fits.png").stat().st_size > 10_000


def test_global_fit_example_matches_scipy(monkeypatch, tmp_path, capsys):
    from scipy.optimize import least_squares

    D = 40
    g = _run_script("global_fit", monkeypatch, tmp_path, BATCHFIT_D=D)
    text = capsys.readouterr().out
    assert "solver             = schur" in text and "decay1:" in text and "(true 0.5" in text
    res, y, t = g["res"], g["y"], g["t"]
    assert res.success and res.solver == "schur" and res.nvarys == 2 + 3 * D

    def resid(z):
        tau1, tau2, loc = z[0], z[1], z[2:].reshape(D, 3)
        return (loc[:, :1] * np.exp(-t / tau1) + loc[:, 1:2] * np.exp(-t / tau2) + loc[:, 2:] - y).ravel()

    z0 = np.concatenate([[0.4, 2.5], np.tile([1.0, 1.0, 0.0], D)])
    ref = least_squares(resid, z0, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15)
    chi = 2 * ref.cost
    cov = np.linalg.inv(ref.jac.T @ ref.jac) * chi / (D * t.size - (2 + 3 * D))
    err = np.sqrt(np.diag(cov))
    assert res.chisqr == pytest.approx(chi, rel=1e-9)
    for j, name in enumerate(("decay1", "decay2")):
        value, stderr, true = g["shared"][name]
        assert value == pytest.approx(ref.x[j], rel=1e-6)
        assert stderr == pytest.approx(err[j], rel=1e-4)
        assert abs(value - true) < 4 * stderr
    np.testing.assert_allclose(res.params["amplitude1"].value, ref.x[2::3], rtol=1e-5)
    np.testing.assert_allclose(res.params["c"].stderr, err[4::3], rtol=1e-4)
    assert (tmp_path / "global_fit.png").stat().st_size > 10_000


def test_poisson_counts_example(monkeypatch, tmp_path, capsys):
    g = _run_script("poisson_counts", monkeypatch, tmp_path, BATCHFIT_N=200)
    text = capsys.readouterr().out
    assert "C-statistic" in text and "2 cost (soft_l1)" in text
    mle, lsq, truth, counts = g["mle"], g["lsq"], g["truth"], g["counts"]
    assert mle.success.all() and np.mean(counts == 0) > 0.2
    np.testing.assert_allclose(mle.cstat, mle.chisqr)
    for j, name in enumerate(("amp", "tau")):  # Neyman's chi-square is biased, cstat much less
        b_mle = abs(np.median(mle.params[name].value - truth[:, j]))
        b_lsq = abs(np.median(lsq.params[name].value - truth[:, j]))
        assert b_mle < 0.5 * b_lsq, name
        assert 0.85 < np.mean(np.abs(g["pulls"][name]) < 2) <= 1.0
    assert g["err_robust"] < 0.6 * g["err_plain"]
    assert g["robust"].success.all() and g["group"].success
