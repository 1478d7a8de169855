"""The main job: fit the mission's use cases and a 10,000-fit batch."""

from __future__ import annotations

import time

import jax.numpy as jnp
import numpy as np

from . import data as bdata
from .fitting._minimize import minimize
from .fitting._model import Model
from .params import Parameters
from .report._text import fit_report


def gaussian(x, amp, cen, sigma):
    return amp * jnp.exp(-((x - cen) ** 2) / (2 * sigma**2))


def use_case_1_params(params):
    """Add use case 1's parameters to ``params`` (batchfit's or lmfit's
    Parameters: the calls are the same) and return it."""
    for k in (1, 2):
        params.add(f"cen_{k}", 0.5, min=0, max=2)
        params.add(f"sigma_{k}", 1.0, min=0, max=10)
        params.add(f"amp_{k}", 1.0, min=0, max=100)
        params.add(f"const_{k}", 0.0, min=0, max=100)
    for name in ("cen", "sigma", "amp"):
        params[f"{name}_2"].expr = f"{name}_1"
    return params


def use_case_1():
    """Two datasets, shared cen/sigma/amp through expressions (lmfit style)."""
    x, data = bdata.two_gaussian_datasets(seed=0)
    params = use_case_1_params(Parameters())

    def objective(p, x, data):
        res = [data[k - 1] - (gaussian(x, p[f"amp_{k}"], p[f"cen_{k}"], p[f"sigma_{k}"]) + p[f"const_{k}"])
               for k in (1, 2)]
        return jnp.concatenate(res)

    return minimize(objective, params, args=(x, data), method="leastsq")


def antoine_residual(p, T, P):
    return P - 10 ** (p["A"] + p["B"] / (T + p["C"]))


def use_case_2(method="leastsq", **kw):
    """Antoine equation from the three starts at once (a batch of 3)."""
    starts = np.array(bdata.ANTOINE_STARTS)
    params = Parameters()
    for j, n in enumerate("ABC"):
        params.add(n, starts[:, j])
    return minimize(antoine_residual, params, args=(bdata.ANTOINE_T, bdata.ANTOINE_P), method=method, **kw)


def gaussian_c(x, amp, cen, sigma, c):
    return amp * jnp.exp(-((x - cen) ** 2) / (2 * sigma**2)) + c


def batch(n=10_000, seed=0):
    """n independent W1 fits in one call."""
    x, data, truth, start = bdata.gaussian_batch(n, seed=seed)
    model = Model(gaussian_c)
    params = model.make_params(**start)
    return model.fit(data, params, x=x), truth


def main():
    t0 = time.perf_counter()
    print("=== Use case 1: two datasets sharing cen, sigma, amp (expressions) ===")
    r1 = use_case_1()
    print(fit_report(r1))
    print(f"\n=== Use case 2: Antoine equation from {bdata.ANTOINE_STARTS} ===")
    for method, kw in (("leastsq", {}), ("gauss_newton", {"xtol": 1e-4})):
        r2 = use_case_2(method, **kw)
        for i in range(len(r2)):
            vals = ", ".join(f"{n}={float(r2.params[n].value[i]):.9g}" for n in "ABC")
            print(f"  {method:13s} start {bdata.ANTOINE_STARTS[i]}: {'OK  ' if r2.success[i] else 'FAIL'} "
                  f"{vals}  [{r2.message[i]}]")
    print("\n=== Batch: 10,000 Gaussian fits in one call ===")
    for label in ("first call (includes compilation)", "second call (compiled)"):
        t = time.perf_counter()
        r3, truth = batch()
        dt = time.perf_counter() - t
        print(f"  {label}: {dt:.2f} s, {len(r3) / dt:,.0f} fits/s")
    err = np.abs(r3.params["cen"].value - truth["cen"])
    print(f"  median |cen - true cen| = {np.median(err):.4f}")
    print(fit_report(r3))
    print(f"\nTotal time: {time.perf_counter() - t0:.1f} s")
