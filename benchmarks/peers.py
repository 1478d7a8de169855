"""Peer systems run on the same data: scipy (least_squares, curve_fit) and lmfit in Python
loops, optimistix under vmap, NLSQ (one large dataset, W5).

Each runner returns a dict with ``values`` (n, p), ``success`` (n,), ``seconds`` (the timed
run), ``n`` (fits run) and, for optimistix, ``cold_seconds``. The looping peers always
work in float64 (numpy); optimistix works in the requested dtype.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from .workloads import Workload


def _residual(wl: Workload, i: int):
    f, indep, y = wl.np_func, wl.indep, wl.data[i]

    def resid(p):
        return f(**indep, **dict(zip(wl.names, p))) - y

    return resid


def _loop(wl: Workload, fit_one, note: str) -> dict:
    """Run ``fit_one(i) -> (values, success)`` over every fit, timing the loop;
    an exception counts as a failed fit."""
    vals = np.full(wl.truth.shape, np.nan)
    ok = np.zeros(wl.n, bool)
    t0, c0 = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(wl.n):
            try:
                x, success = fit_one(i)
            except Exception:  # noqa: BLE001 - a failed fit counts as failed
                continue
            vals[i] = x
            ok[i] = bool(success) and np.all(np.isfinite(vals[i]))
    return {"values": vals, "success": ok, "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - c0, "n": wl.n, "note": note}


def run_scipy(wl: Workload, dtype=None) -> dict:
    """scipy.optimize.least_squares(method="lm"), default '2-point' finite-difference
    Jacobian (MINPACK lmdif), default tolerances (ftol = xtol = gtol = 1e-8), one fit at a time."""
    from scipy.optimize import least_squares

    def fit_one(i):
        r = least_squares(_residual(wl, i), wl.start[i], method="lm")
        return r.x, r.success

    return _loop(wl, fit_one, "least_squares(method='lm'), 2-point FD jacobian, Python loop, float64")


def run_curve_fit(wl: Workload, dtype=None) -> dict:
    """scipy.optimize.curve_fit (no bounds: method 'lm', MINPACK lmdif with a finite-difference
    Jacobian, default tolerances), one fit at a time; its covariance is computed too, as
    batchfit's is. A fit that raises (no convergence) counts as failed."""
    from scipy.optimize import curve_fit

    f, indep, names = wl.np_func, wl.indep, wl.names
    xdata = next(iter(indep.values())) if len(indep) == 1 else np.zeros(wl.m)

    def model(_, *p):  # the independent variables are bound; xdata is only passed through
        return f(**indep, **dict(zip(names, p)))

    def fit_one(i):
        popt, _ = curve_fit(model, xdata, wl.data[i], p0=wl.start[i])
        return popt, True

    return _loop(wl, fit_one, "scipy.optimize.curve_fit (method 'lm'), FD jacobian, covariance, "
                              "Python loop, float64")


def run_lmfit(wl: Workload, dtype=None) -> dict:
    """lmfit.minimize (method 'leastsq', its defaults), one fit at a time; the
    Parameters object is built inside the timed loop, as a user would."""
    import lmfit

    def fit_one(i):
        p = lmfit.Parameters()
        for n, v in zip(wl.names, wl.start[i]):
            p.add(n, value=float(v))
        f = _residual(wl, i)
        r = lmfit.minimize(lambda pp: f([pp[n].value for n in wl.names]), p)
        return [r.params[n].value for n in wl.names], r.success

    return _loop(wl, fit_one, "lmfit.minimize(leastsq), FD jacobian, Python loop, float64")


