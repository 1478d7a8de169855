"""Cold process: MISSION use case 1 (``benchmarks/cold_script.py``) as a script in a fresh
Python process, batchfit with an empty and with a warm persistent compilation cache, and lmfit.

    python -m benchmarks --workload cold [--repeats 5]

Each run is a new process timed from its start to its exit (interpreter start, imports, the
fit and its report). Runs are interleaved (lmfit, batchfit empty, batchfit warm, ...) so that
a change of machine load hits every system alike; medians are reported.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "cold_script.py")
SYSTEMS = ("batchfit (empty cache)", "batchfit (warm cache)", "lmfit")


def _entries(path):
    return len(os.listdir(path)) if os.path.isdir(path) else 0


def _run(which, data, cache, timeout):
    import batchfit

    env = {k: v for k, v in os.environ.items() if k != "JAX_COMPILATION_CACHE_DIR"}
    src = os.path.dirname(os.path.dirname(batchfit.__file__))  # the batchfit this driver uses
    env["PYTHONPATH"] = os.pathsep.join([src] + [p for p in [env.get("PYTHONPATH")] if p])
    env["BATCHFIT_CACHE_DIR"] = cache or "off"
    before = _entries(cache) if cache else 0
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, SCRIPT, which, data], capture_output=True, text=True,
                          env=env, timeout=timeout, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{which} script failed:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out.update(wall_s=wall, new_cache_entries=(_entries(cache) - before) if cache else None)
    return out


def run(repeats=3, log=print, timeout=600, peers=("lmfit",)) -> list[dict]:
    """Records for the systems in ``SYSTEMS`` (lmfit only if importable and in ``peers``)."""
    from batchfit.data import two_gaussian_datasets

    x, data = two_gaussian_datasets(seed=0)
    repeats = max(1, int(repeats))
    with_lmfit = "lmfit" in peers
    if with_lmfit:
        try:
            import lmfit  # noqa: F401
        except ImportError:
            log("cold: lmfit not importable, skipped")
            with_lmfit = False
    runs = {s: [] for s in SYSTEMS}
    with tempfile.TemporaryDirectory(prefix="batchfit-cold-") as tmp:
        path = os.path.join(tmp, "uc1.npz")
        np.savez(path, x=x, data=data)
        warm_dir = os.path.join(tmp, "warm")
        _run("batchfit", path, warm_dir, timeout)  # fills the warm cache (not timed)
        for i in range(repeats):
            if with_lmfit:
                runs["lmfit"].append(_run("lmfit", path, None, timeout))
            runs[SYSTEMS[0]].append(_run("batchfit", path, os.path.join(tmp, f"empty{i}"), timeout))
            runs[SYSTEMS[1]].append(_run("batchfit", path, warm_dir, timeout))
            log(f"cold run {i + 1}/{repeats}: " + ", ".join(
                f"{s} {r[-1]['wall_s']:.2f} s" for s, r in runs.items() if r))
    med = {s: statistics.median(r["wall_s"] for r in rs) for s, rs in runs.items() if rs}
    recs = []
    for s, rs in runs.items():
        if not rs:
            continue
        walls = [r["wall_s"] for r in rs]
        ref = rs[0]["values"]
        recs.append({
            "workload": "cold", "system": s, "runs": len(rs), "wall_s": walls,
            "median_wall_s": med[s], "min_wall_s": min(walls), "max_wall_s": max(walls),
            "ratio_vs_lmfit": med[s] / med["lmfit"] if "lmfit" in med else None,
            "new_cache_entries": [r["new_cache_entries"] for r in rs],
            "chisqr": rs[0]["chisqr"], "values": ref,
            "max_rel_diff_vs_lmfit": (max(abs(ref[k] - runs["lmfit"][0]["values"][k])
                                          / max(abs(runs["lmfit"][0]["values"][k]), 1e-300)
                                          for k in ref) if runs["lmfit"] and s != "lmfit" else None),
        })
    return recs


def markdown(recs) -> str:
    head = ("| workload | system | runs | wall s: median (min-max) | vs lmfit | new cache entries "
            "per run | chisqr |\n|---|---|---|---|---|---|---|\n")
    rows = []
    for r in recs:
        ratio = "-" if r["ratio_vs_lmfit"] is None else f"{r['ratio_vs_lmfit']:.2f}x"
        new = r["new_cache_entries"]
        new = "-" if new[0] is None else ", ".join(map(str, new))
        rows.append(f"| cold process | {r['system']} | {r['runs']} | {r['median_wall_s']:.2f} "
                    f"({r['min_wall_s']:.2f}-{r['max_wall_s']:.2f}) | {ratio} | {new} | "
                    f"{r['chisqr']:.6g} |")
    return head + "\n".join(rows) + "\n"
