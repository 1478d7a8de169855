"""Batched fits: agreement with scipy fit by fit, isolation, permutation."""

import numpy as np
import pytest
from scipy.optimize import least_squares

import batchfit as bf
from batchfit import data as bdata
from batchfit.demo import gaussian_c

MODEL = bf.Model(gaussian_c)
NAMES = ("amp", "cen", "sigma", "c")


@pytest.fixture(scope="module")
def w1():
    x, data, truth, start = bdata.gaussian_batch(1000, seed=1)
    res = MODEL.fit(data, MODEL.make_params(**start), x=x)
    return x, data, truth, start, res


def _scipy_fit(x, y, p0):
    def f(p):
        return p[0] * np.exp(-((x - p[1]) ** 2) / (2 * p[2] ** 2)) + p[3] - y

    return least_squares(f, p0, method="lm", ftol=1e-12, xtol=1e-12, gtol=1e-12)


def test_w1_batch_agrees_with_scipy_fit_by_fit(w1):
    """Wherever scipy's MINPACK claims success, the same optimum: every
    value to 1e-6 relative, or (a value near zero, where a relative test
    means nothing) to 1e-6 of its standard error. The only other outcome
    allowed is a better optimum than scipy's: a far lower chi-square."""
    x, data, truth, start, res = w1
    est = np.stack([res.params[n].value for n in NAMES], axis=1)
    err = np.stack([res.params[n].stderr for n in NAMES], axis=1)
    agree = compared = better = 0
    for i in range(len(data)):
        ref = _scipy_fit(x, data[i], [start[n][i] for n in NAMES])
        if not ref.success:
            continue
        compared += 1
        assert res.success[i], i
        if np.all(np.abs(est[i] - ref.x) <= 1e-6 * np.maximum(np.abs(ref.x), err[i])):
            agree += 1
        else:  # scipy stopped at another, worse, local minimum
            assert 0.5 * np.sum(_resid(x, data[i], est[i]) ** 2) < 0.5 * ref.cost, i
            better += 1
    assert compared >= 990
    assert agree + better == compared and better <= 3


def _resid(x, y, p):
    return p[0] * np.exp(-((x - p[1]) ** 2) / (2 * p[2] ** 2)) + p[3] - y


def test_w1_stderr_matches_curve_fit(w1):
    from scipy.optimize import curve_fit

    x, data, truth, start, res = w1
    f = lambda x, a, c, s, k: a * np.exp(-((x - c) ** 2) / (2 * s**2)) + k  # noqa: E731
    for i in range(0, 1000, 97):
        popt, pcov = curve_fit(f, x, data[i], p0=[res.params[n].value[i] for n in NAMES],
                               ftol=1e-14, xtol=1e-14)
        np.testing.assert_allclose([res.params[n].value[i] for n in NAMES], popt, rtol=1e-7)
        np.testing.assert_allclose([res.params[n].stderr[i] for n in NAMES], np.sqrt(np.diag(pcov)), rtol=1e-4)
        # covariance compared scale-free: correlations (curve_fit differentiates numerically)
        d = np.sqrt(np.diag(pcov))
        np.testing.assert_allclose(res.correl[i], pcov / np.outer(d, d), atol=1e-5)


def test_batch_equals_one_at_a_time_and_permutes():
    x, data, truth, start = bdata.gaussian_batch(12, seed=2)
    batch = MODEL.fit(data, MODEL.make_params(**start), x=x)
    for i in (0, 5, 11):
        one = MODEL.fit(data[i], MODEL.make_params(**{n: start[n][i] for n in NAMES}), x=x)
        for n in NAMES:
            np.testing.assert_allclose(batch.params[n].value[i], one.params[n].value, rtol=1e-12)
        assert batch[i].nfev == one.nfev and batch[i].status == one.status
    perm = np.random.default_rng(3).permutation(12)
    shuffled = MODEL.fit(data[perm], MODEL.make_params(**{n: start[n][perm] for n in NAMES}), x=x)
    for n in NAMES:
        np.testing.assert_array_equal(shuffled.params[n].value, batch.params[n].value[perm])


