"""Batch axis sharded across local devices: same results as one device.

The multi-device checks run in a subprocess with four CPU devices
(``XLA_FLAGS=--xla_force_host_platform_device_count=4`` must be set before
JAX is imported, so not in the pytest process).
"""

import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

import batchfit as bf
from batchfit import data as bdata
from batchfit.demo import gaussian_c
from batchfit.solver import _shard

NAMES = ("amp", "cen", "sigma", "c")

SCRIPT = textwrap.dedent(
    r'''
    import jax
    import numpy as np

    import batchfit as bf
    from batchfit import data as bdata
    from batchfit.demo import gaussian_c
    from batchfit.solver import _batch

    assert jax.local_device_count() == 4, jax.local_devices()
    NAMES = ("amp", "cen", "sigma", "c")
    M = bf.Model(gaussian_c)

    seen = []  # (lanes, devices holding the state, spec) of every round
    orig_round = _batch._round

    def recording_round(resid_fn, cfg, state, args, shared):
        sh = state.theta.sharding
        seen.append((state.theta.shape[0], len(sh.device_set), str(getattr(sh, "spec", ""))))
        return orig_round(resid_fn, cfg, state, args, shared)

    _batch._round = recording_round

    def fit(data, start, x, devices, **kw):
        seen.clear()
        res = M.fit(data, M.make_params(**start), x=x, config=bf.LMConfig(devices=devices), **kw)
        return res, list(seen)

    def same(a, b, what):
        np.testing.assert_array_equal(a.status, b.status, err_msg=what)
        np.testing.assert_array_equal(a.nfev, b.nfev, err_msg=what)
        np.testing.assert_array_equal(a.ndata, b.ndata, err_msg=what)
        np.testing.assert_allclose(a.chisqr, b.chisqr, rtol=1e-12, atol=0, err_msg=what)
        for n in NAMES:
            np.testing.assert_allclose(a.params[n].value, b.params[n].value, rtol=1e-12, atol=1e-14,
                                       err_msg=f"{what}: {n}")
            np.testing.assert_allclose(a.params[n].stderr, b.params[n].stderr, rtol=1e-9, atol=1e-14,
                                       err_msg=f"{what}: stderr {n}")

    def close(a, b, what):
        """Equal up to rounding: one device is no more faithful to itself.

        XLA may round a reduction differently for another lane count, and a
        fit that ends on a tolerance boundary (or is ill-determined) may then
        stop a step earlier or later; splitting a batch in two on ONE device
        moves the same fits by as much (checked when this test was written:
        12 of 300 fits beyond 1e-12, all within 3e-7 stderr).
        Chi-square agrees to ftol, the solver's own resolution of it: an
        ill-determined fit sliding along a flat valley (W1 ragged fit 261:
        stderr(amp) 8e10, 5500-6600 evaluations) stops at a point whose
        chi2 depends on where rounding ended it (9e-9 apart).
        """
        np.testing.assert_array_equal(a.success, b.success, err_msg=what)
        np.testing.assert_array_equal(a.ndata, b.ndata, err_msg=what)
        np.testing.assert_allclose(a.chisqr, b.chisqr, rtol=1.5e-8, atol=0, err_msg=what)
        va = np.stack([a.params[n].value for n in NAMES], 1)
        vb = np.stack([b.params[n].value for n in NAMES], 1)
        se = np.stack([a.params[n].stderr for n in NAMES], 1)
        exact = (np.all(np.abs(va - vb) <= 1e-12 * np.abs(va) + 1e-14, axis=1)
                 & (a.status == b.status) & (a.nfev == b.nfev))
        assert exact.mean() >= 0.95, (what, np.nonzero(~exact)[0])
        ok = a.success & np.all(np.isfinite(se), axis=1)
        z = np.abs(va - vb)[ok] / se[ok]
        assert np.all(z <= 1e-5), (what, np.max(z))

    # 1. W1-like batch of 300 fits: one device vs four
    x, data, truth, start = bdata.gaussian_batch(300, seed=11)
    one, r1 = fit(data, start, x, 1)
    four, r4 = fit(data, start, x, None)
    assert all(d == 1 for _, d, _ in r1), r1
    assert all(d == 4 and "'batch'" in s for _, d, s in r4), r4
    assert r4[0][0] == bf.solver.bucket_size(300), r4
    same(one, four, "W1 300 fits, 4 devices")
    # and the fits are good ones (one device is checked against scipy in test_batch.py)
    assert one.success.mean() > 0.98
    assert np.median(np.abs(four.params["cen"].value - truth["cen"])) < 0.01

    # 2. ragged and masked: unequal lengths and NaN points omitted, a fit with too few points
    rng = np.random.default_rng(12)
    lengths = rng.integers(40, 101, 300)
    lengths[7] = 3  # fewer points than parameters
    ys, xs = [], []
    for i, m in enumerate(lengths):
        y = data[i, :m].copy()
        if i % 5 == 0:
            y[rng.integers(0, m, 4)] = np.nan
        ys.append(y)
        xs.append(x[:m])
    one, _ = fit(ys, start, xs, 1, nan_policy="omit")
    four, r4 = fit(ys, start, xs, None, nan_policy="omit")
    assert all(d == 4 for _, d, _ in r4), r4
    assert one.status[7] == bf.RESULTS.TOO_FEW_POINTS
    assert (one.ndata < lengths).sum() >= 50
    close(one, four, "ragged/masked 300 fits, 4 devices")

    # 3. three devices: batch and compaction sizes padded to multiples of 3
    sub = {k: v[:37] for k, v in start.items()}
    one, _ = fit(data[:37], sub, x, 1)
    three, r3 = fit(data[:37], sub, x, 3)
    assert all(d == 3 and n % 3 == 0 for n, d, _ in r3), r3
    assert r3[0][0] == 42 and 18 in [n for n, _, _ in r3], r3  # bucket 40 -> 42; compaction 16 -> 18
    same(one, three, "37 fits, 3 devices")

    # 4. a new N in the same bucket compiles nothing, sharded too
    compiles = []
    jax.monitoring.register_event_duration_secs_listener(
        lambda ev, d, **kw: compiles.append(ev) if ev.endswith("backend_compile_duration") else None)
    fit(data[:290], {k: v[:290] for k, v in start.items()}, x, None)
    assert compiles == [], compiles

    # 5. minimize: one objective, a batch of starts sharing the data
    def resid(p, x, y):
        return p["amp"] * jax.numpy.exp(-(x - p["cen"]) ** 2 / (2 * p["sigma"] ** 2)) + p["c"] - y

    params = bf.Parameters()
    for n in NAMES:
        params.add(n, start[n][:64])
    a = bf.minimize(resid, params, args=(x, data[0]), config=bf.LMConfig(devices=1))
    b = bf.minimize(resid, params, args=(x, data[0]), config=bf.LMConfig(devices=jax.local_devices()[1:]))
    close(a, b, "minimize, 64 starts, 3 devices")
    print("SHARDING-OK")
    '''
)


