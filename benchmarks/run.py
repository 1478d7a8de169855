"""Benchmark batchfit against scipy, lmfit and optimistix on the workloads W1-W5.

    python benchmarks/run.py                      # W1, N=10000, float64, scipy+lmfit
    python -m benchmarks --workload all --sizes 1000,100000 --dtype float32 --peers scipy,lmfit,optimistix
    python -m benchmarks --workload W5 --points 1e5,1e6 --linear-solver qr,cholesky
    python -m benchmarks --workload W4 --global-sizes 1e4,1e5   # global fit vs scipy sparse TRF
    python -m benchmarks --workload cold --repeats 5  # use case 1 in fresh processes vs lmfit
    python -m benchmarks --workload xarray,dask --n 1e5   # da.batchfit.curvefit vs xarray; dask + Zarr
    python -m batchfit bench ...                  # the same, from the installed package

Writes one JSON record per (workload, size, dtype, system), ``results.json`` (all records of
the run) and ``results.md`` (the table printed at the end) to ``--out``. See
benchmarks/README.md for what is measured and what each column means.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import platform
import re
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if __package__ in (None, ""):  # run as a script: python benchmarks/run.py
    sys.path.insert(0, os.path.dirname(HERE))
from benchmarks import peers as peers_mod  # noqa: E402
from benchmarks import cold as cold_mod  # noqa: E402
from benchmarks import ecosystem  # noqa: E402
from benchmarks import global_fit  # noqa: E402
from benchmarks import workloads  # noqa: E402

REL_CHI2 = 1e-6  # "as good as the reference": chi2 <= chi2_ref * (1 + REL_CHI2)


# ---- compile accounting --------------------------------------------------------------------

class CompileWatch:
    """Counts XLA compilations (and names the jitted functions) inside a ``with`` block."""

    _events: list = []
    _installed = False

    def __init__(self):
        import jax

        if not CompileWatch._installed:
            try:
                jax.monitoring.register_event_duration_secs_listener(self._on_event)
            except Exception:  # noqa: BLE001 - older/newer jax: counts stay None
                pass
            CompileWatch._installed = True
        self.count = self.seconds = None
        self.names: list = []

    @staticmethod
    def _on_event(name, duration, **_):
        if name.endswith("backend_compile_duration"):
            CompileWatch._events.append(duration)

    class _Grab(logging.Handler):
        def __init__(self, sink):
            super().__init__(logging.DEBUG)
            self.sink = sink

        def emit(self, record):
            m = re.match(r"Compiling (?:jit\()?([\w.<>]+)", record.getMessage())
            if m:
                self.sink.append(m.group(1))

    def __enter__(self):
        import jax

        CompileWatch._events.clear()
        self._log = logging.getLogger("jax")
        self._handler = self._Grab(self.names)
        self._old = (bool(getattr(jax.config, "jax_log_compiles", False)), self._log.propagate)
        self._log.addHandler(self._handler)
        self._log.propagate = False  # keep jax's compile log lines off the terminal
        jax.config.update("jax_log_compiles", True)
        return self

    def __exit__(self, *exc):
        import jax

        jax.config.update("jax_log_compiles", self._old[0])
        self._log.removeHandler(self._handler)
        self._log.propagate = self._old[1]
        self.count = len(CompileWatch._events)
        self.seconds = float(sum(CompileWatch._events))

    def summary(self) -> dict:
        names = {}
        for n in self.names:
            names[n] = names.get(n, 0) + 1
        return {"compiles": self.count, "compile_seconds": self.seconds, "compiled": names}


# ---- machine ------------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        try:
            return subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True,
                                  text=True, timeout=5).stdout.strip()
        except Exception:  # noqa: BLE001
            pass
    return platform.processor() or platform.machine()


def machine_info() -> dict:
    import jax

    import batchfit

    def version(mod):
        try:
            return __import__(mod).__version__
        except Exception:  # noqa: BLE001
            return None

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True,
                                text=True, timeout=10).stdout.strip() or None
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "../src"], cwd=HERE,
                                    capture_output=True, text=True, timeout=10).stdout.strip())
    except Exception:  # noqa: BLE001
        commit, dirty = None, None
    devs = jax.local_devices()
    return {
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "uname": " ".join(platform.uname()),
        "platform": devs[0].platform,
        "device_kind": devs[0].device_kind,
        "n_local_devices": len(devs),
        "devices": [str(d) for d in jax.devices()],
        "python": platform.python_version(),
        "versions": {m: version(m) for m in ("batchfit", "jax", "jaxlib", "numpy", "scipy", "lmfit",
                                              "optimistix")},
        "batchfit_path": os.path.dirname(batchfit.__file__),
        "loadavg_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "git_commit": commit,
        "src_dirty": dirty,
    }


def _peak_memory() -> dict:
    """Peak device memory (GPU; None on CPU) and peak resident memory of this process."""
    import resource

    import jax

    out = {"device_peak_bytes": None,
           "process_max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
           * (1 if sys.platform == "darwin" else 1024)}
    try:
        stats = jax.local_devices()[0].memory_stats() or {}
        out["device_peak_bytes"] = stats.get("peak_bytes_in_use")
    except Exception:  # noqa: BLE001 - CPU devices have no memory stats
        pass
    return out


# ---- batchfit -----------------------------------------------------------------------------

def _bucket_size(n: int) -> int:
    """batchfit's padded batch size for n fits (power of two for older versions)."""
    try:
        from batchfit.solver import bucket_size
    except ImportError:
        return 1 << max(0, (n - 1).bit_length())
    return bucket_size(n)


