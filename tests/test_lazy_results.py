"""A chunked batch keeps no (N, m) residual or best fit until they are read
(issue 14: memory stays bounded); read, they equal numpy's model at the
fitted values, the unchunked fit's, and survive indexing, save/load and
pickling."""

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np

import batchfit as bf
from batchfit.demo import gaussian_c

MODEL = bf.Model(gaussian_c)
NAMES = ("amp", "cen", "sigma", "c")


def _gauss_np(x, amp, cen, sigma, c):
    return amp * np.exp(-(x - cen) ** 2 / (2 * sigma ** 2)) + c


def _problem(N=240, m=60, seed=3):
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 2, m)
    t = np.column_stack([rng.uniform(5, 15, N), rng.uniform(.7, 1.3, N), rng.uniform(.1, .4, N),
                         rng.uniform(0, 5, N)])
    y = _gauss_np(x[None], *(t[:, [j]] for j in range(4))) + rng.normal(0, .5, (N, m))
    y[3, 10:14] = np.nan  # omitted points: masked, NaN in best_fit
    w = 1.0 / (0.4 + 0.01 * np.arange(m))
    params = MODEL.make_params(**{n: t[:, j] * 1.1 for j, n in enumerate(NAMES)})
    params["c"].set(min=-1, max=10)
    params.add("fwhm", expr="2.3548200*sigma")
    return x, y, w, params


def _fit(chunk_size):
    x, y, w, params = _problem()
    y0, w0 = y.copy(), w.copy()
    res = MODEL.fit(y, params, x=x, weights=w, nan_policy="omit", chunk_size=chunk_size, progress=False)
    assert np.array_equal(y, y0, equal_nan=True) and np.array_equal(w, w0)  # inputs untouched
    return x, y, w, res


def _numpy_model(res, x):
    return _gauss_np(x[None], *(np.asarray(res.params[n].value)[:, None] for n in NAMES))


