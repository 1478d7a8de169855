"""chunk_size=, checkpoint= and progress= of Model.fit and minimize."""

from __future__ import annotations

import json
import os
import sys

import jax.numpy as jnp
import numpy as np
import pytest

import batchfit as bf
import batchfit.engine._chunked as chunked
import batchfit.engine._run as fit_module
from batchfit.results._base import ARRAYS

M = 30
X = np.linspace(0.0, 3.0, M)
N = 23
CS = 5  # chunks of 5, 5, 5, 5, 3


def decay(x, a, k, c):
    return a * jnp.exp(-k * x) + c


MODEL = bf.Model(decay)


def _make(n=N, seed=0):
    rng = np.random.default_rng(seed)
    a, k, c = rng.uniform(1, 5, n), rng.uniform(0.5, 2.0, n), rng.uniform(-1, 1, n)
    y = a[:, None] * np.exp(-k[:, None] * X) + c[:, None] + 0.05 * rng.standard_normal((n, M))
    start = {"a": a * rng.uniform(0.7, 1.3, n), "k": k * rng.uniform(0.7, 1.3, n), "c": np.zeros(n)}
    return y, start


Y, START = _make()


def params(start=START):
    p = MODEL.make_params(**{n: v.copy() for n, v in start.items()})
    p["k"].min = 0.0
    return p


def first(n):
    """Data and parameters of the first n datasets."""
    return Y[:n], params({k: v[:n] for k, v in START.items()})


@pytest.fixture(scope="module")
def whole():
    return MODEL.fit(Y, params(), x=X)


@pytest.fixture
def count_runs(monkeypatch):
    """Record the batch size of every _fit.run call (one per fitted chunk)."""
    sizes = []
    real = fit_module.run

    def counting(*args, **kwargs):
        bound = dict(zip(("resid", "resid_ext", "spec", "template", "packed", "per_fit", "shared",
                          "ndata", "B"), args))
        sizes.append(int(kwargs.get("B", bound.get("B"))))
        return real(*args, **kwargs)

    monkeypatch.setattr(fit_module, "run", counting)
    return sizes


