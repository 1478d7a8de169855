"""The table and JSON of ``benchmarks/gpu_check.sh``.

    python benchmarks/gpu_check_report.py WORK MODE [OUT]

WORK holds ``steps.tsv`` (name, exit status, seconds, timeout per step), each step's log and
the benchmark folders ``bench_*`` (their ``results.json``). Prints one Markdown table (a row per
step, then a row per benchmark record); with OUT, writes ``OUT/gpu_check.json`` and copies the
logs and benchmark records there. Exits 1 if a step failed, timed out or was skipped.
"""

from __future__ import annotations

import glob
import json
import os
import re
import shutil
import sys


def _status(rc: str) -> str:
    if rc == "0":
        return "ok"
    if rc == "skipped":
        return "skipped (budget)"
    return "TIMEOUT" if rc in ("124", "137") else f"FAIL (exit {rc})"


def _last_line(path, pattern):
    try:
        with open(path, errors="replace") as fh:
            hits = [ln.strip() for ln in fh if re.search(pattern, ln)]
    except OSError:
        return ""
    return hits[-1].strip("= ") if hits else ""


def _lines(path, prefix):
    try:
        with open(path, errors="replace") as fh:
            return [ln.strip() for ln in fh if ln.startswith(prefix)]
    except OSError:
        return []


def _f(x, spec):
    return "-" if x is None else format(x, spec)


def bench_rows(rec) -> list[str]:
    w = rec.get("workload")
    if w == "cold":
        ratio = rec.get("ratio_vs_lmfit")
        return ["cold process", "use case 1", "float64", rec["system"], "",
                _f(rec["median_wall_s"], ".2f") + f" (median of {rec['runs']})", "-", "-",
                "-" if ratio is None else f"{ratio:.2f}x lmfit"]
    if w == "W4":
        return ["W4", f"D={rec['D']:,}", rec["dtype"], rec["system"], "", _f(rec["seconds"], ".3f"),
                _f(rec.get("cold_seconds"), ".2f"), _f(rec["datasets_per_s"], ",.0f"),
                f"nfev {rec['nfev']}, tau {rec['tau'][0]:.4f}, {rec['tau'][1]:.4f}"]
    acc = rec.get("accuracy") or {}
    cold = "-"
    if rec.get("cold_seconds") is not None:
        cold = f"{rec['cold_seconds']:.2f} ({_f(rec.get('cold_compiles'), 'd')})"
    succ = acc.get("frac_success")
    return [w, f"{rec['size_name']}={rec['size']:,}", rec["dtype"], rec["system"], "",
            _f(rec["seconds"], ".3f"), cold, _f(rec.get("fits_per_s") or rec.get("points_per_s"), ",.0f"),
            "-" if succ is None else f"success {100 * succ:.1f}%"]


def main(argv):
    work, mode = argv[0], argv[1]
    out = argv[2] if len(argv) > 2 and argv[2] else None
    steps = []
    with open(os.path.join(work, "steps.tsv")) as fh:
        for line in fh:
            name, rc, sec, limit = line.rstrip("\n").split("\t")
            log = os.path.join(work, f"{name}.log")
            note = _last_line(log, r"\d+ (passed|failed)|error") if name == "tests" else ""
            if name == "roofline":  # one line per workload: bytes and flops per fit of the step
                note = "; ".join(_lines(log, "roofline "))
            steps.append({"step": name, "status": _status(rc), "exit": rc, "seconds": int(sec),
                          "timeout_s": int(limit), "note": note})
    records = []
    for path in sorted(glob.glob(os.path.join(work, "bench_*", "results.json"))):
        with open(path) as fh:
            records += json.load(fh)
    head = ["check", "size", "dtype", "system", "status", "warm s", "cold s (compiles)", "per s",
            "notes"]
    rows = [[s["step"], "", "", "", s["status"], "-", "-", "-",
             f"{s['seconds']} s of {s['timeout_s']} s" + (f"; {s['note']}" if s["note"] else "")]
            for s in steps]
    rows += [bench_rows(r) for r in records]
    table = "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                      + ["| " + " | ".join(map(str, r)) + " |" for r in rows])
    machine = next((r.get("machine") for r in records if r.get("machine")), None)
    print(f"\n## batchfit GPU check ({'--cpu-smoke' if mode == 'cpu' else 'GPU'})\n")
    print(table)
    ok = all(s["status"] == "ok" for s in steps)
    print(f"\n{'all steps passed' if ok else 'SOME STEPS DID NOT PASS'}; "
          f"{sum(s['seconds'] for s in steps)} s in all")
    if out:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "gpu_check.json"), "w") as fh:
            json.dump({"mode": mode, "ok": ok, "steps": steps, "records": records,
                       "machine": machine, "table": table}, fh, indent=1, default=float)
        for log in glob.glob(os.path.join(work, "*.log")):
            shutil.copy(log, out)
        for d in glob.glob(os.path.join(work, "bench_*", "")):
            shutil.copytree(d, os.path.join(out, os.path.basename(os.path.dirname(d))), dirs_exist_ok=True)
        print(f"\nwrote {os.path.join(out, 'gpu_check.json')}, the step logs and benchmark records")
    for s in steps:
        if s["status"] != "ok":
            print(f"\n--- {s['step']}: {s['status']}, last lines of its log ---")
            try:
                with open(os.path.join(work, f"{s['step']}.log"), errors="replace") as fh:
                    print("".join(fh.readlines()[-25:]), end="")
            except OSError:
                pass
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
