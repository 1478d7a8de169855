"""da.batchfit.curvefit against xarray's own DataArray.curvefit (scipy, run here,
converged tightly), on small seeded cubes: values to 1e-3 of a standard error,
covariances to 1e-3 relative; NaNs, bounds, p0 dicts, several coords,
reduce_dims, Models and shared-parameter groups over a dimension."""

import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr
from checks import raises

import batchfit as bf
import batchfit.xarray
from batchfit import RESULTS

TIGHT = {"ftol": 1e-14, "xtol": 1e-14, "gtol": 1e-14, "maxfev": 10_000}


def decay(t, amp, tau):
    return amp * jnp.exp(-t / tau)


def decay_np(t, amp, tau):
    return amp * np.exp(-t / tau)


def gauss2d(xy, amp, x0, y0, sig):
    return amp * jnp.exp(-((xy[0] - x0) ** 2 + (xy[1] - y0) ** 2) / (2 * sig ** 2))


def gauss2d_np(xy, amp, x0, y0, sig):
    return amp * np.exp(-((xy[0] - x0) ** 2 + (xy[1] - y0) ** 2) / (2 * sig ** 2))


def cube(seed=0, shape=(3, 4), m=30):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 4, m)
    amp = 1 + rng.random(shape)
    tau = 0.5 + rng.random(shape)
    y = amp[..., None] * np.exp(-t / tau[..., None]) + rng.normal(0, 0.03, shape + (m,))
    return xr.DataArray(y, dims=("row", "col", "t"), coords={"t": t, "row": np.arange(shape[0]) * 10.0},
                        attrs={"units": "counts"})


def assert_same(ours, ref, ok=None):
    """Coefficients within 1e-3 of batchfit's stderr, covariances within 1e-3 relative."""
    c, rc = ours.curvefit_coefficients, ref.curvefit_coefficients.transpose(*ours.curvefit_coefficients.dims)
    assert c.dims == rc.dims and list(ours.param.values) == list(ref.param.values)
    ok = np.isfinite(rc.values).all(axis=-1) if ok is None else ok
    assert ok.any()
    dev = np.abs(c.values - rc.values)[ok] / ours.curvefit_stderr.values[ok]
    assert np.all(dev < 1e-3), dev.max()
    cov, rcov = ours.curvefit_covariance.values[ok], ref.curvefit_covariance.values[ok]
    np.testing.assert_allclose(cov, rcov, rtol=1e-3, atol=0)
    assert np.all(np.isin(ours.curvefit_status.values[ok], [int(r) for r in RESULTS if r.success]))


def test_cube_with_nans_matches_xarray_curvefit():
    da = cube()
    da[0, 1, :7] = np.nan          # some points missing
    da[2, 3, :] = np.nan           # a pixel without data
    before = da.copy(deep=True)
    ours = da.batchfit.curvefit("t", decay, p0={"amp": 1.0, "tau": 1.0})
    ref = da.curvefit("t", decay_np, p0={"amp": 1.0, "tau": 1.0}, kwargs=TIGHT)
    xr.testing.assert_identical(da, before)  # the input is not modified
    assert_same(ours, ref)
    assert ours.curvefit_coefficients.dims == ("row", "col", "param")
    assert ours.curvefit_covariance.dims == ("row", "col", "cov_i", "cov_j")
    assert list(ours.cov_i.values) == ["amp", "tau"] and ours.attrs == {"units": "counts"}
    np.testing.assert_array_equal(ours.row.values, da.row.values)
    # the empty pixel: NaN as xarray gives it, with its status
    assert np.isnan(ours.curvefit_coefficients[2, 3]).all() and np.isnan(ref.curvefit_coefficients[2, 3]).all()
    assert ours.curvefit_status[2, 3] == RESULTS.NO_DATA
    # chi-square and redchi of a pixel: from the residuals of the fitted curve
    row = da[0, 1].dropna("t")
    a, tau = ours.curvefit_coefficients[0, 1].values
    chi2 = float(np.sum((row.values - decay_np(row.t.values, a, tau)) ** 2))
    np.testing.assert_allclose(ours.curvefit_chisqr[0, 1], chi2, rtol=1e-10)
    np.testing.assert_allclose(ours.curvefit_redchi[0, 1], chi2 / (row.size - 2), rtol=1e-10)
    np.testing.assert_allclose(ours.curvefit_stderr.values[0, 1], np.sqrt(np.diag(ours.curvefit_covariance[0, 1])),
                               rtol=1e-12)


