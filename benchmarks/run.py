"""Benchmark batchfit against scipy, lmfit and optimistix on workloads W1-W3.

    python benchmarks/run.py                      # W1, N=10000, float64, scipy+lmfit (<3 min on 2 cores)
    python -m benchmarks --workload all --sizes 1000,100000 --dtype float32 --peers scipy,lmfit,optimistix

Writes one JSON record per (workload, N, dtype, system) and ``results.md`` to ``--out``.
See benchmarks/README.md for what is measured.
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers as peers_mod  # noqa: E402
import workloads  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


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
    return {
        "processor": platform.processor(),
        "uname": " ".join(platform.uname()),
        "cpu_count": os.cpu_count(),
        "devices": [str(d) for d in jax.devices()],
        "python": platform.python_version(),
        "versions": {m: version(m) for m in ("batchfit", "jax", "jaxlib", "numpy", "scipy", "lmfit",
                                              "optimistix")},
        "batchfit_path": os.path.dirname(batchfit.__file__),
        "loadavg_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "git_commit": commit,
        "src_dirty": dirty,
    }


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
    1,000 -> 1,024), so this N' compiles nothing new if batchfit caches by bucket."""
    bucket = _bucket_size(n)
    lo, hi = 1, n  # bucket_size is non-decreasing: bisect for the first n' with the same bucket
    while lo < hi:
        mid = (lo + hi) // 2
        if _bucket_size(mid) < bucket:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < n else None


def bench_batchfit(wl, dtype, repeats, linear_solver):
    import jax

    import batchfit as bf

    model = bf.Model(wl.jax_func, independent_vars=list(wl.indep))
    config = bf.LMConfig(linear_solver=linear_solver)

    def call(w):
        params = model.make_params(**{n: w.start[:, j].astype(dtype) for j, n in enumerate(w.names)})
        data = w.data.astype(dtype)
        indep = {k: v.astype(dtype) for k, v in w.indep.items()}
        t0 = time.perf_counter()
        res = model.fit(data, params, dtype=dtype, config=config, **indep)
        return res, time.perf_counter() - t0

    jax.clear_caches()  # cold = compile everything, whatever ran before in this process
    with CompileWatch() as cw_cold:
        res, cold = call(wl)
    warm, cw_warm = [], []
    for _ in range(max(1, repeats)):
        with CompileWatch() as cw:
            res, t = call(wl)
        warm.append(t)
        cw_warm.append(cw.summary())
    n2 = second_size(wl.n)
    n2_rec = None
    if n2 is not None:
        with CompileWatch() as cw2:
            _, t2 = call(wl.subset(n2))
        n2_rec = {"N": n2, "seconds": t2, "fits_per_s": n2 / t2, **cw2.summary()}
    values = np.column_stack([np.asarray(res.params[n].value, float) for n in wl.names])
    stderr = np.column_stack([np.asarray(res.params[n].stderr, float) for n in wl.names])
    sec = float(np.median(warm))
    return {
        "values": values, "stderr": stderr, "success": np.asarray(res.success),
        "seconds": sec, "n": wl.n, "cold_seconds": cold, "cold": cw_cold.summary(),
        "warm_seconds_all": warm, "warm": cw_warm, "same_bucket_call": n2_rec,
        "bucket_size": _bucket_size(wl.n),
        "nfev": {"mean": float(np.mean(res.nfev)), "median": float(np.median(res.nfev)),
                 "max": int(np.max(res.nfev))},
        "status_counts": res.summary_counts(),
        "note": f"batchfit Model.fit, autodiff jacobian, linear_solver={linear_solver}, {dtype}; "
                f"seconds = median of {len(warm)} warm calls (end to end, incl. statistics)",
    }


# ---- comparison ---------------------------------------------------------------------------

def agreement(wl, a, b, a_stderr=None) -> dict:
    """batchfit (a) vs a peer (b) on the fits both ran and both report as converged."""
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
    if a_stderr is not None:  # difference in units of batchfit's standard error
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.abs(va - vb) / a_stderr[:k][both]
        out["max_diff_in_stderr"] = float(np.nanmax(z))
    return out