def test_poisoned_fit_does_not_touch_neighbours():
    x, data, truth, start = bdata.gaussian_batch(8, seed=4)
    clean = MODEL.fit(data, MODEL.make_params(**start), x=x)
    bad = data.copy()
    bad[3, 10] = np.nan
    res = MODEL.fit(bad, MODEL.make_params(**start), x=x, nan_policy="propagate")
    assert not res.success[3]
    assert res.status[3] == bf.RESULTS.NONFINITE_START
    keep = np.arange(8) != 3
    for n in NAMES:
        np.testing.assert_array_equal(res.params[n].value[keep], clean.params[n].value[keep])
    # an overflowing start (exp of a huge number) fails alone too
    start2 = {n: v.copy() for n, v in start.items()}
    start2["sigma"][5] = 1e-200
    res2 = MODEL.fit(data, MODEL.make_params(**start2), x=x)
    keep = np.arange(8) != 5
    for n in NAMES:
        np.testing.assert_array_equal(res2.params[n].value[keep], clean.params[n].value[keep])


def test_ragged_batch_equals_separate_fits():
    x, data, truth, start = bdata.gaussian_batch(3, seed=5)
    lengths = [100, 80, 60]
    ys = [data[i, :n] for i, n in enumerate(lengths)]
    xs = [x[:n] for n in lengths]
    res = MODEL.fit(ys, MODEL.make_params(**start), x=xs)
    assert list(res.ndata) == lengths
    for i, n in enumerate(lengths):
        one = MODEL.fit(ys[i], MODEL.make_params(**{k: start[k][i] for k in NAMES}), x=xs[i])
        np.testing.assert_allclose(res.chisqr[i], one.chisqr, rtol=1e-10)
        for k in NAMES:
            np.testing.assert_allclose(res.params[k].value[i], one.params[k].value, rtol=1e-9)
            np.testing.assert_allclose(res.params[k].stderr[i], one.params[k].stderr, rtol=1e-7)


def test_float32_fit_is_float32_and_accurate():
    x, data, truth, start = bdata.gaussian_batch(64, seed=6, dtype=np.float32)
    r32 = MODEL.fit(data, MODEL.make_params(**start), x=x)
    r64 = MODEL.fit(data.astype(np.float64), MODEL.make_params(**start), x=x.astype(np.float64))
    assert r32.residual.dtype == np.float32
    ok = r32.success & r64.success
    assert ok.mean() > 0.95
    # float32 never claims success far from the float64 optimum (in stderr units)
    for n in NAMES:
        dev = np.abs(r32.params[n].value - r64.params[n].value) / r64.params[n].stderr
        assert np.all(dev[r32.success] < 0.05), n


def test_second_call_in_same_bucket_does_not_recompile():
    import jax

    x, data, truth, start = bdata.gaussian_batch(40, seed=7)
    MODEL.fit(data, MODEL.make_params(**start), x=x)
    compiles = []

    def listener(event, duration, **kw):
        if event == "/jax/core/compile/backend_compile_duration":
            compiles.append(duration)

    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        assert bf.solver.bucket_size(37) == bf.solver.bucket_size(40) == 40
        res = MODEL.fit(data[:37], MODEL.make_params(**{n: v[:37] for n, v in start.items()}), x=x)
    finally:
        jax.monitoring.clear_event_listeners()
    assert len(res) == 37
    assert compiles == []