def second_size(n: int) -> int | None:
    """The smallest batch size < n that batchfit pads to the same bucket as n, or None.

    batchfit pads a batch to ``bucket_size(N)`` lanes (8 steps per octave: 10,000 -> 10,240,
    1,000 -> 1,024), so this N' must compile nothing new."""
    bucket = _bucket_size(n)
    lo, hi = 1, n  # bucket_size is non-decreasing: bisect for the first n' with the same bucket
    while lo < hi:
        mid = (lo + hi) // 2
        if _bucket_size(mid) < bucket:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < n else None


def _independent_fits(wl, dtype, config, statistic="chi2"):
    """``call(w) -> (result, seconds)`` and ``columns(result, key)`` for N independent fits."""
    import batchfit as bf

    model = bf.Model(wl.jax_func, independent_vars=list(wl.indep))
    indep = {k: v.astype(dtype) for k, v in wl.indep.items()}

    def call(w):
        if w.single:  # one dataset: data (m,), scalar starts
            params = model.make_params(**{n: float(w.start[0, j]) for j, n in enumerate(w.names)})
            data = w.data[0].astype(dtype)
        else:
            params = model.make_params(**{n: w.start[:, j].astype(dtype) for j, n in enumerate(w.names)})
            data = w.data.astype(dtype, copy=False)  # the workload's own array (its dtype), no copy
        t0, c0 = time.perf_counter(), time.process_time()
        res = model.fit(data, params, dtype=dtype, config=config, statistic=statistic, **indep)
        return res, time.perf_counter() - t0, time.process_time() - c0

    def columns(res, key):
        return np.column_stack([np.atleast_1d(np.asarray(getattr(res.params[n], key), float))
                                for n in wl.names])

    return call, columns, "batchfit Model.fit" + (f"(statistic={statistic!r})" if statistic != "chi2" else "")


def _group_fits(wl, dtype, config):
    """The same for shared-parameter groups: data (N, K, m), ``Model.fit(shared=...)``."""
    import batchfit as bf

    gr = wl.groups
    K, shared, local = gr["K"], gr["shared"], gr["local"]
    model = bf.Model(gr["func"])
    x = gr["x"].astype(dtype)

    def call(w):
        start = {n: w.start[:, j].astype(dtype) for j, n in enumerate(shared)}
        start[local] = w.start[:, len(shared):].astype(dtype)  # (N, K) per dataset
        params = model.make_params(**start)
        data = w.data.reshape(w.n, K, -1).astype(dtype)
        t0, c0 = time.perf_counter(), time.process_time()
        res = model.fit(data, params, x=x, shared=shared, dtype=dtype, config=config)
        return res, time.perf_counter() - t0, time.process_time() - c0

    def columns(res, key):
        return np.column_stack([np.asarray(getattr(res.params[n], key), float) for n in shared]
                               + [np.asarray(getattr(res.params[local], key), float)])

    return call, columns, f"batchfit Model.fit(shared={shared}) on (N, {K}, m) data"