def test_bounds_and_per_pixel_p0_dicts():
    da = cube(1)
    p0 = {"amp": xr.DataArray(np.full(4, 1.5), dims="col"), "tau": 0.8}
    bounds = {"tau": (0.1, 1.2), "amp": (0.0, xr.DataArray(np.full(3, 10.0), dims="row"))}
    ours = da.batchfit.curvefit("t", decay, p0=p0, bounds=bounds)
    ref = da.curvefit("t", decay_np, p0=p0, bounds=bounds, kwargs={"ftol": 1e-14, "xtol": 1e-14, "gtol": 1e-14})
    assert_same(ours, ref)
    assert float(ours.curvefit_coefficients.sel(param="tau").max()) <= 1.2


def test_active_bound_is_held():
    da = cube(2)
    ours = da.batchfit.curvefit("t", decay, p0={"tau": 0.6}, bounds={"tau": (0.1, 0.7)})
    tau = ours.curvefit_coefficients.sel(param="tau").values
    free = da.batchfit.curvefit("t", decay).curvefit_coefficients.sel(param="tau").values
    np.testing.assert_allclose(tau[free > 0.7], 0.7, rtol=1e-10)  # the pixels whose optimum is beyond it
    assert (free > 0.7).any() and (free < 0.7).any()


def test_two_coords_reduce_both_dims():
    rng = np.random.default_rng(3)
    xg, yg = np.linspace(-2, 2, 9), np.linspace(-1.5, 1.5, 8)
    X, Y = np.meshgrid(xg, yg, indexing="ij")
    amp = 2 + rng.random(5)
    x0, y0 = rng.normal(0, 0.3, 5), rng.normal(0, 0.3, 5)
    img = amp[:, None, None] * np.exp(-((X - x0[:, None, None]) ** 2 + (Y - y0[:, None, None]) ** 2) / 2)
    img = img + rng.normal(0, 0.02, img.shape)
    da = xr.DataArray(img, dims=("frame", "x", "y"), coords={"x": xg, "y": yg})
    p0 = {"amp": 1.5, "x0": 0.1, "y0": -0.1, "sig": 0.8}
    ours = da.batchfit.curvefit(["x", "y"], gauss2d, p0=p0)
    ref = da.curvefit(["x", "y"], gauss2d_np, p0=p0, kwargs=TIGHT)
    assert_same(ours, ref)
    assert ours.curvefit_coefficients.dims == ("frame", "param")


def test_reduce_dims_fits_replicates_together():
    da = cube(4, shape=(3, 4)).rename(col="rep")  # 4 replicates of each row's decay, fitted as one
    ours = da.batchfit.curvefit("t", decay, reduce_dims="rep", p0={"amp": 1.0, "tau": 1.0})
    ref = da.curvefit("t", decay_np, reduce_dims="rep", p0={"amp": 1.0, "tau": 1.0}, kwargs=TIGHT)
    assert ours.curvefit_coefficients.dims == ("row", "param")
    assert_same(ours, ref)
    assert np.all(ours.curvefit_nfev.values > 0)


def test_skipna_false_nan_pixel_gets_a_status_not_its_neighbours():
    da = cube(5)
    clean = da.batchfit.curvefit("t", decay, p0={"amp": 1.0, "tau": 1.0})
    dirty = da.copy()
    dirty[1, 2, 4] = np.nan
    res = dirty.batchfit.curvefit("t", decay, p0={"amp": 1.0, "tau": 1.0}, skipna=False)
    assert res.curvefit_status[1, 2] not in [int(r) for r in RESULTS if r.success]
    others = np.ones((3, 4), bool)
    others[1, 2] = False
    np.testing.assert_allclose(res.curvefit_coefficients.values[others], clean.curvefit_coefficients.values[others],
                               rtol=1e-12)
    np.testing.assert_array_equal(res.curvefit_status.values[others], clean.curvefit_status.values[others])


def test_model_func_equals_model_fit():
    da = cube(6)
    model = bf.Model(decay, independent_vars=["t"])
    ours = da.batchfit.curvefit("t", model, p0={"amp": 1.0, "tau": 1.0})
    ref = model.fit(da.values.reshape(12, -1), model.make_params(amp=1.0, tau=1.0), t=da.t.values)
    np.testing.assert_allclose(ours.curvefit_coefficients.values.reshape(12, 2),
                               np.stack([ref.params["amp"].value, ref.params["tau"].value], 1), rtol=1e-12)
    np.testing.assert_allclose(ours.curvefit_covariance.values.reshape(12, 2, 2), ref.covar, rtol=1e-10)
    np.testing.assert_array_equal(ours.curvefit_status.values.ravel(), ref.status)
    xref = da.curvefit("t", decay_np, p0={"amp": 1.0, "tau": 1.0}, kwargs=TIGHT)
    assert_same(ours, xref)


