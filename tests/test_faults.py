"""Faults during checkpoints and saves (issue 14): edited chunks, a deleted
manifest, a full disk, a read-only folder, a save killed midway."""

from __future__ import annotations

import errno
import json
import os

import jax.numpy as jnp
import numpy as np
import pytest

import batchfit as bf
import batchfit.engine._checkpoint as ckmod
import batchfit.engine._run as fit_module
import batchfit.results._export as export
from batchfit.results._base import ARRAYS

M = 20
X = np.linspace(0.0, 3.0, M)
N, CS = 11, 3  # chunks of 3, 3, 3, 2


def decay(x, a, k, c):
    return a * jnp.exp(-k * x) + c


MODEL = bf.Model(decay)
_rng = np.random.default_rng(14)
_A, _K, _C = _rng.uniform(1, 5, N), _rng.uniform(0.5, 2.0, N), _rng.uniform(-1, 1, N)
Y = _A[:, None] * np.exp(-_K[:, None] * X) + _C[:, None] + 0.05 * _rng.standard_normal((N, M))


def params():
    p = MODEL.make_params(a=_A * 1.2, k=_K * 0.8, c=np.zeros(N))
    p["k"].min = 0.0
    return p


def fit(path=None, **kw):
    return MODEL.fit(Y, params(), x=X, chunk_size=CS, checkpoint=path, progress=False, **kw)


@pytest.fixture
def count_runs(monkeypatch):
    sizes = []
    real = fit_module.run

    def counting(*args, **kwargs):
        sizes.append(int(kwargs["B"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(fit_module, "run", counting)
    return sizes


@pytest.fixture(scope="module")
def reference():
    """The unchunked fit (independent of any checkpoint code)."""
    return MODEL.fit(Y, params(), x=X)


def same(a, b):
    for k in ARRAYS:
        np.testing.assert_array_equal(a._a[k], b._a[k], err_msg=k)


def test_edited_chunk_is_refused_by_its_sha256(tmp_path, reference):
    ck = tmp_path / "ck"
    fit(ck)
    manifest = json.loads((ck / "manifest.json").read_text())
    assert sorted(manifest["sha256"]) == ["0", "1", "2", "3"]
    assert all(len(h) == 64 for h in manifest["sha256"].values())
    same(fit(ck), reference)  # intact: loaded, verified, equal
    # edit one value of chunk 1, keep its fingerprint and range: only the hash can tell
    f = ck / "chunk_000001.npz"
    with np.load(f, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["values_all"] = arrays["values_all"].copy()
    arrays["values_all"][0, 0] += 1.0
    np.savez(f, **arrays)
    with pytest.raises(bf.CheckpointError, match=r"chunk_000001\.npz.*modified.*SHA-256"):
        fit(ck)
    f.unlink()  # as the message says: delete it, and that chunk is refitted
    same(fit(ck), reference)


def test_deleted_manifest_reuses_intact_chunks(tmp_path, count_runs, reference):
    ck = tmp_path / "ck"
    first = fit(ck)
    assert count_runs == [3, 3, 3, 2]
    (ck / "manifest.json").unlink()
    count_runs.clear()
    again = fit(ck)
    assert count_runs == []  # every chunk reused through its own fingerprint
    same(again, first)
    same(again, reference)
    manifest = json.loads((ck / "manifest.json").read_text())
    assert manifest["done"] == [0, 1, 2, 3] and sorted(manifest["sha256"]) == ["0", "1", "2", "3"]
    # a chunk of another fit in a folder without a manifest is still refused
    (ck / "manifest.json").unlink()
    with pytest.raises(bf.CheckpointError, match="does not belong to this fit"):
        MODEL.fit(Y + 1.0, params(), x=X, chunk_size=CS, checkpoint=ck, progress=False)


def test_full_disk_fails_clearly_and_keeps_earlier_chunks(tmp_path, monkeypatch, count_runs, reference):
    ck = tmp_path / "ck"
    real = ckmod._write

    def disk_full_at_chunk_2(f, data):
        if "chunk_000002" in f.name:
            f.write(data[: len(data) // 2])  # half written, then the disk is full
            raise OSError(errno.ENOSPC, "No space left on device")
        real(f, data)

    monkeypatch.setattr(ckmod, "_write", disk_full_at_chunk_2)
    with pytest.raises(OSError, match="No space left") as info:
        fit(ck)
    assert info.value.errno == errno.ENOSPC
    assert repr(str(ck)) in str(info.value) and "chunk_000002.npz" in str(info.value)
    assert sorted(os.listdir(ck)) == ["chunk_000000.npz", "chunk_000001.npz", "manifest.json"]
    assert json.loads((ck / "manifest.json").read_text())["done"] == [0, 1]

    monkeypatch.setattr(ckmod, "_write", real)  # room again: resume
    count_runs.clear()
    res = fit(ck)
    assert count_runs == [3, 2]  # chunks 0 and 1 were loaded
    same(res, reference)


def test_read_only_checkpoint_folder_fails_before_fitting(tmp_path, monkeypatch, count_runs):
    ck = tmp_path / "ro"
    ck.mkdir()
    real = os.access
    # tests run as root, who may write anywhere: a non-root user's view of a read-only folder
    monkeypatch.setattr(ckmod.os, "access", lambda p, mode, **kw: False if os.fspath(p) == str(ck)
                        else real(p, mode, **kw))
    with pytest.raises(bf.CheckpointError, match=r"checkpoint folder .*ro' is not writable"):
        fit(ck)
    assert count_runs == []  # nothing was fitted
    assert os.listdir(ck) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores permissions")
def test_read_only_checkpoint_folder_for_real(tmp_path, count_runs):
    ck = tmp_path / "ro"
    ck.mkdir()
    ck.chmod(0o500)
    try:
        with pytest.raises(bf.CheckpointError, match="is not writable"):
            fit(ck)
    finally:
        ck.chmod(0o700)
    assert count_runs == []


@pytest.mark.parametrize("ext", [".npz", ".json"])
def test_save_interrupted_midway_leaves_no_half_file(tmp_path, monkeypatch, reference, ext):
    path = tmp_path / f"res{ext}"
    reference[2].save(path)  # an older result in place
    old = path.read_bytes()

    def killed(*args, **kwargs):  # np.savez_compressed(fh, ...) or json.dump(obj, fh, ...)
        fh = args[0] if hasattr(args[0], "write") else args[1]
        fh.write(b"PK\x03\x04 half a file" if "b" in getattr(fh, "mode", "") else "{\"half")
        raise KeyboardInterrupt  # the process stopped mid-write

    target = (export.np, "savez_compressed") if ext == ".npz" else (export.json, "dump")
    with monkeypatch.context() as mp:
        mp.setattr(*target, killed)
        with pytest.raises(KeyboardInterrupt):
            reference.save(path)
        with pytest.raises(KeyboardInterrupt):
            reference.save(tmp_path / f"new{ext}")
    assert path.read_bytes() == old  # the previous file, intact
    assert sorted(os.listdir(tmp_path)) == [f"res{ext}"]  # no new file, no temporary left
    back = bf.load_result(path)
    assert back.params["k"].value == reference.params["k"].value[2]
    reference.save(path)  # and a normal save replaces it
    np.testing.assert_array_equal(bf.load_result(path).params["k"].value, reference.params["k"].value)