def bench_batchfit(wl, dtype, repeats, linear_solver, devices=None, threads=None, statistic="chi2"):
    import jax

    import batchfit as bf

    config = bf.LMConfig(linear_solver=linear_solver, devices=devices, threads=threads)
    if wl.groups:
        call, columns, how = _group_fits(wl, dtype, config)
    else:
        call, columns, how = _independent_fits(wl, dtype, config, statistic)
    jax.clear_caches()  # cold = compile everything, whatever ran before in this process
    with CompileWatch() as cw_cold:
        res, cold, _ = call(wl)
    warm, warm_cpu, cw_warm = [], [], []
    for _ in range(max(1, repeats)):
        with CompileWatch() as cw:
            res, t, c = call(wl)
        warm.append(t)
        warm_cpu.append(c)
        cw_warm.append(cw.summary())
    n2 = None if wl.single else second_size(wl.n)
    n2_rec = None
    if n2 is not None:
        with CompileWatch() as cw2:
            _, t2, _ = call(wl.subset(n2))
        n2_rec = {"N": n2, "seconds": t2, "fits_per_s": n2 / t2, **cw2.summary()}
    sec = float(np.median(warm))
    from batchfit.solver import _shard

    return {
        "values": columns(res, "value"), "stderr": columns(res, "stderr"),
        "success": np.atleast_1d(np.asarray(res.success)),
        "seconds": sec, "cpu_seconds": float(np.median(warm_cpu)), "n": wl.n,
        "cold_seconds": cold, "cold": cw_cold.summary(),
        "warm_seconds_all": warm, "warm": cw_warm, "same_bucket_call": n2_rec,
        "bucket_size": None if wl.single else _bucket_size(wl.n),
        "devices": len(_shard.resolve_devices(devices)),
        "threads": bf.solver._threads.cpu_threads(threads),
        "nfev": {"mean": float(np.mean(res.nfev)), "median": float(np.median(res.nfev)),
                 "max": int(np.max(res.nfev))},
        "status_counts": res.summary_counts(), "memory": _peak_memory(),
        "note": f"{how}, autodiff jacobian, linear_solver={linear_solver}, {dtype}"
                + (f", solver {res.solver}" if wl.groups else "")
                + f"; seconds = median of {len(warm)} warm calls (end to end, incl. statistics)",
    }


# ---- comparison ---------------------------------------------------------------------------

def agreement(wl, a, b, a_stderr=None) -> dict:
    """System a vs system b on the fits both ran and both report as converged."""
    k = min(len(a["values"]), len(b["values"]))
    both = a["success"][:k] & b["success"][:k]
    va, vb = wl.canonical(a["values"][:k])[both], wl.canonical(b["values"][:k])[both]
    out = {"n_compared": int(both.sum()), "n_peer_success": int(b["success"][:k].sum()),
           "n_peer_success_batchfit_failed": int((b["success"][:k] & ~a["success"][:k]).sum())}
    if not both.any():
        return out
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.abs(va - vb) / np.abs(vb)
    out["max_rel_diff"] = float(np.nanmax(rel))
    out["n_rel_diff_over_1e-4"] = int(np.sum(np.nanmax(rel, axis=1) > 1e-4))
    out["median_rel_diff"] = float(np.nanmedian(rel))
    out["max_rel_diff_by_param"] = {n: float(np.nanmax(rel[:, j])) for j, n in enumerate(wl.names)}
    if a_stderr is not None:  # difference in units of a's standard error
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.abs(va - vb) / a_stderr[:k][both]
        out["max_diff_in_stderr"] = float(np.nanmax(z))
    return out