def test_batch_report_summarises():
    x, data, truth, start = bdata.gaussian_batch(50, seed=8)
    res = MODEL.fit(data, MODEL.make_params(**start), x=x)
    text = bf.fit_report(res)
    assert "[[Batch Summary]]" in text and "# fits             = 50" in text
    assert f"# succeeded        = {int(res.success.sum())}" in text
    for n in NAMES + ("redchi",):
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(n + " "))
        med = float(line.split()[1])
        np.testing.assert_allclose(med, np.median(np.asarray(getattr(res.params.get(n), "value", res.redchi))[res.success]), rtol=1e-6)
    single = bf.fit_report(res[7])
    assert "[[Fit Statistics]]" in single and "(init = " in single


def test_same_inputs_give_bit_identical_results():
    x, data, truth, start = bdata.gaussian_batch(30, seed=9)
    a = MODEL.fit(data, MODEL.make_params(**start), x=x)
    b = MODEL.fit(data, MODEL.make_params(**start), x=x)
    for n in NAMES:
        np.testing.assert_array_equal(a.params[n].value, b.params[n].value)
        np.testing.assert_array_equal(a.params[n].stderr, b.params[n].stderr)
    np.testing.assert_array_equal(a.nfev, b.nfev)
    np.testing.assert_array_equal(a.status, b.status)


def test_accelerator_driver_equals_cpu_driver(monkeypatch):
    """The two batch drivers (CPU: sorted chunks in one program; GPU/TPU:
    compaction into smaller batches) step every fit identically: same
    status and evaluation count, values equal to rounding. The accelerator
    driver is forced here on the CPU."""
    from batchfit.solver import _batch

    x, data, truth, start = bdata.gaussian_batch(600, seed=7)
    for i in (3, 100, 333, 597):  # a few far-off starts: a long tail of slow fits
        start["cen"][i] += 0.8
        start["sigma"][i] *= 8.0
    params = MODEL.make_params(**start)
    tail = []
    orig_loop = _batch._compact_loop
    monkeypatch.setattr(_batch, "_compact_loop", lambda *a, **k: tail.append(
        int(np.sum(np.asarray(a[2].status) == bf.RESULTS.RUNNING))) or orig_loop(*a, **k))
    monkeypatch.setattr(_batch, "_TAIL_COMPILED", set())
    monkeypatch.setattr(_batch, "TAIL_ROUNDS_COLD", 10**6)
    cold = MODEL.fit(data, params, x=x, config=bf.LMConfig(threads=1))
    # the 16-lane program not compiled yet, and the tail not long enough to pay for it
    assert cold.nfev.max() > 8 * _batch.TAIL_ROUNDS and tail == []
    monkeypatch.setattr(_batch, "TAIL_ROUNDS_COLD", _batch.TAIL_ROUNDS)
    MODEL.fit(data, params, x=x, config=bf.LMConfig(threads=1))
    assert len(tail) == 1 and 0 < tail[0] <= _batch.COMPACT_MIN  # the CPU driver handed its tail over
    monkeypatch.setattr(_batch, "TAIL_ROUNDS_COLD", 10**6)
    cpu = MODEL.fit(data, params, x=x, config=bf.LMConfig(threads=1))
    assert len(tail) == 2  # compiled once, handed over from then on
    for n in NAMES:  # the same steps; another program shape may round the last bit differently
        np.testing.assert_allclose(cpu.params[n].value, cold.params[n].value, rtol=1e-12)
    np.testing.assert_array_equal(cpu.nfev, cold.nfev)
    used = []
    orig = _batch._solve_compacting

    def spy(*a, **k):
        used.append(a[1].shape[0])
        return orig(*a, **k)

    rounds = []
    orig_round = _batch._round

    def round_spy(resid_fn, cfg, state, *a):
        rounds.append(state.theta.shape[0])
        return orig_round(resid_fn, cfg, state, *a)

    monkeypatch.setattr(_batch, "_on_cpu", lambda x: False)
    monkeypatch.setattr(_batch, "_solve_compacting", spy)
    monkeypatch.setattr(_batch, "_round", round_spy)
    acc = MODEL.fit(data, params, x=x)
    assert used == [_batch.bucket_size(600)]
    assert rounds[0] == _batch.bucket_size(600) and min(rounds) < rounds[0]  # compaction ran
    np.testing.assert_array_equal(acc.status, cpu.status)
    np.testing.assert_array_equal(acc.nfev, cpu.nfev)
    for n in NAMES:
        np.testing.assert_allclose(acc.params[n].value, cpu.params[n].value, rtol=1e-12)
        np.testing.assert_allclose(acc.params[n].stderr, cpu.params[n].stderr, rtol=1e-9)


