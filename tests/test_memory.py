"""Automatic streaming: a batch too large for the device memory is fitted in
chunks, with the same result as in one piece."""

import os

import jax
import numpy as np
import pytest

import batchfit as bf
from batchfit.engine import _memory, _run
from batchfit import data as bdata
from batchfit.demo import gaussian_c

MODEL = bf.Model(gaussian_c)
NAMES = ("amp", "cen", "sigma", "c")


def test_cpu_memory_is_the_hosts_available(monkeypatch, tmp_path):
    """The host's *available* memory (MemAvailable), not its total (issue 14)."""
    fake = tmp_path / "meminfo"
    fake.write_text("MemTotal:       24000000 kB\nMemFree:         1000000 kB\n"
                    "MemAvailable:    3000000 kB\nBuffers:          100 kB\n")
    assert _memory.available_host_bytes(str(fake)) == 3000000 * 1024
    monkeypatch.setattr(_memory, "MEMINFO", str(fake))
    assert _memory.device_memory_bytes(jax.devices("cpu")) == 3000000 * 1024
    # no meminfo: the free pages; then the physical memory
    monkeypatch.setattr(_memory, "MEMINFO", str(tmp_path / "missing"))
    free = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    assert abs(_memory.available_host_bytes(str(tmp_path / "missing")) - free) < 2**30
    monkeypatch.setattr(_memory, "available_host_bytes", lambda meminfo=None: None)
    assert _memory.device_memory_bytes(jax.devices("cpu")) == (
        os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))


def test_cpu_chunk_is_capped_and_env_budget(monkeypatch):
    per_fit = {"y": np.zeros((10, 100))}
    B = 10**8
    need = _memory.bytes_per_fit(per_fit, B, 100, 4, 8)
    cpu = jax.devices("cpu")
    monkeypatch.setattr(_memory, "device_memory_bytes", lambda devices: 10**15)  # a huge host
    assert _memory.auto_chunk_size(B, per_fit, 100, 4, 8, cpu) == _memory.CPU_CHUNK_BYTES // need
    monkeypatch.setenv(_memory.ENV_BUDGET, str(7 * need))
    assert _memory.auto_chunk_size(B, per_fit, 100, 4, 8, cpu) == 7
    monkeypatch.setenv(_memory.ENV_BUDGET, "lots")
    with pytest.raises(ValueError, match="BATCHFIT_MEMORY_BUDGET='lots'"):
        _memory.auto_chunk_size(B, per_fit, 100, 4, 8, cpu)


def test_bytes_per_fit_closed_form():
    per_fit = {"y": np.zeros((10, 100)), "w": np.zeros((10, 100), np.float32)}
    got = _memory.bytes_per_fit(per_fit, 10, m=100, n=4, itemsize=8)
    work = 8 * (7 * 100 + 3 * (16 + 24 + 8))  # the LM state three times: running, start, first run
    assert got == int(_memory.SAFETY * (work + 800 + 400))


def test_auto_chunk_size_only_when_needed():
    per_fit = {"y": np.zeros((1000, 100))}
    need = _memory.bytes_per_fit(per_fit, 1000, 100, 4, 8)
    assert _memory.auto_chunk_size(1000, per_fit, 100, 4, 8, (), budget=1000 * need) is None
    assert _memory.auto_chunk_size(1000, per_fit, 100, 4, 8, (), budget=1000 * need - 1) == 999
    assert _memory.auto_chunk_size(1000, per_fit, 100, 4, 8, (), budget=250 * need + 7) == 250
    assert _memory.auto_chunk_size(1000, per_fit, 100, 4, 8, (), budget=1) == 1


def test_batch_larger_than_memory_streams_with_the_same_result(monkeypatch):
    x, data, truth, start = bdata.gaussian_batch(90, seed=4)
    params = MODEL.make_params(**start)
    whole = MODEL.fit(data, params, x=x)

    per_fit_bytes = []
    orig = _memory.bytes_per_fit

    def spy(*a, **k):
        per_fit_bytes.append(orig(*a, **k))
        return per_fit_bytes[-1]

    calls, seen = [], []
    run = _run.run
    monkeypatch.setattr(_memory, "bytes_per_fit", spy)
    monkeypatch.setattr(_memory, "device_memory_bytes", lambda devices: None)
    assert MODEL.fit(data, params, x=x) is not None and len(per_fit_bytes) == 1  # unknown memory: whole
    need = per_fit_bytes[0]
    # a device that holds 40 fits' working sets (BUDGET_FRACTION of it)
    monkeypatch.setattr(_memory, "device_memory_bytes",
                        lambda devices: int(40 * need / _memory.BUDGET_FRACTION) + 1)
    monkeypatch.setattr(_run, "run", lambda *a, **k: calls.append(k.get("B", a[8] if len(a) > 8 else None))
                        or run(*a, **k))
    res = MODEL.fit(data, params, x=x, progress=lambda done, total: seen.append((done, total)))
    # 40 fits fit; the automatic chunk is rounded down to a power of two (the
    # same shapes whatever memory is free), so chunks of 32, 32, 26
    assert calls == [32, 32, 26]
    assert seen == [(32, 90), (64, 90), (90, 90)]
    np.testing.assert_array_equal(res.status, whole.status)
    np.testing.assert_array_equal(res.nfev, whole.nfev)
    for n in NAMES:
        np.testing.assert_allclose(res.params[n].value, whole.params[n].value, rtol=1e-12)
        np.testing.assert_allclose(res.params[n].stderr, whole.params[n].stderr, rtol=1e-9)


@pytest.mark.parametrize("chunk", [0, -3])
def test_explicit_chunk_size_still_validated(chunk):
    x, data, truth, start = bdata.gaussian_batch(4, seed=4)
    with pytest.raises(ValueError, match="chunk_size"):
        MODEL.fit(data, MODEL.make_params(**start), x=x, chunk_size=chunk)
