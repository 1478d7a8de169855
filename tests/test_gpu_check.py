"""``benchmarks/gpu_check.sh --cpu-smoke``: the GPU check's steps at tiny sizes on the CPU
(install skipped, a few tests, W1/W2 float64 and float32, W3, W4, the cold-process benchmark),
its table and its JSON; and the time budget that keeps the real check under 8 minutes."""

import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "benchmarks", "gpu_check.sh")
STEPS = ["install", "devices", "tests", "bench_float64", "bench_float32", "cold_process", "roofline"]

pytestmark = pytest.mark.skipif(shutil.which("bash") is None or shutil.which("timeout") is None,
                                reason="needs bash and coreutils timeout")


def smoke(out, **env):
    full = {**os.environ, "PYTHON": sys.executable, "OUT": str(out), **env}
    full.pop("JAX_COMPILATION_CACHE_DIR", None)
    return subprocess.run(["bash", SCRIPT, "--cpu-smoke"], cwd=str(out), capture_output=True,
                          text=True, env=full, timeout=900, check=False)


def test_cpu_smoke_runs_every_step_and_reports(tmp_path):
    pytest.importorskip("scipy")
    proc = smoke(tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    with open(tmp_path / "gpu_check.json") as fh:
        rep = json.load(fh)
    assert rep["ok"] is True and rep["mode"] == "cpu"
    assert [s["step"] for s in rep["steps"]] == STEPS
    assert all(s["status"] == "ok" and s["seconds"] <= s["timeout_s"] for s in rep["steps"])
    assert "2 passed" in rep["steps"][2]["note"]
    roof = rep["steps"][STEPS.index("roofline")]["note"]
    assert "roofline W1 float32: bytes/fit-eval=" in roof and "roofline W2 float32" in roof
    got = {(r["workload"], r.get("dtype"), r["system"]) for r in rep["records"]}
    for want in [("W1", "float64", "batchfit"), ("W1", "float32", "batchfit"),
                 ("W2", "float64", "batchfit"), ("W2", "float32", "batchfit"),
                 ("W3", "float64", "batchfit"), ("W4", "float64", "batchfit")]:
        assert want in got, want
    bf = [r for r in rep["records"] if r["system"] == "batchfit"]
    assert all(r["cold_seconds"] > r["seconds"] > 0 for r in bf)  # cold and warm times
    assert {r["size"] for r in bf if r["workload"] in ("W1", "W2")} == {64}
    cold = {r["system"]: r for r in rep["records"] if r["workload"] == "cold"}
    assert {"batchfit (empty cache)", "batchfit (warm cache)"} <= set(cold)
    assert cold["batchfit (empty cache)"]["new_cache_entries"][0] > 0
    assert cold["batchfit (warm cache)"]["new_cache_entries"] == [0]  # warm: nothing compiled
    if "lmfit" in cold:  # batchfit finds lmfit's optimum of use case 1
        assert cold["batchfit (warm cache)"]["max_rel_diff_vs_lmfit"] < 1e-4
    # one table, printed and in the JSON, a row per step and per record
    assert rep["table"] in proc.stdout and "all steps passed" in proc.stdout
    assert rep["table"].count("\n| ") == len(STEPS) + len(rep["records"])  # after the header
    for name in ("bench_float64", "bench_float32", "bench_cold"):
        assert (tmp_path / name / "results.json").is_file()


def test_a_spent_budget_skips_the_remaining_steps_and_fails(tmp_path):
    proc = smoke(tmp_path, GPU_CHECK_BUDGET="12")
    assert proc.returncode == 1, proc.stdout[-4000:] + proc.stderr[-2000:]
    with open(tmp_path / "gpu_check.json") as fh:
        rep = json.load(fh)
    status = {s["step"]: s["status"] for s in rep["steps"]}
    assert rep["ok"] is False and list(status) == STEPS
    assert status["install"] == "ok" and status["cold_process"] == "skipped (budget)"
    assert all(s["seconds"] <= 12 for s in rep["steps"])
    assert "SOME STEPS DID NOT PASS" in proc.stdout