def run_one(wl_name, n, dtype, peer_names, peer_cap, repeats, linear_solver, seed, machine, log):
    wl = workloads.make(wl_name, n, seed)
    log(f"\n== {wl_name} N={n} {dtype}: {wl.description}")
    results = {}
    r = bench_batchfit(wl, dtype, repeats, linear_solver)
    results["batchfit"] = r
    n2 = r["same_bucket_call"]
    log(f"  batchfit    cold {r['cold_seconds']:.2f}s ({r['cold']['compiles']} compiles, "
        f"{r['cold']['compile_seconds']:.2f}s compiling); warm {r['seconds']:.3f}s = "
        f"{n / r['seconds']:,.0f} fits/s; warm compiles {[w['compiles'] for w in r['warm']]}"
        + (f"; N={n2['N']} (same bucket) {n2['seconds']:.3f}s with {n2['compiles']} compiles "
           f"{n2['compiled']}" if n2 else ""))
    for p in peer_names:
        ok, why = peers_mod.available(p)
        if not ok:
            log(f"  {p:11s} skipped ({why})")
            continue
        k = min(n, peer_cap) if p in peers_mod.LOOPING else n
        if p in peers_mod.LOOPING:  # one untimed fit first: imports and first-call setup
            peers_mod.PEERS[p](wl.subset(1), dtype)
        pr = peers_mod.PEERS[p](wl.subset(k), dtype)
        results[p] = pr
        log(f"  {p:11s} {pr['n']} fits in {pr['seconds']:.3f}s = {pr['n'] / pr['seconds']:,.0f} fits/s"
            + (f" (cold {pr['cold_seconds']:.2f}s)" if "cold_seconds" in pr else ""))

    rate = {s: v["n"] / v["seconds"] for s, v in results.items()}
    records = []
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    for s, v in results.items():
        rec = {
            "workload": wl_name, "description": wl.description, "N": n, "dtype": dtype, "system": s,
            "n_fits_run": v["n"], "seconds": v["seconds"], "fits_per_s": rate[s],
            "cold_seconds": v.get("cold_seconds"),
            "ratio_vs": {o: rate[s] / rate[o] for o in rate if o != s},
            "accuracy": wl.subset(v["n"]).accuracy(v["values"], v["success"]),
            "note": v["note"], "seed": workloads.SEEDS[wl_name] if seed is None else seed,
            "timestamp": stamp, "machine": machine,
        }
        if s == "batchfit":
            for key in ("cold", "warm_seconds_all", "warm", "same_bucket_call", "bucket_size", "nfev",
                        "status_counts"):
                rec[key] = v[key]
            rec["linear_solver"] = linear_solver
            rec["agreement"] = {o: agreement(wl, v, results[o], v["stderr"]) for o in results if o != s}
        records.append(rec)
    return records


# ---- output -------------------------------------------------------------------------------

def _fmt(x, spec):
    return "-" if x is None or (isinstance(x, float) and not np.isfinite(x)) else format(x, spec)


