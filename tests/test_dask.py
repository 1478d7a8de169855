"""Dask-backed fits: lazy until computed, one task per chunk, and on a
dask.distributed cluster of 2 worker processes (started and closed here)
fit for fit equal to the in-memory fit."""

import dask
import dask.array as da
import numpy as np
import pytest
import xarray as xr

import batchfit as bf
import batchfit.xarray
from batchfit import RESULTS
from batchfit.distributed import fit_dask


def w1_data(N, m=60, seed=0):
    """Gaussian + constant (PERFORMANCE.md's W1, smaller), with NaN points."""
    rng = np.random.default_rng(seed)
    x = np.linspace(-3, 3, m)
    amp, cen, sig = 1 + rng.random(N), rng.normal(0, 0.5, N), 0.5 + 0.5 * rng.random(N)
    y = amp[:, None] * np.exp(-(x - cen[:, None]) ** 2 / (2 * sig[:, None] ** 2)) + 0.1
    y = y + rng.normal(0, 0.02, y.shape)
    y[3, :10] = np.nan
    y[5] = np.nan  # a dataset without data
    return x, y


def make_gauss():
    import jax.numpy as jnp  # a function defined here is pickled by value to the workers

    def gauss(x, amp, cen, sig, c):
        return amp * jnp.exp(-(x - cen) ** 2 / (2 * sig ** 2)) + c

    return gauss


P0 = [1.0, 0.0, 0.7, 0.0]


def scale(cov):
    d = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
    return d[..., :, None] * d[..., None, :]


def test_nothing_runs_until_computed_and_one_task_per_chunk():
    x, y = w1_data(40)
    calls = []

    def load(i):
        calls.append(i)
        return y[10 * i:10 * (i + 1)]

    Y = da.concatenate([da.from_delayed(dask.delayed(load)(i), (10, y.shape[1]), float) for i in range(4)])
    gauss = make_gauss()
    lazy = fit_dask(gauss, Y, x, p0=P0, bounds=([0, -3, 0.05, -1], [10, 3, 5, 1]))
    assert isinstance(lazy.values, da.Array) and lazy.values.chunks == ((10,) * 4, (4,))
    assert lazy.covar.shape == (40, 4, 4) and lazy.names == ("amp", "cen", "sig", "c")
    assert calls == []  # nothing computed yet
    values, status = dask.compute(lazy.values, lazy.status, scheduler="threads")
    assert sorted(calls) == [0, 1, 2, 3]
    with pytest.warns(bf.OptimizeWarning, match="1 of 40 fits"):  # the dataset without data
        ref = bf.curve_fit(gauss, x, y, p0=P0, bounds=([0, -3, 0.05, -1], [10, 3, 5, 1]), nan_policy="omit",
                           full_output=True)
    np.testing.assert_array_equal(status, ref[2]["status"])  # RESULTS codes (ref[4] is scipy's ier)
    assert status[5] == RESULTS.NO_DATA and np.isnan(values[5]).all()
    ok = status != RESULTS.NO_DATA
    np.testing.assert_allclose(values[ok], ref[0][ok], rtol=1e-12, atol=1e-14)


def test_local_cluster_two_processes_equals_in_memory():
    from distributed import Client, LocalCluster

    x, y = w1_data(64, seed=1)
    gauss = make_gauss()
    mem = fit_dask(gauss, y, x, p0=P0)  # one chunk, in this process
    mem = dask.compute(*mem[:7], scheduler="sync")
    cube = xr.DataArray(y.reshape(8, 8, -1), dims=("a", "b", "x"), coords={"x": x})
    mem_xr = cube.batchfit.curvefit("x", gauss, p0=dict(zip(("amp", "cen", "sig", "c"), P0)))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        lazy = fit_dask(gauss, da.from_array(y, chunks=(16, -1)), x, p0=P0)
        futures = client.compute(list(lazy[:7]))
        got = client.gather(futures)
        lazy_xr = cube.chunk({"a": 2}).batchfit.curvefit("x", gauss, p0=dict(zip(("amp", "cen", "sig", "c"), P0)))
        assert isinstance(lazy_xr.curvefit_coefficients.data, da.Array)
        got_xr = lazy_xr.compute()
        workers = {w for w in client.run(lambda: 1)}
    assert len(workers) == 2
    for k, (a, b) in enumerate(zip(got, mem)):
        if k == 1:  # covariance: in units of sqrt(C_ii C_jj), i.e. correlations to 1e-12
            a, b = a / scale(b), b / scale(b)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12 if k == 1 else 1e-300)
    np.testing.assert_array_equal(got[3], mem[3])
    assert (got[3] == RESULTS.NO_DATA).sum() == 1 and np.isin(got[3], [int(r) for r in RESULTS if r.success]).sum() == 63
    for name in ("curvefit_coefficients", "curvefit_stderr", "curvefit_chisqr"):
        np.testing.assert_allclose(got_xr[name].values, mem_xr[name].values, rtol=1e-12, atol=1e-300)
    cov, cov_ref = got_xr.curvefit_covariance.values, mem_xr.curvefit_covariance.values
    np.testing.assert_allclose(cov / scale(cov_ref), cov_ref / scale(cov_ref), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(got_xr.curvefit_status.values, mem_xr.curvefit_status.values)
    np.testing.assert_allclose(got_xr.curvefit_coefficients.values.reshape(64, 4), mem[0], rtol=1e-12, atol=1e-300)


def test_fit_dask_bad_input_raises_before_any_task(no_solve):
    from checks import raises

    x, y = w1_data(8)
    Y = da.from_array(y, chunks=(4, -1))
    gauss = make_gauss()
    with raises(ValueError, "ydata must have shape (N, m)", "(8, 60, 1)"):
        fit_dask(gauss, Y[..., None], x)
    with raises(ValueError, "independent variable 'x' has shape (59,)", "m = 60"):
        fit_dask(gauss, Y, x[:-1])
    with raises(ValueError, "p0 has shape (3,)", "(4,)"):
        fit_dask(gauss, Y, x, p0=[1, 0, 1])
    with raises(ValueError, "p0 has shape (7, 4)", "(8, 4)"):
        fit_dask(gauss, Y, x, p0=np.ones((7, 4)))
    with raises(ValueError, "bounds of 'sig'", "below upper"):
        fit_dask(gauss, Y, x, bounds=([0, -1, 2, -1], [9, 1, 1, 1]))
    with raises(ValueError, "independent variable(s) ['t']"):
        fit_dask(bf.Model(lambda t, a: a * t, independent_vars=["t"]), Y, {"x": x})
