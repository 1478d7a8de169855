"""Smoke test of the benchmark suite: tiny sizes, one peer, through ``python -m batchfit bench``.

Checks the JSON records' fields and that the accuracy numbers are sane (no timing asserts).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("scipy")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    cmd = [sys.executable, "-m", "batchfit", "bench", "--workload", "W1,W5", "--sizes", "40",
           "--points", "4000", "--peers", "scipy", "--peer-cap", "12", "--repeats", "1",
           "--out", str(out)]
    proc = subprocess.run(cmd, cwd=str(out), capture_output=True, text=True, timeout=600,
                          env={**os.environ, "JAX_PLATFORMS": "cpu",  # this checkout's batchfit, from any cwd
                               "PYTHONPATH": os.pathsep.join(
                                   [os.path.join(ROOT, "src")] + [p for p in [os.environ.get("PYTHONPATH")] if p])})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc.stdout


def _load(out, name):
    with open(out / name) as fh:
        return json.load(fh)


def test_records_written_with_their_fields(run):
    out, stdout = run
    files = sorted(p.name for p in out.glob("*.json"))
    assert files == sorted(["W1_N40_float64_batchfit.json", "W1_N40_float64_scipy.json",
                            "W5_m4000_float64_batchfit.json", "W5_m4000_float64_scipy.json",
                            "results.json"])
    assert len(_load(out, "results.json")) == 4
    rec = _load(out, "W1_N40_float64_batchfit.json")
    for key in ("cpu_model", "cpu_count", "device_kind", "platform", "jax_version", "dtype", "N",
                "seconds", "fits_per_s", "cold_seconds", "cold_compile_seconds", "cold_compiles",
                "warm_seconds", "same_bucket_call", "ratio_vs", "accuracy", "vs_reference",
                "agreement", "devices", "machine"):
        assert key in rec, key
    import jax

    assert rec["jax_version"] == jax.__version__
    assert rec["cpu_count"] == os.cpu_count() and rec["platform"] == "cpu"
    assert rec["N"] == 40 and rec["n_fits_run"] == 40 and rec["dtype"] == "float64"
    assert rec["devices"] == 1
    assert rec["cold_seconds"] >= rec["cold_compile_seconds"] > 0 and rec["cold_compiles"] > 0
    np.testing.assert_allclose(rec["fits_per_s"], 40 / rec["seconds"], rtol=1e-12)
    # per core: wall x threads / fits, and the process CPU time / fits
    np.testing.assert_allclose(rec["us_per_fit_core_wall"], rec["seconds"] * rec["cores"] * 1e6 / 40, rtol=1e-12)
    np.testing.assert_allclose(rec["us_per_fit_cpu"], rec["cpu_seconds"] * 1e6 / 40, rtol=1e-12)
    assert rec["cpu_seconds"] > 0 and rec["cores"] >= 1
    peer = _load(out, "W1_N40_float64_scipy.json")
    assert peer["n_fits_run"] == 12 and peer["vs_reference"] is None
    np.testing.assert_allclose(rec["ratio_vs"]["scipy"], rec["fits_per_s"] / peer["fits_per_s"], rtol=1e-12)
    # a new N in the same bucket compiles nothing
    sb = rec["same_bucket_call"]
    assert 0 < sb["N"] < 40 and sb["compiles"] == 0 and rec["same_bucket_recompiled"] is False
    # the Markdown table: printed and written, one row per record
    md = (out / "results.md").read_text()
    assert md.count("\n| W1 |") == 2 and md.count("\n| W5 |") == 2
    assert "| W1 | N=40 | float64 | batchfit |" in md and "| W1 | N=40 | float64 | batchfit |" in stdout
    # peak resident memory beside the time (issue 14): the JSON field and the table column
    import resource

    rss = rec["peak_rss_bytes"]
    assert rss == rec["memory"]["process_max_rss_bytes"] and peer["peak_rss_bytes"] is None
    assert 50 * 2**20 < rss < 1024 * resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss + 1
    header = md.splitlines()[0].split(" | ")
    col = header.index("peak RSS GB")
    row = next(r for r in md.splitlines() if r.startswith("| W1 | N=40 | float64 | batchfit |"))
    assert row.split(" | ")[col] == f"{rss / 2**30:.2f}"


def test_accuracy_numbers_are_sane(run):
    out, _ = run
    w1 = _load(out, "W1_N40_float64_batchfit.json")
    acc = w1["accuracy"]
    assert acc["key"] == "cen" and acc["frac_success"] >= 0.9
    # centre to a few 1e-3 relative for noise 0.5 on 100 points; never wildly off
    assert 1e-5 < acc["key_rel_err_median"] < 2e-2 and acc["key_rel_err_max"] < 0.2
    vr = w1["vs_reference"]
    assert vr["reference"] == "scipy" and vr["n"] == 12 and vr["frac_chi2_le_ref"] >= 11 / 12
    # batchfit and scipy find the same optimum on the fits both solve
    ag = w1["agreement"]["scipy"]
    assert ag["n_compared"] >= 11 and ag["median_rel_diff"] < 1e-5

    w5 = _load(out, "W5_m4000_float64_batchfit.json")
    assert w5["N"] == 1 and w5["m"] == 4000 and w5["size_name"] == "m"
    assert w5["accuracy"]["frac_success"] == 1.0 and w5["accuracy"]["key_rel_err_max"] < 1e-2
    assert w5["vs_reference"]["frac_chi2_le_ref"] == 1.0
    assert w5["agreement"]["scipy"]["max_rel_diff"] < 1e-5
    ref = _load(out, "W5_m4000_float64_scipy.json")
    # the truth is the generating value: both systems report the same error against it
    np.testing.assert_allclose(w5["accuracy"]["key_rel_err_max"], ref["accuracy"]["key_rel_err_max"],
                               rtol=1e-3)


def test_w4_global_fit_benchmark_smoke():
    from benchmarks import global_fit

    recs = global_fit.run([60], "float64", ["scipy"], 1000, 1, lambda msg: None)
    bf_rec, sp_rec = recs
    assert bf_rec["system"] == "batchfit" and sp_rec["system"] == "scipy-trf-sparse"
    assert bf_rec["D"] == sp_rec["D"] == 60
    # as good as scipy's sparse TRF on the same data, and near the generating lifetimes
    assert bf_rec["chi2_vs_scipy"] <= 1 + 1e-6
    assert abs(bf_rec["tau"][0] / 0.5 - 1) < 5 * bf_rec["tau_stderr"][0] / 0.5 + 1e-3
    assert abs(bf_rec["tau"][1] / 3.0 - 1) < 5 * bf_rec["tau_stderr"][1] / 3.0 + 1e-3
    assert "| W4 | 60 |" in global_fit.markdown(recs)


def test_roofline_counts_the_compiled_step():
    """``--roofline``: XLA's bytes and flops per fit of the compiled step, and
    the floor (the fit's data once, its state read and written) from the
    sizes of the arrays themselves."""
    sys.path.insert(0, ROOT)
    from benchmarks import roofline

    r = roofline.measure("W1", "float64", B=16)
    assert (r["m"], r["nfree"], r["B"]) == (100, 4, 16)
    # the state of one fit: theta, chi2, JᵀJ, Jᵀr, D, C, lam, nu, nfev, status, and the
    # restart's copies of it (start, best) with its two counters
    one = (4 + 1 + 16 + 4 + 4 + 4 + 1 + 1) * 8 + 4 + 4
    assert r["state_bytes_per_fit"] == 3 * one + 8
    assert r["floor_bytes"] == 100 * 8 + 2 * r["state_bytes_per_fit"]
    assert r["bytes_per_fit_eval"] > r["floor_bytes"]  # at least the data and the state
    assert r["flops_per_fit_eval"] > 100 * 16  # at least JᵀJ's products
    assert r["transcendentals_per_fit_eval"] >= 100  # at least the model's exp per point
    assert roofline.line(r).startswith("roofline W1 float64: bytes/fit-eval=")


def test_nlsq_peer_runs_nlsq_curve_fit_twice_per_fit(monkeypatch):
    """The NLSQ peer (W5): NLSQ itself needs Python >= 3.12, so here a stand-in
    module whose ``curve_fit`` is scipy's checks the adapter: the JAX model with
    its independent variable bound, the starts, a cold then a timed call per
    fit, and the values it returns (against scipy's curve_fit peer)."""
    import types

    import scipy.optimize

    sys.path.insert(0, ROOT)
    from benchmarks import peers, workloads

    calls = []

    def curve_fit(f, xdata, ydata, p0):
        calls.append(np.asarray(p0).copy())
        popt, pcov = scipy.optimize.curve_fit(lambda x, *p: np.asarray(f(x, *p), float), xdata, ydata, p0=p0)
        return popt, pcov

    monkeypatch.setitem(sys.modules, "nlsq", types.SimpleNamespace(curve_fit=curve_fit))
    wl = workloads.make("W5", 2000)
    got = peers.run_nlsq(wl)
    ref = peers.run_curve_fit(wl)
    assert len(calls) == 2 and np.array_equal(calls[0], wl.start[0])
    assert got["success"].all() and got["cold_seconds"] > 0 and got["seconds"] > 0
    np.testing.assert_allclose(got["values"], ref["values"], rtol=1e-6)
    assert peers.available("nlsq")[0] is True
    assert "nlsq" in peers.LOOPING and "nlsq" in workloads.REGISTRY["W5"].peers