def run_optimistix(wl: Workload, dtype="float64", max_steps=256) -> dict:
    """optimistix.LevenbergMarquardt under jax.vmap + jax.jit over the whole batch.

    rtol = atol = 1e-8 (float64) or 1e-4 (float32); autodiff Jacobian. Timed twice:
    the first call (includes compilation) and a second call on the same shapes.
    """
    import jax
    import jax.numpy as jnp
    import optimistix as optx

    tol = 1e-8 if np.dtype(dtype) == np.float64 else 1e-4
    solver = optx.LevenbergMarquardt(rtol=tol, atol=tol)
    names, f = wl.names, wl.jax_func

    with jax.enable_x64(np.dtype(dtype) == np.float64):
        indep = {k: jnp.asarray(v, dtype=dtype) for k, v in wl.indep.items()}

        def one(p0, y):
            def fn(p, y):
                return f(**indep, **{n: p[j] for j, n in enumerate(names)}) - y

            sol = optx.least_squares(fn, solver, p0, args=y, max_steps=max_steps, throw=False)
            return sol.value, sol.result == optx.RESULTS.successful

        batched = jax.jit(jax.vmap(one))
        p0 = jnp.asarray(wl.start, dtype=dtype)
        y = jnp.asarray(wl.data, dtype=dtype)
        t0 = time.perf_counter()
        v, ok = jax.block_until_ready(batched(p0, y))
        cold = time.perf_counter() - t0
        t0, c0 = time.perf_counter(), time.process_time()
        v, ok = jax.block_until_ready(batched(p0, y))
        warm, warm_cpu = time.perf_counter() - t0, time.process_time() - c0
    v = np.asarray(v, dtype=float)
    return {"values": v, "success": np.asarray(ok) & np.isfinite(v).all(axis=1), "seconds": warm,
            "cpu_seconds": warm_cpu, "cold_seconds": cold, "n": wl.n,
            "note": f"optimistix LevenbergMarquardt(rtol=atol={tol:g}), vmap+jit, autodiff jacobian, {dtype}"}


def run_nlsq(wl: Workload, dtype="float64") -> dict:
    """NLSQ (PyPI ``nlsq``: JAX curve fitting of one large dataset, scipy's
    ``curve_fit`` API, autodiff Jacobian, trust-region reflective), one fit at
    a time on the same data and starts, the model as ``wl.jax_func``. Each fit
    is called twice: the first (compiling) call is ``cold_seconds``, the
    second is the timed one. NLSQ needs Python >= 3.12."""
    import jax
    import jax.numpy as jnp
    from nlsq import curve_fit

    f, indep, names = wl.jax_func, wl.indep, wl.names
    xdata = next(iter(indep.values())) if len(indep) == 1 else np.zeros(wl.m)
    with jax.enable_x64(np.dtype(dtype) == np.float64):
        jindep = {k: jnp.asarray(v, dtype=dtype) for k, v in indep.items()}

        def model(_, *p):  # the independent variables are bound; xdata is only passed through
            return f(**jindep, **dict(zip(names, p)))

        vals, ok = np.full(wl.truth.shape, np.nan), np.zeros(wl.n, bool)
        cold = warm = warm_cpu = 0.0
        for i in range(wl.n):
            y, p0 = np.asarray(wl.data[i], dtype), np.asarray(wl.start[i], dtype)
            t0 = time.perf_counter()
            try:
                curve_fit(model, xdata.astype(dtype), y, p0=p0)
                cold += time.perf_counter() - t0
                t0, c0 = time.perf_counter(), time.process_time()
                popt, _ = curve_fit(model, xdata.astype(dtype), y, p0=p0)
                warm += time.perf_counter() - t0
                warm_cpu += time.process_time() - c0
            except Exception:  # noqa: BLE001 - a fit that raises counts as failed
                continue
            vals[i] = np.asarray(popt, float)
            ok[i] = bool(np.all(np.isfinite(vals[i])))
    return {"values": vals, "success": ok, "seconds": warm, "cpu_seconds": warm_cpu,
            "cold_seconds": cold, "n": wl.n,
            "note": f"nlsq.curve_fit, autodiff jacobian, one fit at a time, {dtype}"}


PEERS = {"scipy": run_scipy, "curve_fit": run_curve_fit, "lmfit": run_lmfit,
         "optimistix": run_optimistix, "nlsq": run_nlsq}
LOOPING = {"scipy", "curve_fit", "lmfit", "nlsq"}  # capped by --peer-cap; optimistix runs the full batch


def available(name: str) -> tuple[bool, str]:
    mod = {"scipy": "scipy.optimize", "curve_fit": "scipy.optimize", "lmfit": "lmfit",
           "optimistix": "optimistix", "nlsq": "nlsq"}[name]
    try:
        __import__(mod)
        return True, ""
    except Exception as err:  # noqa: BLE001
        return False, f"{type(err).__name__}: {err}"