def test_shared_over_a_dimension_equals_group_fit():
    rng = np.random.default_rng(7)
    t = np.linspace(0, 4, 30)
    amp = 1 + rng.random((3, 4))
    y = amp[..., None] * np.exp(-t / 0.8) + rng.normal(0, 0.03, (3, 4, 30))
    da = xr.DataArray(y, dims=("g", "k", "t"), coords={"t": t})
    model = bf.Model(decay, independent_vars=["t"])
    ours = da.batchfit.curvefit("t", model, p0={"amp": 1.0, "tau": 1.0}, shared=["tau"], shared_dims="k")
    ref = model.fit(y, model.make_params(amp=1.0, tau=1.0), t=t, shared=["tau"])
    tau = ours.curvefit_coefficients.sel(param="tau").values
    np.testing.assert_allclose(tau, np.broadcast_to(ref.params["tau"].value[:, None], (3, 4)), rtol=1e-12)
    np.testing.assert_allclose(ours.curvefit_coefficients.sel(param="amp").values, ref.params["amp"].value,
                               rtol=1e-12)
    np.testing.assert_allclose(ours.curvefit_stderr.sel(param="tau").values[:, 0], ref.params["tau"].stderr,
                               rtol=1e-12)
    vn = list(ref.var_names)
    cov = np.asarray(ref.covar)  # (G, P, P) over tau, amp_0..amp_3
    i, j = vn.index("tau"), vn.index("amp_2")
    np.testing.assert_allclose(ours.curvefit_covariance.values[:, 2], cov[:, [[j, j], [i, i]], [[j, i], [j, i]]],
                               rtol=1e-12)
    np.testing.assert_array_equal(ours.curvefit_status.values, np.broadcast_to(ref.status[:, None], (3, 4)))


def test_bad_input_raises_before_any_fit(no_solve):
    da = cube()
    with raises(ValueError, "coords 'time'", "coordinates"):
        da.batchfit.curvefit("time", decay)
    with raises(ValueError, "p0 names ['A']", "['amp', 'tau']"):
        da.batchfit.curvefit("t", decay, p0={"A": 1.0})
    with raises(ValueError, "'amp'", "['t']", "non-fitted dimensions"):
        da.batchfit.curvefit("t", decay, p0={"amp": da.isel(row=0, col=0)})
    with raises(ValueError, "bounds['tau']", "pair"):
        da.batchfit.curvefit("t", decay, bounds={"tau": 1.0})
    with raises(ValueError, "reduce_dims ['z']"):
        da.batchfit.curvefit("t", decay, reduce_dims="z")
    with raises(ValueError, "variable arguments", "param_names"):
        da.batchfit.curvefit("t", lambda t, *p: p[0] * t)
    with raises(ValueError, "shared_dims ['t']"):
        da.batchfit.curvefit("t", bf.Model(decay, independent_vars=["t"]), shared=["tau"], shared_dims="t")
    with raises(TypeError, "shared= needs func to be a batchfit Model"):
        da.batchfit.curvefit("t", decay, shared=["tau"], shared_dims="col")
    with raises(ValueError, 'errors must be "raise" or "ignore"'):
        da.batchfit.curvefit("t", decay, errors="warn")
    with pytest.raises(ValueError, match="no argument of `coords` is a dimension"):
        da.batchfit.curvefit(xr.DataArray(np.arange(3.0), dims="other"), decay)


def test_benchmark_row_smoke():
    """`python -m benchmarks --workload xarray` on a tiny cube: the record's numbers are sane."""
    import pathlib
    import sys

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
    try:
        from benchmarks import ecosystem
    finally:
        sys.path.pop(0)
    (rec,) = ecosystem.run_xarray((2, 3, 50), cap=3, repeats=1, log=lambda msg: None)
    assert rec["N"] == 6 and rec["xarray_pixels_run"] == 3 and rec["extrapolated"]
    assert rec["n_compared"] == 3 and rec["agreement_max_stderr"] < 1e-2
    assert rec["batchfit_frac_success"] == 1.0 and rec["speedup"] > 0
    assert "| xarray curvefit, W1 cube 2x3x50 | 6 fits |" in ecosystem.markdown([rec])
