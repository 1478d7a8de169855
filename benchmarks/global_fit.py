"""W4: one global fit of D decays sharing two lifetimes (issue 4).

y_d(t) = a_d exp(-t/tau1) + b_d exp(-t/tau2) + c_d on 64 points t in [0, 10],
tau1 = 0.5 and tau2 = 3 shared, (a_d, b_d, c_d) per dataset, noise sd 0.05.
batchfit: ``Model.fit(data (D, 64), shared=["tau1", "tau2"])`` (the
block-arrow Schur solver). Peer: scipy ``least_squares(method="trf",
jac_sparsity=..., tr_solver="lsmr")`` on the same data, capped at
``--w4-peer-cap`` datasets (its time grows faster than linearly in D, so the
ratio at the cap flatters the peer when D is larger).
"""

from __future__ import annotations

import time

import jax.numpy as jnp
import numpy as np

M4 = 64
TAU = (0.5, 3.0)


def decay_jax(t, a, b, c, tau1, tau2):
    return a * jnp.exp(-t / tau1) + b * jnp.exp(-t / tau2) + c


def make_w4(D: int, seed: int = 4):
    """t (64,), data (D, 64), per-dataset truth (D, 3) for (a, b, c)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0.0, 10.0, M4)
    loc = np.column_stack([rng.uniform(1, 3, D), rng.uniform(0.5, 2, D), rng.uniform(-0.5, 0.5, D)])
    clean = loc[:, :1] * np.exp(-t / TAU[0]) + loc[:, 1:2] * np.exp(-t / TAU[1]) + loc[:, 2:]
    return t, clean + rng.normal(0.0, 0.05, clean.shape), loc


START = {"tau1": 1.0, "tau2": 5.0, "a": 1.0, "b": 1.0, "c": 0.0}


def run_batchfit(t, y, dtype, repeats=3):
    import jax

    import batchfit as bf

    model = bf.Model(decay_jax, independent_vars=["t"])
    params = model.make_params(a=START["a"], b=START["b"], c=START["c"],
                               tau1=dict(value=START["tau1"], min=0), tau2=dict(value=START["tau2"], min=0))

    def call():
        t0 = time.perf_counter()
        res = model.fit(y.astype(dtype), params, t=t.astype(dtype), shared=["tau1", "tau2"], dtype=dtype)
        return res, time.perf_counter() - t0

    jax.clear_caches()
    res, cold = call()
    warm = [call()[1] for _ in range(max(1, repeats))]
    return res, cold, float(np.median(warm))


def run_scipy(t, y):
    from scipy.optimize import least_squares
    from scipy.sparse import lil_matrix

    D, m = y.shape
    sp = lil_matrix((D * m, 2 + 3 * D), dtype=int)
    sp[:, :2] = 1
    for d in range(D):
        sp[d * m:(d + 1) * m, 2 + 3 * d:5 + 3 * d] = 1

    def resid(z):
        loc = z[2:].reshape(D, 3)
        return (loc[:, :1] * np.exp(-t / z[0]) + loc[:, 1:2] * np.exp(-t / z[1]) + loc[:, 2:] - y).ravel()

    z0 = np.concatenate([[START["tau1"], START["tau2"]], np.tile([START["a"], START["b"], START["c"]], D)])
    t0 = time.perf_counter()
    out = least_squares(resid, z0, jac_sparsity=sp, method="trf", tr_solver="lsmr")
    return out, time.perf_counter() - t0


def run(sizes, dtype, peers, peer_cap, repeats, log):
    """Measure W4 at each D; returns one record per (D, system)."""
    records = []
    for D in sizes:
        t, y, loc = make_w4(D)
        log(f"\n== W4 D={D:,} {dtype}: global fit, tau1/tau2 shared, (a, b, c) per dataset, 64 points")
        res, cold, sec = run_batchfit(t, y, dtype, repeats)
        taus = np.array([res.params["tau1"].value, res.params["tau2"].value], float)
        rec = {"workload": "W4", "D": D, "dtype": dtype, "system": "batchfit", "seconds": sec,
               "cold_seconds": cold, "datasets_per_s": D / sec, "nfev": int(res.nfev),
               "status": res.summary_counts(), "chisqr": float(res.chisqr),
               "tau": taus.tolist(), "tau_stderr": [float(res.params["tau1"].stderr),
                                                    float(res.params["tau2"].stderr)],
               "tau_rel_err": (np.abs(taus / np.array(TAU) - 1)).tolist(), "ratio_vs": {}}
        group = [rec]
        log(f"  batchfit    cold {cold:.2f}s, warm {sec:.3f}s = {D / sec:,.0f} datasets/s, "
            f"nfev {res.nfev}, tau {taus[0]:.5f} +/- {rec['tau_stderr'][0]:.1e}, "
            f"{taus[1]:.5f} +/- {rec['tau_stderr'][1]:.1e}, {res.message}")
        if "scipy" in peers:
            Dp = min(D, peer_cap)
            out, ps = run_scipy(t, y[:Dp])
            chi_p = float(2 * out.cost)
            prec = {"workload": "W4", "D": Dp, "dtype": "float64", "system": "scipy-trf-sparse",
                    "seconds": ps, "datasets_per_s": Dp / ps, "nfev": int(out.nfev),
                    "status": int(out.status), "chisqr": chi_p, "tau": out.x[:2].tolist()}
            if Dp == D:
                rec["chi2_vs_scipy"] = rec["chisqr"] / chi_p
                rec["tau_rel_diff_vs_scipy"] = (np.abs(taus / out.x[:2] - 1)).tolist()
            rec["ratio_vs"]["scipy-trf-sparse"] = (D / sec) / (Dp / ps)
            group.append(prec)
            log(f"  scipy trf   D={Dp:,}: {ps:.2f}s = {Dp / ps:,.0f} datasets/s (nfev {out.nfev}, status "
                f"{out.status}); batchfit is {rec['ratio_vs']['scipy-trf-sparse']:.1f}x per dataset"
                + (f", chi2 ratio {rec['chi2_vs_scipy']:.9f}" if Dp == D else ""))
        records += group
    return records


def markdown(records) -> str:
    lines = ["| workload | D | dtype | system | warm s | datasets/s | cold s | nfev | speed vs peer "
             "| tau1, tau2 (truth 0.5, 3) | chi2 / scipy's |", "|" + "---|" * 11]
    for r in records:
        speed = ", ".join(f"{x:.1f}x {o}" for o, x in r.get("ratio_vs", {}).items()) or "-"
        cold = f"{r['cold_seconds']:.2f}" if r.get("cold_seconds") is not None else "-"
        chi = f"{r['chi2_vs_scipy']:.9f}" if "chi2_vs_scipy" in r else "-"
        lines.append(f"| W4 | {r['D']:,} | {r['dtype']} | {r['system']} | {r['seconds']:.3f} "
                     f"| {r['datasets_per_s']:,.0f} | {cold} | {r['nfev']} | {speed} "
                     f"| {r['tau'][0]:.5f}, {r['tau'][1]:.5f} | {chi} |")
    return "\n".join(lines) + "\n"