def test_sharded_solve_matches_one_device():
    env = dict(os.environ)
    env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=4").strip()
    env["JAX_PLATFORMS"] = "cpu"
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0 and "SHARDING-OK" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-6000:]


def test_one_device_takes_the_unsharded_path(monkeypatch):
    assert jax.local_device_count() == 1  # the pytest process sees one CPU device
    assert not _shard.wanted(None)

    def boom(*a, **k):
        raise AssertionError("sharded path used with one device")

    monkeypatch.setattr(_shard, "solve", boom)
    x, data, truth, start = bdata.gaussian_batch(20, seed=13)
    model = bf.Model(gaussian_c)
    res = model.fit(data, model.make_params(**start), x=x)
    assert res.success.mean() > 0.9


def test_explicit_single_device_equals_default():
    x, data, truth, start = bdata.gaussian_batch(20, seed=14)
    model = bf.Model(gaussian_c)
    a = model.fit(data, model.make_params(**start), x=x)
    for devices in (1, [jax.local_devices()[0]]):
        b = model.fit(data, model.make_params(**start), x=x, config=bf.LMConfig(devices=devices))
        for n in NAMES:
            np.testing.assert_array_equal(a.params[n].value, b.params[n].value)
        np.testing.assert_array_equal(a.nfev, b.nfev)


def test_devices_option_is_validated():
    with pytest.raises(ValueError):
        bf.LMConfig(devices=0)
    with pytest.raises(ValueError):
        bf.LMConfig(devices=True)
    assert bf.LMConfig(devices=[jax.local_devices()[0]]).devices == (jax.local_devices()[0],)
    hash(bf.LMConfig(devices=[jax.local_devices()[0]]))  # a jit static argument
    with pytest.raises(ValueError, match="local device"):
        _shard.resolve_devices(jax.local_device_count() + 1)
    with pytest.raises(ValueError):
        _shard.resolve_devices(["cpu"])
    assert _shard.resolve_devices(None) == tuple(jax.local_devices())
