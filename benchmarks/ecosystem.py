"""xarray and dask workloads.

    python -m benchmarks --workload xarray [--cube 128x128x200] [--xarray-cap 1024]
    python -m benchmarks --workload dask [--n 1e6] [--dask-workers 2] [--dask-chunk 50000]

``xarray``: a cube of W1 spectra (Gaussian + constant along the last axis, W1's
ranges and noise), ``da.batchfit.curvefit`` on the whole cube (one batched
call; cold and median warm) against xarray's own ``DataArray.curvefit``
(scipy per pixel) in the same process on the first ``--xarray-cap`` pixels,
whose time is extrapolated to the cube (said in the record: ``extrapolated``).
Agreement on those pixels in units of batchfit's standard error.

``dask``: N W1 fits (100 points) written to a Zarr store in a temporary
folder, read through ``dask.array.from_zarr`` and fitted by
``batchfit.distributed.fit_dask`` on a ``dask.distributed.LocalCluster`` of
``--dask-workers`` worker processes (one thread each); the chunks never pass
through the client. Reports wall time (including each worker's first
compile), fits/s, status counts and every worker's peak RSS.
"""

from __future__ import annotations

import os
import resource
import statistics
import tempfile
import time

import numpy as np

from benchmarks import workloads


def _w1_cube(shape, m, seed):
    N = int(np.prod(shape))
    wl = workloads.make_w1(N, seed)
    x = np.linspace(0.0, 2.0, m)
    t = wl.truth
    clean = workloads.gauss_np(x[None], t[:, 0:1], t[:, 1:2], t[:, 2:3], t[:, 3:4])
    data = clean + np.random.default_rng(seed).normal(0.0, 0.5, clean.shape)
    return x, data.reshape(shape + (m,)), wl.truth