def vs_reference(chi2_sys, chi2_ref, ref_name) -> dict:
    """Fraction of the reference's fits (those with finite values) where this system's chi2 is
    <= the reference's chi2 * (1 + REL_CHI2); a non-finite chi2 counts as worse."""
    k = min(len(chi2_sys), len(chi2_ref))
    a, r = chi2_sys[:k], chi2_ref[:k]
    ok = np.isfinite(r)
    le = np.zeros(k, bool)
    with np.errstate(invalid="ignore"):
        le[ok] = a[ok] <= r[ok] * (1 + REL_CHI2)
    return {"reference": ref_name, "n": int(ok.sum()), "rel_tol": REL_CHI2,
            "frac_chi2_le_ref": float(le[ok].mean()) if ok.any() else None,
            "n_chi2_above_ref": int((ok & ~le).sum())}


# Workloads with Poisson counts: besides least squares, a row "batchfit-mle"
# fits them by maximum likelihood (Model.fit(statistic="cstat")).
MLE_WORKLOADS = frozenset({"W2"})
MLE_SYSTEM = "batchfit-mle"


def system_name(linear_solver: str) -> str:
    return "batchfit" if linear_solver == "cholesky" else f"batchfit-{linear_solver}"


def run_one(wl_name, size, dtype, peer_names, peer_cap, repeats, linear_solvers, seed, machine, log,
            devices=None, threads=None):
    spec = workloads.REGISTRY[wl_name]
    wl = workloads.make(wl_name, size, seed, dtype)  # float32: the data itself is float32
    log(f"\n== {wl_name} {spec.size_name}={size:,} {dtype}: {wl.description}")
    results = {}
    runs = [(system_name(ls), ls, "chi2") for ls in linear_solvers]
    if wl_name in MLE_WORKLOADS:
        runs.append((MLE_SYSTEM, linear_solvers[0], "cstat"))
    for name, ls, statistic in runs:
        r = bench_batchfit(wl, dtype, repeats, ls, devices, threads, statistic)
        r["statistic"], r["linear_solver"] = statistic, ls
        results[name] = r
        n2 = r["same_bucket_call"]
        log(f"  {name:18s} cold {r['cold_seconds']:.2f}s ({r['cold']['compiles']} compiles, "
            f"{r['cold']['compile_seconds']:.2f}s compiling); warm {r['seconds']:.3f}s = "
            f"{wl.n / r['seconds']:,.1f} fits/s on {r['devices']} device(s), {r['threads']} CPU thread(s); "
            f"warm compiles "
            f"{[w['compiles'] for w in r['warm']]}"
            + (f"; N={n2['N']} (same bucket) {n2['seconds']:.3f}s with {n2['compiles']} compiles "
               f"{n2['compiled']}" if n2 else ""))
        if n2 and n2["compiles"]:
            log(f"  WARNING: a new N in the same bucket compiled {n2['compiles']} programs")
    for p in peer_names:
        ok, why = peers_mod.available(p)
        if not ok:
            log(f"  {p:18s} skipped ({why})")
            continue
        k = min(wl.n, peer_cap) if p in peers_mod.LOOPING else wl.n
        if p in peers_mod.LOOPING and wl.n > 1:  # one untimed fit first: imports, first-call setup
            peers_mod.PEERS[p](wl.subset(1), dtype)
        pr = peers_mod.PEERS[p](wl.subset(k), dtype)
        results[p] = pr
        log(f"  {p:18s} {pr['n']} fits in {pr['seconds']:.3f}s = {pr['n'] / pr['seconds']:,.1f} fits/s"
            + (f" (cold {pr['cold_seconds']:.2f}s)" if "cold_seconds" in pr else ""))

    rate = {s: v["n"] / v["seconds"] for s, v in results.items()}
    chi2 = {s: wl.chi2(v["values"]) for s, v in results.items()}
    ref = next((p for p in ("scipy", "curve_fit") if p in results), None)
    records = []
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    for s, v in results.items():
        is_bf = s.startswith("batchfit")
        rec = {
            "workload": wl_name, "description": wl.description, "size_name": spec.size_name,
            "size": size, "N": wl.n, "m": wl.m, "dtype": dtype if (is_bf or s in ("optimistix", "nlsq")) else "float64",
            "requested_dtype": dtype, "system": s,
            "devices": v.get("devices", 1), "n_fits_run": v["n"],
            "seconds": v["seconds"], "warm_seconds": v["seconds"], "fits_per_s": rate[s],
            # per core: wall time x the cores the system used; CPU time: the process's, all threads
            "cores": v.get("threads", 1), "cpu_seconds": v.get("cpu_seconds"),
            "us_per_fit_core_wall": v["seconds"] * v.get("threads", 1) * 1e6 / v["n"],
            "us_per_fit_cpu": (v["cpu_seconds"] * 1e6 / v["n"]) if v.get("cpu_seconds") else None,
            "points_per_s": rate[s] * wl.m,
            "cold_seconds": v.get("cold_seconds"),
            "cold_compile_seconds": v["cold"]["compile_seconds"] if is_bf else None,
            "cold_compiles": v["cold"]["compiles"] if is_bf else None,
            "ratio_vs": {o: rate[s] / rate[o] for o in rate if o != s},
            "accuracy": wl.subset(v["n"]).accuracy(v["values"], v["success"]),
            "vs_reference": (vs_reference(chi2[s], chi2[ref], ref) if ref and s != ref else None),
            "note": v["note"], "seed": workloads.SEEDS[wl_name] if seed is None else seed,
            "timestamp": stamp,
            # the process's peak resident memory so far (batchfit rows: measured after its calls)
            "peak_rss_bytes": v["memory"]["process_max_rss_bytes"] if is_bf else None,
            "cpu_model": machine["cpu_model"], "cpu_count": machine["cpu_count"],
            "device_kind": machine["device_kind"], "platform": machine["platform"],
            "jax_version": machine["versions"]["jax"], "machine": machine,
        }
        if is_bf:
            for key in ("cold", "warm_seconds_all", "warm", "same_bucket_call", "bucket_size", "nfev",
                        "status_counts", "memory"):
                rec[key] = v[key]
            rec["linear_solver"] = v["linear_solver"]
            rec["statistic"] = v["statistic"]
            rec["same_bucket_recompiled"] = (bool(v["same_bucket_call"]["compiles"])
                                             if v["same_bucket_call"] else None)
            rec["agreement"] = {o: agreement(wl, v, results[o], v["stderr"]) for o in results if o != s}
        records.append(rec)
    return records