def markdown(records, machine) -> str:
    head = ("| workload | N | dtype | system | fits run | seconds | fits/s | cold s (compiles) "
            "| same-bucket N: s (compiles) | x scipy | x lmfit | success | chi2 > chi2(truth) (of them success) | median abs err (key) "
            "| agreement vs scipy: median rel diff / fits differing > 1e-4 |")
    lines = [head]
    lines.append("|" + "---|" * (head.count("|") - 1))
    for r in records:
        acc = r["accuracy"]
        key = [k for k, v in acc["median_abs_err"].items() if v == acc["median_abs_err_key"]][0]
        err = f"{acc['median_abs_err_key']:.2e} ({key})"
        if "frac_accurate" in acc:
            err += f"; {100 * acc['frac_accurate']:.1f}% within 0.1 px/10%"
        cold = "-"
        if r.get("cold_seconds") is not None:
            cold = f"{r['cold_seconds']:.2f}"
            if "cold" in r:
                cold += f" ({r['cold']['compiles']})"
        sb = "-"
        if r.get("same_bucket_call"):
            c = r["same_bucket_call"]
            sb = f"{c['N']}: {c['seconds']:.3f} ({c['compiles']})"
        ag = "-"
        a = r.get("agreement", {}).get("scipy")
        if a and a.get("n_compared"):
            ag = (f"{a['median_rel_diff']:.0e} / {a['n_rel_diff_over_1e-4']} of {a['n_compared']} "
                  f"(max {a['max_rel_diff']:.1e}; {_fmt(a.get('max_diff_in_stderr'), '.1e')} stderr)")
        lines.append(
            f"| {r['workload']} | {r['N']:,} | {r['dtype']} | {r['system']} | {r['n_fits_run']:,} "
            f"| {r['seconds']:.3f} | {r['fits_per_s']:,.0f} | {cold} | {sb} "
            f"| {_fmt(r['ratio_vs'].get('scipy'), '.1f')} | {_fmt(r['ratio_vs'].get('lmfit'), '.1f')} "
            f"| {100 * acc['frac_success']:.1f}% | {acc['n_worse_than_truth']} "
            f"({acc['n_worse_than_truth_reported_success']}) | {err} | {ag} |")
    dev = ", ".join(machine["devices"])
    v = machine["versions"]
    foot = (f"\nMachine: {machine['uname']}; {machine['cpu_count']} CPUs; JAX devices: {dev}; "
            f"jax {v['jax']}, batchfit {v['batchfit']} (git {machine['git_commit']}"
            f"{', src dirty' if machine['src_dirty'] else ''}), scipy {v['scipy']}, lmfit {v['lmfit']}, "
            f"optimistix {v['optimistix']}; load average at start "
            f"{_fmt((machine.get('loadavg_at_start') or [None])[0], '.2f')}.\n"
            "fits/s: batchfit = N / median warm end-to-end Model.fit time; scipy/lmfit = fits run / "
            "loop time (float64, 2-point FD Jacobian, 1 core); optimistix = N / warm vmapped call. "
            "'x scipy' = this row's fits/s over scipy's. Compiles = XLA compilations during the call. "
            "Success, chi2 > chi2(truth) and errors count this row's 'fits run' (scipy/lmfit: the "
            "first --peer-cap fits).\n")
    return "\n".join(lines) + "\n" + foot


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", default="W1", choices=["W1", "W2", "W3", "all"])
    ap.add_argument("--sizes", default="10000", help="comma-separated batch sizes N (default 10000)")
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    ap.add_argument("--peers", default="scipy,lmfit",
                    help="comma-separated subset of scipy,lmfit,optimistix ('' for none)")
    ap.add_argument("--peer-cap", type=int, default=300,
                    help="max fits each looping peer (scipy, lmfit) runs; their rate is per fit")
    ap.add_argument("--repeats", type=int, default=3, help="warm batchfit calls (median is reported)")
    ap.add_argument("--linear-solver", default="qr", choices=["qr", "cholesky"])
    ap.add_argument("--seed", type=int, default=None, help="override the per-workload seeds")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args(argv)

    wls = ["W1", "W2", "W3"] if args.workload == "all" else [args.workload]
    sizes = [int(float(s)) for s in args.sizes.split(",") if s.strip()]
    peer_names = [p.strip() for p in args.peers.split(",") if p.strip()]
    bad = set(peer_names) - set(peers_mod.PEERS)
    if bad:
        ap.error(f"unknown peers {sorted(bad)}; choose from {sorted(peers_mod.PEERS)}")
    os.makedirs(args.out, exist_ok=True)
    machine = machine_info()
    print(f"batchfit benchmark on {machine['uname']} ({machine['cpu_count']} CPUs), "
          f"JAX devices {machine['devices']}", flush=True)

    def log(msg):
        print(msg, flush=True)

    records = []
    for w in wls:
        for n in sizes:
            recs = run_one(w, n, args.dtype, peer_names, args.peer_cap, args.repeats,
                           args.linear_solver, args.seed, machine, log)
            for rec in recs:
                fn = f"{rec['workload']}_N{rec['N']}_{rec['dtype']}_{rec['system']}.json"
                with open(os.path.join(args.out, fn), "w") as fh:
                    json.dump(rec, fh, indent=1, default=float)
            records += recs
    md = markdown(records, machine)
    with open(os.path.join(args.out, "results.md"), "w") as fh:
        fh.write(md)
    print("\n" + md)
    print(f"wrote {len(records)} JSON records and results.md to {args.out}")
    return records


if __name__ == "__main__":
    main()