def run_xarray(cube, cap, repeats, log, seed=11):
    import xarray as xr

    import batchfit.xarray  # noqa: F401

    *shape, m = cube
    shape = tuple(shape)
    x, data, _truth = _w1_cube(shape, m, seed)
    da = xr.DataArray(data, dims=("y", "x", "energy"), coords={"energy": x})
    p0 = {"amp": 10.0, "cen": 1.0, "sigma": 0.25, "c": 2.5}
    bounds = {"sigma": (0.01, 2.0)}
    t0 = time.perf_counter()
    ours = da.batchfit.curvefit("energy", workloads.gauss_jax, p0=p0, bounds=bounds)
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        ours = da.batchfit.curvefit("energy", workloads.gauss_jax, p0=p0, bounds=bounds)
        warm.append(time.perf_counter() - t0)
    N = int(np.prod(shape))
    rows = max(1, min(shape[0], cap // shape[1]))
    sub = da.isel(y=slice(0, rows))
    n_sub = rows * shape[1]
    t0 = time.perf_counter()
    ref = sub.curvefit("energy", workloads.gauss_np, p0=p0, bounds=bounds, errors="ignore")
    ref_s = time.perf_counter() - t0
    ok = ours.curvefit_status.isel(y=slice(0, rows)).values
    from batchfit import RESULTS

    ok = np.isin(ok, [int(r) for r in RESULTS if r.success]) & np.isfinite(ref.curvefit_coefficients.values).all(-1)
    dev = (np.abs(ours.curvefit_coefficients.isel(y=slice(0, rows)).values - ref.curvefit_coefficients.values)
           / ours.curvefit_stderr.isel(y=slice(0, rows)).values)[ok]
    w = statistics.median(warm)
    rec = {"workload": "xarray", "cube": list(cube), "N": N, "m": m, "batchfit_cold_s": cold,
           "batchfit_warm_s": w, "batchfit_fits_per_s": N / w, "xarray_pixels_run": n_sub,
           "xarray_s_subset": ref_s, "xarray_fits_per_s": n_sub / ref_s,
           "xarray_s_extrapolated": ref_s * N / n_sub, "extrapolated": n_sub < N,
           "speedup": (n_sub / ref_s and (N / w) / (n_sub / ref_s)),
           "agreement_max_stderr": float(dev.max()) if dev.size else None,
           "agreement_median_stderr": float(np.median(dev)) if dev.size else None,
           "n_compared": int(ok.sum()),
           "batchfit_frac_success": float(np.mean(np.isin(ours.curvefit_status.values,
                                                           [int(r) for r in RESULTS if r.success]))),
           "process_max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}
    log(f"xarray {cube}: batchfit {w:.2f} s warm ({N / w:,.0f} fits/s, cold {cold:.2f} s); xarray.curvefit "
        f"{n_sub} pixels in {ref_s:.2f} s ({n_sub / ref_s:,.0f} fits/s) -> {rec['xarray_s_extrapolated']:.0f} s "
        f"for the cube{' (extrapolated)' if n_sub < N else ''}; {rec['speedup']:.0f}x; max |diff| "
        f"{rec['agreement_max_stderr']:.2g} stderr")
    return [rec]


def _write_zarr(path, N, chunk, seed):
    import dask.array as da

    def block(i):  # one chunk in memory at a time
        wl = workloads.make_w1(min(chunk, N - i * chunk), seed + i)
        return wl.data, wl.start

    import zarr

    root = zarr.open_group(path, mode="w")
    y = root.create_array("data", shape=(N, 100), chunks=(chunk, 100), dtype="f8")
    s = root.create_array("start", shape=(N, 4), chunks=(chunk, 4), dtype="f8")
    for i in range(-(-N // chunk)):
        d, st = block(i)
        y[i * chunk:i * chunk + len(d)] = d
        s[i * chunk:i * chunk + len(d)] = st
    return da.from_zarr(path, component="data"), da.from_zarr(path, component="start")


def _peak_rss():
    """This process's peak resident memory (VmHWM: a spawned worker's own, where ru_maxrss
    would carry over the forking parent's high-water mark across exec)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource as r

    return r.getrusage(r.RUSAGE_SELF).ru_maxrss * 1024


def run_dask(N, workers, chunk, log, seed=21):
    import dask
    from distributed import Client, LocalCluster

    from batchfit import RESULTS
    from batchfit.distributed import fit_dask

    x = np.linspace(0.0, 2.0, 100)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "w1.zarr")
        t0 = time.perf_counter()
        Y, P0 = _write_zarr(path, N, chunk, seed)
        write_s = time.perf_counter() - t0
        store_bytes = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            lazy = fit_dask(workloads.gauss_jax, Y, x, p0=P0)
            t0 = time.perf_counter()
            values, status = dask.compute(lazy.values, lazy.status)
            wall = time.perf_counter() - t0
            t0 = time.perf_counter()  # again: read and fit everything, nothing to compile
            again = dask.compute(lazy.values)[0]
            warm = time.perf_counter() - t0
            peaks = client.run(_peak_rss)
    codes, counts = np.unique(status, return_counts=True)
    rec = {"workload": "dask", "N": N, "m": 100, "workers": workers, "threads_per_worker": 1,
           "chunk": chunk, "n_chunks": -(-N // chunk), "zarr_write_s": write_s, "zarr_bytes": store_bytes,
           "wall_s": wall, "fits_per_s": N / wall, "warm_wall_s": warm, "warm_fits_per_s": N / warm,
           "repeat_identical": bool(np.array_equal(values, again, equal_nan=True)), "frac_finite_values": float(np.isfinite(values).all(1).mean()),
           "status_counts": {RESULTS(int(c)).name: int(k) for c, k in zip(codes, counts)},
           "worker_peak_rss_bytes": sorted(peaks.values()),
           "client_peak_rss_bytes": _peak_rss(),
           "note": "wall_s: first compute, including each worker's first compile; warm_wall_s: the same "
                   "graph computed again (Zarr read and every fit, nothing compiled)"}
    log(f"dask W1 N={N:,} from Zarr ({store_bytes / 1e6:.0f} MB, {rec['n_chunks']} chunks of {chunk:,}) on "
        f"{workers} worker processes: {wall:.1f} s first ({N / wall:,.0f} fits/s), {warm:.1f} s again "
        f"({N / warm:,.0f} fits/s); worker peak RSS "
        f"{', '.join(f'{p / 1e9:.2f} GB' for p in rec['worker_peak_rss_bytes'])}; statuses {rec['status_counts']}")
    return [rec]


def markdown(recs):
    lines = []
    for r in recs:
        if r["workload"] == "xarray":
            c = "x".join(map(str, r["cube"]))
            lines.append(f"| xarray curvefit, W1 cube {c} | {r['N']:,} fits | batchfit {r['batchfit_warm_s']:.2f} s "
                         f"({r['batchfit_fits_per_s']:,.0f} fits/s) | xarray.curvefit {r['xarray_s_extrapolated']:.0f} s"
                         f"{' (extrapolated from ' + format(r['xarray_pixels_run'], ',') + ' pixels)' if r['extrapolated'] else ''}"
                         f" | {r['speedup']:.0f}x |")
        else:
            peaks = ", ".join(f"{p / 1e9:.2f}" for p in r["worker_peak_rss_bytes"])
            lines.append(f"| dask, W1 from Zarr, {r['workers']} worker processes | {r['N']:,} fits | "
                         f"{r['warm_wall_s']:.1f} s ({r['warm_fits_per_s']:,.0f} fits/s; first compute "
                         f"{r['wall_s']:.1f} s) | peak RSS per worker {peaks} GB | |")
    head = "| workload | size | batchfit | peer / memory | ratio |\n|---|---|---|---|---|\n"
    return head + "\n".join(lines) + "\n"