# ---- output -------------------------------------------------------------------------------

def _fmt(x, spec):
    return "-" if x is None or (isinstance(x, float) and not np.isfinite(x)) else format(x, spec)


def _rate(x):
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"


COLUMNS = ("workload", "size", "dtype", "system", "dev", "fits run", "warm s", "fits/s",
           "µs/fit/core: wall (CPU)", "peak RSS GB",
           "cold s (compiling s, compiles)", "same-bucket N': s (compiles)", "speed vs peers",
           "success", "key rel err: median / max", "chi2 <= ref", "chi2 > chi2(truth) (of them success)",
           "agreement vs ref: median rel diff / fits differing > 1e-4")


def markdown(records, machine) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for r in records:
        acc = r["accuracy"]
        is_bf = r["system"].startswith("batchfit")
        cold = "-"
        if r.get("cold_seconds") is not None:
            cold = f"{r['cold_seconds']:.2f}"
            if r.get("cold_compiles") is not None:
                cold += f" ({r['cold_compile_seconds']:.2f}, {r['cold_compiles']})"
        sb = "-"
        if r.get("same_bucket_call"):
            c = r["same_bucket_call"]
            sb = f"{c['N']:,}: {c['seconds']:.3f} ({c['compiles']})"
        speed = "-"
        if is_bf:
            speed = ", ".join(f"{x:.1f}x {o}" for o, x in r["ratio_vs"].items()
                              if not o.startswith("batchfit")) or "-"
        key = f"{acc['key']} {acc['key_rel_err_median']:.1e} / {acc['key_rel_err_max']:.1e}"
        if "frac_accurate" in acc:
            key += f"; {100 * acc['frac_accurate']:.1f}% within 0.1 px/10%"
        vr = r.get("vs_reference")
        le = "-" if not vr or vr["frac_chi2_le_ref"] is None else \
            f"{100 * vr['frac_chi2_le_ref']:.1f}% of {vr['n']} ({vr['reference']})"
        ag = "-"
        refname = vr["reference"] if vr else None
        a = r.get("agreement", {}).get(refname) if refname else None
        if a and a.get("n_compared"):
            ag = (f"{a['median_rel_diff']:.0e} / {a['n_rel_diff_over_1e-4']} of {a['n_compared']} "
                  f"(max {a['max_rel_diff']:.1e}; {_fmt(a.get('max_diff_in_stderr'), '.1e')} stderr)")
        size = f"{r['size_name']}={r['size']:,}"
        rss = _fmt(r.get("peak_rss_bytes") and r["peak_rss_bytes"] / 2**30, ".2f")
        core = f"{_fmt(r.get('us_per_fit_core_wall'), '.1f')} ({_fmt(r.get('us_per_fit_cpu'), '.1f')}) " \
               f"x{r.get('cores', 1)}"
        lines.append(
            f"| {r['workload']} | {size} | {r['dtype']} | {r['system']} | {r['devices']} "
            f"| {r['n_fits_run']:,} | {r['seconds']:.3f} | {_rate(r['fits_per_s'])} | {core} | {rss} "
            f"| {cold} | {sb} "
            f"| {speed} | {100 * acc['frac_success']:.1f}% | {key} | {le} "
            f"| {acc['n_worse_than_truth']} ({acc['n_worse_than_truth_reported_success']}) | {ag} |")
    v = machine["versions"]
    load = machine.get("loadavg_at_start") or [None]
    foot = (f"\nMachine: {machine['cpu_model']}, {machine['cpu_count']} CPUs; JAX {machine['platform']} "
            f"devices: {machine['n_local_devices']} x {machine['device_kind']}; {machine['uname']}; "
            f"jax {v['jax']}, batchfit {v['batchfit']} (git {machine['git_commit']}"
            f"{', src dirty' if machine['src_dirty'] else ''}), scipy {v['scipy']}, lmfit {v['lmfit']}, "
            f"optimistix {v['optimistix']}; load average at start {_fmt(load[0], '.2f')}.\n"
            "warm s: batchfit = median warm end-to-end Model.fit call; looping peers = their loop over "
            "'fits run'; optimistix = warm vmapped call. fits/s = fits run / warm s. µs/fit/core: warm s x "
            "the CPU threads the system ran on (xk) / fits run, and in brackets the process CPU time "
            "(all threads) / fits run, which a loaded machine disturbs less. cold s = first "
            "call after jax.clear_caches() (compiling s, compiles: XLA backend compilations in it). "
            "peak RSS GB: the benchmark process's peak resident memory after batchfit's calls "
            "(ru_maxrss; it includes the workload's data and earlier rows of this process). "
            "same-bucket: a call with a smaller N padded to the same bucket (must compile 0). "
            "speed vs peers: batchfit fits/s over each peer's. chi2 <= ref: fraction of the reference "
            "peer's fits where this system's sum of squares is <= the reference's * (1 + 1e-6). "
            "Accuracy columns count this row's 'fits run' (looping peers: the first --peer-cap fits).\n")
    return "\n".join(lines) + "\n" + foot