def test_chunked_residual_and_best_fit_are_computed_when_read(tmp_path):
    x, y, w, res = _fit(chunk_size=50)
    assert res._a.pending("residual") and res.extras.pending("best_fit")
    # statistics, params and one fit's curves: nothing of the whole batch is computed
    res.chisqr, res.params["cen"].stderr, res.to_dataframe()
    one = res[7]
    model = _numpy_model(res, x)
    np.testing.assert_allclose(one.best_fit, model[7], rtol=1e-12)
    np.testing.assert_allclose(one.residual, (model[7] - y[7]) * w, rtol=1e-9, atol=1e-12)
    assert res._a.pending("residual") and res.extras.pending("best_fit")

    best = res.best_fit
    assert not res.extras.pending("best_fit") and res.best_fit is best  # computed once, kept
    ok = np.isfinite(y)
    assert np.array_equal(np.isnan(best), ~ok)  # NaN exactly where omitted
    np.testing.assert_allclose(best[ok], model[ok], rtol=1e-12)
    r = res.residual
    np.testing.assert_allclose(r[ok], ((model - y) * w)[ok], rtol=1e-9, atol=1e-12)
    assert np.all(r[~ok] == 0)  # an omitted point adds nothing to the residual
    np.testing.assert_allclose(res.chisqr, np.sum(r * r, axis=1), rtol=1e-12)

    # the same arrays as one unchunked fit (rounding of other batch shapes only)
    _, _, _, whole = _fit(chunk_size=None)
    assert not whole._a.pending("residual")
    np.testing.assert_allclose(r, whole.residual, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(best, whole.best_fit, rtol=1e-12)

    # save and load, pickle: plain arrays, equal
    path = tmp_path / "res.npz"
    res.save(path)
    back = bf.load_result(path)
    assert np.array_equal(back.residual, r) and np.array_equal(back.best_fit, best, equal_nan=True)
    again = pickle.loads(pickle.dumps(res._a))
    assert type(again) is dict and np.array_equal(again["residual"], r)


def test_pending_rows_survive_save_and_rsquared():
    """Reading through ``get``, ``items`` or a copy computes the rows as the
    eager arrays are."""
    x, y, w, res = _fit(chunk_size=64)
    copy = dict(res.extras)
    assert isinstance(copy["best_fit"], np.ndarray)
    d = res.to_dict()
    model = _numpy_model(res, x)
    ok = np.isfinite(y)
    np.testing.assert_allclose(d["extras"]["best_fit"][ok], model[ok], rtol=1e-12)
    np.testing.assert_allclose(d["arrays"]["residual"][ok], ((model - y) * w)[ok], rtol=1e-9, atol=1e-12)
    yy = np.where(ok, y, np.nan)
    ss_res = np.nansum((yy - model) ** 2, axis=1)
    ss_tot = np.nansum((yy - np.nanmean(yy, axis=1, keepdims=True)) ** 2, axis=1)
    np.testing.assert_allclose(res.rsquared, 1 - ss_res / ss_tot, rtol=1e-10)


def test_curve_fit_best_fit_is_computed_when_read():
    """curve_fit's result (``full_output``'s ``info["result"]``) keeps its best
    fit pending as a Model fit does; read, it is numpy's model at popt (NaN
    where a point is omitted), and the residual is (model - y) / sigma."""
    x, y, _, _ = _problem(N=40)
    sigma = 0.4 + 0.01 * np.arange(x.size)
    popt, _, info, _, _ = bf.curve_fit(gaussian_c, x, y, p0=[10.0, 1.0, 0.25, 2.0], sigma=sigma,
                                       full_output=True, nan_policy="omit")
    res = info["result"]
    assert res.extras.pending("best_fit")
    model = _gauss_np(x[None], *(popt[:, [j]] for j in range(4)))
    np.testing.assert_allclose(res[5].best_fit, model[5], rtol=1e-12)
    assert res.extras.pending("best_fit")
    best, ok = res.best_fit, np.isfinite(y)
    assert np.array_equal(np.isnan(best), ~ok)
    np.testing.assert_allclose(best[ok], model[ok], rtol=1e-12)
    np.testing.assert_allclose(res.residual[ok], ((model - y) / sigma)[ok], rtol=1e-9, atol=1e-12)


SCRIPT = textwrap.dedent("""
    import resource, sys
    import numpy as np
    import batchfit as bf
    from batchfit.demo import gaussian_c
    N, m, cs = 40960, 500, 2048
    rng = np.random.default_rng(0)
    x = np.linspace(0, 2, m)
    t = np.column_stack([rng.uniform(5, 15, N), rng.uniform(.7, 1.3, N), rng.uniform(.1, .4, N),
                         rng.uniform(0, 5, N)])
    y = np.empty((N, m))
    for i in range(0, N, 4096):
        s = t[i:i + 4096]
        y[i:i + 4096] = s[:, [0]] * np.exp(-(x - s[:, [1]]) ** 2 / (2 * s[:, [2]] ** 2)) + s[:, [3]]
    model = bf.Model(gaussian_c)
    def fit(k):
        p = model.make_params(**{n: t[:k, j] * 1.05 for j, n in enumerate(("amp", "cen", "sigma", "c"))})
        return model.fit(y[:k], p, x=x, chunk_size=cs, progress=False)
    fit(8 * cs)  # compiles every program; one chunk's and one data block's working sets (16384 rows)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    res = fit(N)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert res.success.all()
    print(after - before, y.nbytes)
""")


def test_chunked_fit_peak_memory_is_not_a_copy_of_the_data():
    """A chunked fit of N datasets adds less than half the data's size to the
    process's peak memory: no (N, m) residual or best fit is made
    (before: both, twice the data)."""
    env = dict(os.environ, JAX_PLATFORMS="cpu", BATCHFIT_CACHE_DIR="off")
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    grown, data = map(int, out.stdout.split()[-2:])
    assert grown < data / 2, (grown, data)


def test_cstat_and_loss_best_fit_is_computed_when_read():
    """Under cstat or a robust loss the best fit is the model evaluated again
    (the residual is not model - data): pending until read, then numpy's model
    at the fitted values; cstat's MODEL_NONPOSITIVE check needs none kept."""
    x, y, _, params = _problem(N=30)
    counts = np.random.default_rng(5).poisson(np.clip(np.nan_to_num(y, nan=1.0), 0.1, None)).astype(float)
    for kw in ({"statistic": "cstat"}, {"loss": "cauchy", "f_scale": 0.5}):
        p = params.copy()
        p["c"].set(min=0.05)  # a positive model where there are counts
        res = MODEL.fit(counts, p, x=x, progress=False, **kw)
        assert res.extras.pending("best_fit"), kw
        model = _numpy_model(res, x)
        np.testing.assert_allclose(res[4].best_fit, model[4], rtol=1e-12)
        assert res.extras.pending("best_fit")
        np.testing.assert_allclose(res.best_fit, model, rtol=1e-12)
    # (MODEL_NONPOSITIVE, now found block by block: tests/test_cstat.py)