@pytest.fixture
def no_solve(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("the solver was reached: the error was not raised before compiling")

    monkeypatch.setattr(fit_module, "solve", boom)


def assert_same_result(a, b, rtol=0.0):
    """Every per-fit array of two FitResults equal (exactly when rtol == 0).

    With rtol > 0, each residual is compared to rtol of the largest residual
    of its fit: a residual that nearly cancels (model minus data) shows one
    ulp of the data as a large difference relative to itself.
    """
    assert len(a) == len(b) and a.batched == b.batched
    for k in ARRAYS:
        x, y = a._a[k], b._a[k]
        assert x.dtype == y.dtype and x.shape == y.shape, k
        if rtol == 0.0 or x.dtype.kind != "f":
            np.testing.assert_array_equal(x, y, err_msg=k)
        elif k == "residual":
            scale = np.max(np.abs(y), axis=-1, keepdims=True)
            np.testing.assert_array_less(np.abs(x - y), np.broadcast_to(rtol * scale + 1e-300, x.shape), err_msg=k)
        else:
            np.testing.assert_allclose(x, y, rtol=rtol, atol=0, err_msg=k)


# --------------------------------------------------------------------------
# chunked == unchunked
# --------------------------------------------------------------------------
def test_chunked_equals_unchunked(whole, count_runs):
    res = MODEL.fit(Y, params(), x=X, chunk_size=CS, progress=False)
    assert count_runs == [5, 5, 5, 5, 3]
    assert np.all(whole.success) and whole.batched and res.batched
    # status, nfev, ndata exactly; floats to rounding (XLA kernels for other
    # batch shapes may round differently), far below any tolerance
    assert_same_result(res, whole, rtol=1e-12)
    np.testing.assert_array_equal(res.status, whole.status)
    np.testing.assert_array_equal(res.nfev, whole.nfev)
    np.testing.assert_allclose(res.best_fit, whole.best_fit, rtol=1e-12)
    np.testing.assert_array_equal(res.data, whole.data)
    for n in ("a", "k", "c"):
        np.testing.assert_allclose(res.params[n].value, whole.params[n].value, rtol=1e-12)
        np.testing.assert_allclose(res.params[n].stderr, whole.params[n].stderr, rtol=1e-10)
    # independent reference: scipy fit by fit
    from scipy.optimize import least_squares

    for i in (0, 11, 22):
        ref = least_squares(lambda p: p[0] * np.exp(-p[1] * X) + p[2] - Y[i], [START[n][i] for n in "akc"],
                            method="lm", xtol=1e-14, ftol=1e-14, gtol=1e-14)
        np.testing.assert_allclose([res.params[n].value[i] for n in "akc"], ref.x, rtol=1e-7)


def test_chunked_is_deterministic():
    a = MODEL.fit(Y, params(), x=X, chunk_size=CS, progress=False)
    b = MODEL.fit(Y, params(), x=X, chunk_size=CS, progress=False)
    assert_same_result(a, b)


def test_chunk_size_at_least_n_is_the_unchunked_fit(whole, count_runs):
    for cs in (N, N + 1, 10**9):
        assert_same_result(MODEL.fit(Y, params(), x=X, chunk_size=cs), whole)
    assert count_runs == [N] * 3


def test_chunk_size_one_equals_single_fits(whole):
    y, start = Y[:3], {n: v[:3] for n, v in START.items()}
    res = MODEL.fit(y, params(start), x=X, chunk_size=1, progress=False)
    assert_same_result(res, MODEL.fit(y, params(start), x=X), rtol=1e-12)
    for i in range(3):
        one = MODEL.fit(Y[i], params({n: v[i] for n, v in START.items()}), x=X)
        assert res[i].status == one.status and res[i].nfev == one.nfev
        for n in ("a", "k", "c"):
            np.testing.assert_allclose(res.params[n].value[i], one.params[n].value, rtol=1e-12)


def test_minimize_chunked_equals_unchunked():
    """Per-fit starts and bounds of minimize."""
    rng = np.random.default_rng(5)
    p = bf.Parameters()
    p.add("a", rng.uniform(1, 3, 8), min=rng.uniform(0.0, 0.5, 8))
    p.add("k", rng.uniform(0.5, 1.5, 8), min=0.0, max=5.0)
    p.add("c", 0.0)

    def obj(p, x, y):
        return p["a"] * jnp.exp(-p["k"] * x) + p["c"] - y

    args = (X, Y[0])
    ref = bf.minimize(obj, p, args=args)
    res = bf.minimize(obj, p, args=args, chunk_size=4, progress=False)
    assert np.all(res.success)
    assert_same_result(res, ref, rtol=1e-12)
    from scipy.optimize import curve_fit

    popt, pcov = curve_fit(lambda x, a, k, c: a * np.exp(-k * x) + c, X, Y[0], p0=[2.0, 1.0, 0.0])
    for j, n in enumerate("akc"):
        np.testing.assert_allclose(res.params[n].value, popt[j], rtol=1e-6)
        np.testing.assert_allclose(res.params[n].stderr, np.sqrt(pcov[j, j]), rtol=1e-4)


def test_antoine_from_many_starts_chunked():
    """Use case 2 from the three starts (and nearby ones) in chunks."""
    from batchfit import data as bdata

    starts = (np.array(bdata.ANTOINE_STARTS * 3) * np.repeat([1.0, 1.01, 0.99], 3)[:, None])[:8]
    p = bf.Parameters()
    for j, n in enumerate("ABC"):
        p.add(n, starts[:, j].copy())

    def antoine(p, T, P):
        return P - 10 ** (p["A"] + p["B"] / (T + p["C"]))

    args = (bdata.ANTOINE_T, bdata.ANTOINE_P)
    ref = bf.minimize(antoine, p, args=args)
    res = bf.minimize(antoine, p, args=args, chunk_size=4, progress=False)
    assert np.all(res.success)
    for k in ("status", "nfev", "ndata", "errorbars"):
        np.testing.assert_array_equal(res._a[k], ref._a[k])
    # values to 1e-12; their statistics (residuals cancelling P ~ 350 down to
    # ~3e-3) amplify rounding ~1e5-fold and are covered by the tests above
    np.testing.assert_allclose(res._a["values_all"], ref._a["values_all"], rtol=1e-12)
    np.testing.assert_allclose(res.params["A"].value, bdata.ANTOINE_BEST[0], rtol=1e-7)
    np.testing.assert_allclose(res.params["B"].value, bdata.ANTOINE_BEST[1], rtol=1e-6)
    np.testing.assert_allclose(res.params["C"].value, bdata.ANTOINE_BEST[2], rtol=1e-6)


# --------------------------------------------------------------------------
# checkpoint and resume
# --------------------------------------------------------------------------
class Stop(KeyboardInterrupt):
    pass


def test_interrupted_run_resumes_without_refitting(tmp_path, count_runs):
    ck = tmp_path / "fits"
    seen = []

    def stop_after_two(done, total):
        seen.append((done, total))
        if done >= 2 * CS:
            raise Stop()

    with pytest.raises(Stop):
        MODEL.fit(Y, params(), x=X, chunk_size=CS, checkpoint=ck, progress=stop_after_two)
    assert seen == [(5, N), (10, N)]
    assert count_runs == [5, 5]
    assert sorted(os.listdir(ck)) == ["chunk_000000.npz", "chunk_000001.npz", "manifest.json"]
    manifest = json.loads((ck / "manifest.json").read_text())
    assert manifest["done"] == [0, 1] and manifest["n_fits"] == N and manifest["chunk_size"] == CS
    assert manifest["n_chunks"] == 5 and manifest["format"] == "batchfit-checkpoint"

    count_runs.clear()
    seen.clear()
    resumed = MODEL.fit(Y, params(), x=X, chunk_size=CS, checkpoint=str(ck),
                        progress=lambda d, t: seen.append(d))
    assert count_runs == [5, 5, 3]  # chunks 0 and 1 were loaded, not refitted
    assert seen == [5, 10, 15, 20, 23]
    assert json.loads((ck / "manifest.json").read_text())["done"] == [0, 1, 2, 3, 4]

    count_runs.clear()
    uninterrupted = MODEL.fit(Y, params(), x=X, chunk_size=CS)
    assert_same_result(resumed, uninterrupted)  # bit for bit
    np.testing.assert_array_equal(resumed.best_fit, uninterrupted.best_fit)

    count_runs.clear()
    again = MODEL.fit(Y, params(), x=X, chunk_size=CS, checkpoint=ck)
    assert count_runs == []  # everything loaded
    assert_same_result(again, uninterrupted)
    assert bf.fit_report(again) == bf.fit_report(uninterrupted)


def test_model_raising_keyboard_interrupt_mid_run(tmp_path, monkeypatch, count_runs):
    """An interrupt inside the third chunk's fit keeps chunks 0 and 1."""
    real = fit_module.run
    calls = []

    def interrupt_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(fit_module, "run", interrupt_third)
    with pytest.raises(KeyboardInterrupt):
        MODEL.fit(Y, params(), x=X, chunk_size=CS, checkpoint=tmp_path, progress=False)
    monkeypatch.setattr(fit_module, "run", real)
    assert json.loads((tmp_path / "manifest.json").read_text())["done"] == [0, 1]
    assert not [f for f in os.listdir(tmp_path) if ".tmp" in f]
    res = MODEL.fit(Y, params(), x=X, chunk_size=CS, checkpoint=tmp_path, progress=False)
    assert_same_result(res, MODEL.fit(Y, params(), x=X, chunk_size=CS, progress=False))


def test_single_fit_and_minimize_checkpoint(tmp_path, count_runs):
    one = MODEL.fit(Y[4], params({n: v[4] for n, v in START.items()}), x=X, checkpoint=tmp_path / "one")
    assert not one.batched and one.success and isinstance(one.chisqr, np.floating)
    again = MODEL.fit(Y[4], params({n: v[4] for n, v in START.items()}), x=X, checkpoint=tmp_path / "one")
    assert count_runs == [1]
    assert_same_result(again, one)
    assert bf.fit_report(again) == bf.fit_report(one)

    p = bf.create_params(a=np.array([1.0, 2.0, 3.0, 4.0]), b=0.0)
    obj = lambda p, x, y: p["a"] * x + p["b"] - y  # noqa: E731
    first = bf.minimize(obj, p, args=(X, 2 * X + 1), chunk_size=2, checkpoint=tmp_path / "min")
    second = bf.minimize(obj, p, args=(X, 2 * X + 1), chunk_size=2, checkpoint=tmp_path / "min")
    assert count_runs == [1, 2, 2]
    assert_same_result(first, second)
    np.testing.assert_allclose(first.params["a"].value, 2.0, rtol=1e-12)
    np.testing.assert_allclose(first.params["b"].value, 1.0, rtol=1e-12)
    with pytest.raises(chunked.CheckpointError, match="different fit"):
        bf.minimize(obj, p, args=(X, 2 * X + 1.5), chunk_size=2, checkpoint=tmp_path / "min")


def _fresh_checkpoint(path):
    MODEL.fit(Y[:6], params({n: v[:6] for n, v in START.items()}), x=X, chunk_size=3, checkpoint=path,
              progress=False)


def _rerun(path, y=None, start=None, **kw):
    y = Y[:6] if y is None else y
    start = {n: v[:6] for n, v in START.items()} if start is None else start
    opts = {"chunk_size": 3, "checkpoint": path, "progress": False}
    opts.update(kw)
    return MODEL.fit(y, params(start), x=X, **opts)


def test_checkpoint_of_other_inputs_is_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "ck"
    _fresh_checkpoint(path)
    monkeypatch.setattr(fit_module, "solve", lambda *a, **k: pytest.fail("solver reached"))
    y = Y[:6].copy()
    y[4, 7] += 1e-9
    start = {n: v[:6].copy() for n, v in START.items()}
    start["a"][5] *= 1.0001

    def other_decay(x, a, k, c):
        return a * jnp.exp(-k * x) + c + 0.0 * x

    cases = [
        lambda: _rerun(path, y=y),
        lambda: _rerun(path, start=start),
        lambda: _rerun(path, max_nfev=50),
        lambda: _rerun(path, weights=np.full(M, 2.0)),
        lambda: _rerun(path, dtype="float32"),
        lambda: _rerun(path, nan_policy="omit", y=np.where(np.arange(M) == 3, np.nan, Y[:6])),
        lambda: bf.Model(other_decay, name="decay").fit(
            Y[:6], params({n: v[:6] for n, v in START.items()}), x=X, chunk_size=3, checkpoint=path),
        lambda: MODEL.fit(Y[:6], params({n: v[:6] for n, v in START.items()}), x=X + 1e-12,
                          chunk_size=3, checkpoint=path),
    ]
    for case in cases:
        with pytest.raises(chunked.CheckpointError, match="holds results of a different fit") as info:
            case()
        assert str(path) in str(info.value)
        assert isinstance(info.value, ValueError)
    with pytest.raises(chunked.CheckpointError, match="chunk_size=3.*chunk_size=2"):
        _rerun(path, chunk_size=2)


def test_damaged_or_foreign_checkpoint(tmp_path):
    path = tmp_path / "ck"
    _fresh_checkpoint(path)
    ref = _rerun(path)
    # a chunk file from another position
    os.replace(path / "chunk_000000.npz", path / "keep.npz")
    (path / "chunk_000001.npz").rename(path / "chunk_000000.npz")
    with pytest.raises(chunked.CheckpointError, match="does not belong to this fit"):
        _rerun(path)
    # an unreadable chunk file
    (path / "chunk_000000.npz").write_bytes(b"not a zip file")
    with pytest.raises(chunked.CheckpointError, match="chunk_000000.npz.*unreadable"):
        _rerun(path)
    # a chunk listed in the manifest but missing (chunk 1 now) is refitted
    os.replace(path / "keep.npz", path / "chunk_000000.npz")
    assert not (path / "chunk_000001.npz").exists()
    assert_same_result(_rerun(path), ref)
    assert (path / "chunk_000001.npz").exists()
    # a manifest that is no checkpoint of ours
    (path / "manifest.json").write_text("[1, 2]")
    with pytest.raises(chunked.CheckpointError, match="unreadable manifest.json"):
        _rerun(path)
    (path / "manifest.json").write_text(json.dumps({"format": "other", "version": 1}))
    with pytest.raises(chunked.CheckpointError, match="not a batchfit checkpoint"):
        _rerun(path)
    # a path that is a file
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(chunked.CheckpointError, match="not a directory"):
        _rerun(f)


class _Payload:
    """Unpickling this runs code (it sets an environment variable)."""

    def __reduce__(self):
        return (exec, ("import os; os.environ['BATCHFIT_UNPICKLED'] = '1'",))


def test_loading_never_unpickles(tmp_path):
    path = tmp_path / "ck"
    _fresh_checkpoint(path)
    with np.load(path / "chunk_000000.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    assert all(a.dtype != object for a in arrays.values())
    assert set(arrays) == set(ARRAYS) | {"_meta"}
    arrays["status"] = np.array([_Payload()] * 3, dtype=object)
    np.savez(path / "chunk_000000.npz", **arrays)
    os.environ.pop("BATCHFIT_UNPICKLED", None)
    try:
        # the payload is live: loading it with pickle allowed runs it
        with np.load(path / "chunk_000000.npz", allow_pickle=True) as z:
            z["status"]
        assert os.environ.pop("BATCHFIT_UNPICKLED") == "1"
        with pytest.raises(chunked.CheckpointError, match="unreadable"):
            _rerun(path)
        assert "BATCHFIT_UNPICKLED" not in os.environ
    finally:
        os.environ.pop("BATCHFIT_UNPICKLED", None)


# --------------------------------------------------------------------------
# progress
# --------------------------------------------------------------------------
def test_short_fits_print_nothing(capfd):
    MODEL.fit(*first(4), x=X)
    capfd.readouterr()  # whatever JAX may log when it starts is not ours
    MODEL.fit(*first(4), x=X)
    MODEL.fit(*first(4), x=X, chunk_size=10)
    MODEL.fit(*first(8), x=X, chunk_size=4, progress=False)
    bf.minimize(lambda p: jnp.array([p["a"] - 1.0, p["a"] + 1.0]), bf.create_params(a=3.0))
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_auto_progress_bar_over_chunks(capfd):
    res = MODEL.fit(*first(8), x=X, chunk_size=4)
    out, err = capfd.readouterr()
    assert out == ""
    assert "batchfit" in err and "8/8" in err and "fit" in err
    assert np.all(res.success)
    MODEL.fit(*first(4), x=X, progress=True)
    assert "4/4" in capfd.readouterr().err


def test_without_tqdm(monkeypatch, capfd):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails
    with monkeypatch.context() as mp:
        mp.setattr(fit_module, "solve", lambda *a, **k: pytest.fail("solver reached"))
        with pytest.raises(ImportError, match="progress=True needs tqdm"):
            MODEL.fit(*first(4), x=X, progress=True)
    capfd.readouterr()
    res = MODEL.fit(*first(8), x=X, chunk_size=4)
    assert np.all(res.success)
    assert capfd.readouterr() == ("", "")


# --------------------------------------------------------------------------
# bad arguments fail before compiling; inputs are never modified
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kw,exc,msg",
    [
        ({"chunk_size": 0}, ValueError, "chunk_size must be >= 1, got 0"),
        ({"chunk_size": -3}, ValueError, "chunk_size must be >= 1"),
        ({"chunk_size": 2.5}, TypeError, "chunk_size must be a positive integer"),
        ({"chunk_size": True}, TypeError, "chunk_size must be a positive integer"),
        ({"chunk_size": "4"}, TypeError, "chunk_size must be a positive integer"),
        ({"checkpoint": 3}, TypeError, "checkpoint must be a path"),
        ({"checkpoint": ""}, ValueError, "checkpoint must be a non-empty path"),
        ({"progress": "yes"}, TypeError, "progress must be None, True, False or a callable"),
    ],
)
def test_bad_arguments(no_solve, kw, exc, msg):
    with pytest.raises(exc, match=msg):
        MODEL.fit(*first(4), x=X, **kw)
    with pytest.raises(exc, match=msg):
        bf.minimize(lambda p: jnp.array([p["a"], 2 * p["a"]]), bf.create_params(a=np.ones(3)), **kw)


def test_chunking_with_shared_groups_is_rejected(no_solve):
    with pytest.raises(ValueError, match="chunk_size and checkpoint are not supported with shared="):
        MODEL.fit(*first(4), x=X, shared=["k"], chunk_size=2)


def test_masked_fits_and_inputs_unmodified(tmp_path):
    """Masks (NaN omitted, zero weights), per-fit x, a chunk in which no fit
    has enough points (no error while other fits have), inputs untouched."""
    y = Y[:8].copy()
    y[:4, 2:] = np.nan  # fits 0-3, the whole first chunk: two points for three parameters
    y[5, ::2] = np.nan
    x = np.tile(X, (8, 1))
    w = np.full((8, M), 3.0)
    w[6, :3] = 0.0
    p = params({n: v[:8] for n, v in START.items()})
    p.add("half_k", expr="k / 2")
    keep = [a.copy() for a in (y, x, w)]
    snap = {n: (np.copy(q.value), np.copy(q.min), np.copy(q.max), q.vary, q.expr, q.stderr, q.init_value)
            for n, q in p.items()}
    for a in (y, x, w):
        a.flags.writeable = False  # any write would raise
    ref = MODEL.fit(y, p, x=x, weights=w, nan_policy="omit")
    res = MODEL.fit(y, p, x=x, weights=w, nan_policy="omit", chunk_size=4, checkpoint=tmp_path,
                    progress=False)
    np.testing.assert_array_equal(res.status[:4], [bf.RESULTS.TOO_FEW_POINTS] * 4)
    np.testing.assert_array_equal(res.ndata, [2, 2, 2, 2, M, M // 2, M - 3, M])
    assert np.all(res.success[4:])
    assert_same_result(res, ref, rtol=1e-12)
    for a, b in zip((y, x, w), keep):
        np.testing.assert_array_equal(a, b)
    for n, (v, lo, hi, vary, expr, stderr, init) in snap.items():
        q = p[n]
        np.testing.assert_array_equal(q.value, v)
        np.testing.assert_array_equal(q.min, lo)
        np.testing.assert_array_equal(q.max, hi)
        assert (q.vary, q.expr, q.stderr, q.init_value) == (vary, expr, stderr, init)
    np.testing.assert_allclose(res.params["half_k"].value, res.params["k"].value / 2, rtol=1e-15)
    # zero weights drop their points: fit 6 equals the fit without them
    one = MODEL.fit(Y[6, 3:], params({n: v[6] for n, v in START.items()}), x=X[3:])
    for n in ("a", "k", "c"):
        np.testing.assert_allclose(res.params[n].value[6], one.params[n].value, rtol=1e-9)
    with pytest.raises(ValueError, match="at most 2 valid data points"):
        MODEL.fit(y[:4], params({n: v[:4] for n, v in START.items()}), x=x[:4], nan_policy="omit",
                  chunk_size=2)


def test_short_last_chunk_takes_the_full_chunks_shape():
    """A chunked run's last, short chunk is padded to the full chunks'
    bucket (its extra lanes end at once), so another N with the same chunk
    size compiles nothing, and every fit equals the unchunked one's."""
    import jax

    y, p = first(N)
    MODEL.fit(y, p, x=X, chunk_size=8)  # chunks of 8, 8, 7: compiles the chunk shape
    compiles = []

    def listener(event, duration, **kw):
        if event == "/jax/core/compile/backend_compile_duration":
            compiles.append(duration)

    y2, p2 = first(18)  # chunks of 8, 8, 2: the last one's own bucket (2) was never compiled
    jax.monitoring.register_event_duration_secs_listener(listener)
    try:
        res = MODEL.fit(y2, p2, x=X, chunk_size=8)
    finally:
        jax.monitoring.clear_event_listeners()
    assert compiles == []
    ref = MODEL.fit(y2, p2, x=X)
    np.testing.assert_array_equal(res.status, ref.status)
    np.testing.assert_array_equal(res.nfev, ref.nfev)
    for n in ("a", "k", "c"):
        dev = np.abs(res.params[n].value - ref.params[n].value) / ref.params[n].stderr
        assert np.all(dev < 1e-6), n
        np.testing.assert_allclose(res.params[n].stderr, ref.params[n].stderr, rtol=1e-6)