def parse_sizes(text, workload_names, size_name):
    """``"1000,1e5"`` -> [1000, 100000] (applies to every selected workload measured by
    ``size_name``); ``"W1=1000,W3=200"`` entries apply to one workload."""
    out = {w: [] for w in workload_names}
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        name, eq, val = item.rpartition("=")
        n = int(float(val))
        if n < 1:
            raise ValueError(f"size must be >= 1, got {item!r}")
        if eq:
            if name not in out:
                raise ValueError(f"--sizes/--points entry {item!r} names a workload not selected")
            out[name].append(n)
        else:
            for w in workload_names:
                if workloads.REGISTRY[w].size_name == size_name:
                    out[w].append(n)
    return out


def no_persistent_cache():
    """Turn JAX's persistent compilation cache off in this process (batchfit turns it on at
    import), so that a cold call compiles everything, whatever an earlier run cached. The
    ``cold`` workload measures the cache in its own processes."""
    import jax

    try:
        jax.config.update("jax_enable_compilation_cache", False)
    except (AttributeError, KeyError):  # jax without the option: no dir, no cache
        jax.config.update("jax_compilation_cache_dir", None)


def main(argv=None):
    no_persistent_cache()
    names = list(workloads.REGISTRY) + ["W4", "cold", "xarray", "dask"]
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", default="W1",
                    help=f"comma-separated subset of {','.join(names)}, or 'all' (default W1)")
    ap.add_argument("--sizes", default=None,
                    help="comma-separated batch sizes N for the batch workloads (default: each "
                         "workload's own, W1-W3 10000); 'W1=1000' entries apply to one workload")
    ap.add_argument("--points", default=None,
                    help="comma-separated numbers of points m for the one-dataset workload W5 "
                         "(default 1e6)")
    ap.add_argument("--global-sizes", default="10000",
                    help="comma-separated numbers of datasets D for the global fit W4 (default 1e4)")
    ap.add_argument("--w4-peer-cap", type=int, default=100_000,
                    help="max datasets scipy's sparse TRF is run on for W4")
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--peers", default=None,
                    help=f"comma-separated subset of {','.join(peers_mod.PEERS)} ('' for none; "
                         "default: scipy,lmfit for W1-W3, curve_fit for W5)")
    ap.add_argument("--peer-cap", type=int, default=300,
                    help="max fits each looping peer (scipy, curve_fit, lmfit) runs; their rate is per fit")
    ap.add_argument("--repeats", type=int, default=3, help="warm batchfit calls (median is reported)")
    ap.add_argument("--linear-solver", default="cholesky",
                    help="comma-separated subset of cholesky,qr: one batchfit row each (default cholesky)")
    ap.add_argument("--threads", type=int, default=None,
                    help="batchfit's LMConfig(threads=k): CPU threads per batch (default: all cores)")
    ap.add_argument("--devices", type=int, default=None,
                    help="batchfit's LMConfig(devices=k): the first k local devices (default: all)")
    ap.add_argument("--seed", type=int, default=None, help="override the per-workload seeds")
    ap.add_argument("--cube", default="128x128x200",
                    help="xarray workload: the cube's shape, rows x columns x points (default 128x128x200)")
    ap.add_argument("--xarray-cap", type=int, default=1024,
                    help="xarray workload: pixels xarray's own curvefit runs (its time is extrapolated)")
    ap.add_argument("--n", default="1e6", help="dask workload: number of W1 fits in the Zarr store")
    ap.add_argument("--dask-workers", type=int, default=2, help="dask workload: LocalCluster worker processes")
    ap.add_argument("--dask-chunk", type=int, default=50_000, help="dask workload: fits per Zarr/dask chunk")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--roofline", action="store_true",
                    help="print bytes and flops per fit of one compiled LM step (W1, W2; XLA's cost "
                         "analysis) against the floor of reading the data and the state once, and exit")
    ap.add_argument("--roofline-batch", type=int, default=4096, help="--roofline: the bucket compiled")
    args = ap.parse_args(argv)
    if args.roofline:
        from . import roofline

        dtypes = [args.dtype] if "--dtype" in (argv if argv is not None else sys.argv) else ["float32", "float64"]
        recs = roofline.run(dtypes, args.roofline_batch)
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "roofline.json"), "w") as f:
            json.dump(recs, f, indent=1)
        return 0

    wls = names if args.workload == "all" else [w.strip() for w in args.workload.split(",") if w.strip()]
    bad = [w for w in wls if w not in names]
    if bad:
        ap.error(f"unknown workload(s) {bad}; choose from {names} or 'all'")
    solvers = [s.strip() for s in args.linear_solver.split(",") if s.strip()]
    if not solvers or set(solvers) - {"qr", "cholesky"}:
        ap.error(f"--linear-solver: choose from qr,cholesky, got {args.linear_solver!r}")
    try:
        sizes = parse_sizes(args.sizes, wls, "N")
        points = parse_sizes(args.points, wls, "m")
    except ValueError as err:
        ap.error(str(err))
    plan = []
    for w in [w for w in wls if w not in ("W4", "cold", "xarray", "dask")]:
        spec = workloads.REGISTRY[w]
        chosen = (sizes if spec.size_name == "N" else points)[w] or list(spec.sizes)
        plan += [(w, n) for n in chosen]
    if args.peers is not None:
        peer_names = [p.strip() for p in args.peers.split(",") if p.strip()]
        unknown = set(peer_names) - set(peers_mod.PEERS)
        if unknown:
            ap.error(f"unknown peers {sorted(unknown)}; choose from {sorted(peers_mod.PEERS)}")
    os.makedirs(args.out, exist_ok=True)
    machine = machine_info()
    print(f"batchfit benchmark on {machine['cpu_model']} ({machine['cpu_count']} CPUs), JAX "
          f"{machine['platform']} devices: {machine['n_local_devices']} x {machine['device_kind']}; "
          f"load average {_fmt((machine.get('loadavg_at_start') or [None])[0], '.2f')}", flush=True)

    def log(msg):
        print(msg, flush=True)

    records = []
    for w, n in plan:
        pn = peer_names if args.peers is not None else list(workloads.REGISTRY[w].peers)
        recs = run_one(w, n, args.dtype, pn, args.peer_cap, args.repeats, solvers, args.seed,
                       machine, log, devices=args.devices, threads=args.threads)
        for rec in recs:
            fn = (f"{rec['workload']}_{rec['size_name']}{rec['size']}_{rec['requested_dtype']}_"
                  f"{rec['system']}.json")
            with open(os.path.join(args.out, fn), "w") as fh:
                json.dump(rec, fh, indent=1, default=float)
        records += recs
    md = markdown(records, machine) if records else ""
    if "W4" in wls:
        try:
            dsizes = [int(float(v)) for v in args.global_sizes.split(",") if v.strip()]
        except ValueError:
            ap.error(f"--global-sizes: comma-separated integers, got {args.global_sizes!r}")
        pn = peer_names if args.peers is not None else ["scipy"]
        recs = global_fit.run(dsizes, args.dtype, pn, args.w4_peer_cap, args.repeats, log)
        for rec in recs:
            rec.update(machine=machine, timestamp=datetime.datetime.now(
                datetime.timezone.utc).isoformat(timespec="seconds"))
            fn = f"W4_D{rec['D']}_{rec['dtype']}_{rec['system']}.json"
            with open(os.path.join(args.out, fn), "w") as fh:
                json.dump(rec, fh, indent=1, default=float)
        records += recs
        md += "\n" + global_fit.markdown(recs)
    if "cold" in wls:
        recs = cold_mod.run(args.repeats, log, peers=peer_names if args.peers is not None else ("lmfit",))
        for rec in recs:
            rec.update(machine=machine, timestamp=datetime.datetime.now(
                datetime.timezone.utc).isoformat(timespec="seconds"))
        with open(os.path.join(args.out, "cold_process.json"), "w") as fh:
            json.dump(recs, fh, indent=1, default=float)
        records += recs
        md += "\n" + cold_mod.markdown(recs)
    eco = []
    if "xarray" in wls:
        try:
            cube = tuple(int(v) for v in args.cube.lower().split("x"))
        except ValueError:
            ap.error(f"--cube: rows x columns x points, e.g. 128x128x200, got {args.cube!r}")
        if len(cube) != 3:
            ap.error(f"--cube: three sizes, got {args.cube!r}")
        eco += ecosystem.run_xarray(cube, args.xarray_cap, args.repeats, log)
    if "dask" in wls:
        eco += ecosystem.run_dask(int(float(args.n)), args.dask_workers, args.dask_chunk, log)
    for rec in eco:
        rec.update(machine=machine, timestamp=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"))
        with open(os.path.join(args.out, f"{rec['workload']}_N{rec['N']}.json"), "w") as fh:
            json.dump(rec, fh, indent=1, default=float)
    if eco:
        records += eco
        md += "\n" + ecosystem.markdown(eco)
    with open(os.path.join(args.out, "results.json"), "w") as fh:
        json.dump(records, fh, indent=1, default=float)
    with open(os.path.join(args.out, "results.md"), "w") as fh:
        fh.write(md)
    print("\n" + md)
    print(f"wrote {len(records)} JSON records, results.json and results.md to {args.out}")
    return records


if __name__ == "__main__":
    main()