def test_cpu_layout_splits_evenly():
    from batchfit.solver._batch import CPU_CHUNK, bucket_size, cpu_layout

    for n in (1, 16, 200, 256, 257, 300, 600, 4096, 10000, 10**6):
        for threads in (1, 2, 3, 16):
            chunk, k, size = cpu_layout(n, threads)
            b = bucket_size(n)
            assert chunk <= CPU_CHUNK and size % (k * chunk) == 0 and 1 <= k <= threads
            assert b <= size < b + size // chunk  # under one lane of padding per chunk
            assert k == 1 or size // k >= 16
    assert cpu_layout(600, 2) == (160, 2, 640) and cpu_layout(10000, 2) == (256, 2, 10240)


@pytest.mark.parametrize("threads", [2, 3])
def test_cpu_threads_give_identical_results(monkeypatch, threads):
    """Parts of a batch stepped by several threads through the same compiled
    program: every fit bit-identical to one thread, progress over the whole batch."""
    from batchfit.solver import _batch

    x, data, truth, start = bdata.gaussian_batch(1100, seed=8)
    params = MODEL.make_params(**start)
    one = MODEL.fit(data, params, x=x, config=bf.LMConfig(threads=1))
    parts = []
    orig = _batch._cpu_rounds
    monkeypatch.setattr(_batch, "_cpu_rounds", lambda *a, **k: parts.append(a[3].theta.shape[0])
                        or orig(*a, **k))
    many = MODEL.fit(data, params, x=x, config=bf.LMConfig(threads=threads))
    chunk, k, size = _batch.cpu_layout(1100, threads)
    assert parts == [size // k] * k and k == threads
    np.testing.assert_array_equal(many.status, one.status)
    np.testing.assert_array_equal(many.nfev, one.nfev)
    for n in NAMES:
        np.testing.assert_array_equal(many.params[n].value, one.params[n].value)


def test_solver_progress_counts_finished_fits_across_threads():
    """``solver.solve(progress=)`` reports the number of finished fits of the
    whole batch after each round, also when threads share the batch."""
    import jax.numpy as jnp

    from batchfit import solver
    from batchfit.problem._compat import x64_context

    x = jnp.linspace(0.0, 4.0, 30)
    rng = np.random.default_rng(9)
    k = rng.uniform(0.5, 2.0, 700)
    y = np.exp(-k[:, None] * np.asarray(x)) + rng.normal(0, 0.01, (700, 30))

    def resid(theta, yi, xs):
        return jnp.exp(-theta[0] * xs) - yi

    theta0 = np.full((700, 1), 0.1)
    for threads in (1, 2):
        seen = []
        with x64_context(np.float64):
            out = solver.solve(resid, jnp.asarray(theta0), jnp.asarray(y), x,
                               solver.LMConfig(threads=threads).resolved(np.float64, 1), seen.append)
        assert seen == sorted(seen) and seen[-1] == 700 and len(seen) >= 2
        assert np.all(np.isin(out.status, [1, 2, 3]))
        np.testing.assert_allclose(out.theta[:, 0], k, rtol=0.05)


@pytest.mark.parametrize("bad", [0, -1, True, 1.5, "2"])
def test_threads_must_be_a_positive_int(bad):
    with pytest.raises(ValueError, match="threads"):
        bf.LMConfig(threads=bad)
