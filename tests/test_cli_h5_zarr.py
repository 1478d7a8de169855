"""``batchfit fit`` on HDF5 and Zarr inputs larger than the memory budget
(issue 14): they stream through the fit chunk by chunk as a .npy file does,
each chunk read from a memory map (the HDF5 file itself when its dataset is
contiguous, else a block-by-block spooled copy), with the result equal to
the in-memory fit's."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

import batchfit as bf
import batchfit.engine._run as fit_module
from batchfit.cli import _stream
from batchfit.cli._run import main
from batchfit.engine import _memory
from checks import backed_by_memmap, gaussian_rows

h5py = pytest.importorskip("h5py")
zarr = pytest.importorskip("zarr")

M, N = 61, 200
X = np.linspace(-4.0, 4.0, M)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("h5zarr")
    y = gaussian_rows(X, N, seed=2718)
    with h5py.File(d / "contig.h5", "w") as f:
        f["data"] = y
        f["x"] = X
    with h5py.File(d / "packed.h5", "w") as f:
        f.create_dataset("spectra/counts", data=y, chunks=(16, M), compression="gzip")
        f["x"] = X
    g = zarr.open_group(str(d / "store.zarr"), mode="w")
    g.create_array("data", shape=y.shape, chunks=(32, M), dtype="f8")[:] = y
    g.create_array("x", shape=X.shape, dtype="f8")[:] = X
    zarr.open_array(str(d / "bare.zarr"), mode="w", shape=y.shape, chunks=(50, M), dtype="f8")[:] = y
    np.save(d / "x.npy", X)
    np.save(d / "y.npy", y)
    return d, y



@pytest.fixture
def spy(monkeypatch):
    seen = []
    real = fit_module.run

    def run(*args, **kwargs):
        y_chunk = (kwargs["per_fit"] if "per_fit" in kwargs else args[5])["data"]["y"]
        seen.append((int(kwargs["B"]) if "B" in kwargs else int(args[8]), backed_by_memmap(y_chunk)))
        return real(*args, **kwargs)

    monkeypatch.setattr(fit_module, "run", run)
    return seen


def _cli(argv, out):
    with contextlib.redirect_stdout(io.StringIO()):
        code = main([*argv, "--model", "gaussian", "--out", str(out), "--quiet", "--no-progress"])
    assert code == 0
    return bf.load_result(out)


@pytest.mark.parametrize("source, extra", [
    ("contig.h5", []),
    ("packed.h5", ["--data-key", "spectra/counts"]),
    ("store.zarr", []),
    ("bare.zarr", ["--x", "x.npy"]),
])
def test_streams_in_budget_sized_chunks_from_a_memory_map(files, spy, monkeypatch, tmp_path, source, extra):
    d, y = files
    same = _cli([str(d / "y.npy"), "--x", str(d / "x.npy")], tmp_path / "npy.npz")  # the .npy route, in one piece
    ref = bf.models.GaussianModel()
    exact = ref.fit(y, ref.make_params(amplitude=2, center=0, sigma=1), x=X)
    spy.clear()
    monkeypatch.setattr(_stream, "BLOCK_BYTES", 5_000)  # spool in many small blocks
    monkeypatch.setenv(_memory.ENV_BUDGET, "90000")  # far below the data's 98 kB
    res = _cli([str(d / source), *[str(d / e) if e.endswith(".npy") else e for e in extra]],
               tmp_path / "out.npz")
    sizes = [b for b, _ in spy]
    assert len(sizes) > 10 and sum(sizes) == N
    assert all(mapped for _, mapped in spy)  # every chunk read from a map, never a whole copy
    np.testing.assert_array_equal(res.status, same.status)
    np.testing.assert_array_equal(res.nfev, same.nfev)
    assert np.all(res.success == exact.success)
    for n in ("amplitude", "center", "sigma"):
        np.testing.assert_allclose(res.params[n].value, same.params[n].value, rtol=1e-12)
        # and the optimum an independent in-memory fit from other starts reaches
        assert np.max(np.abs(res.params[n].value - exact.params[n].value) / exact.params[n].stderr) < 1e-4


def test_contiguous_hdf5_maps_the_file_itself_and_compressed_data_spools(files):
    d, y = files
    with h5py.File(d / "contig.h5", "r") as f:
        a = _stream.h5_array(f, "data", str(d / "contig.h5"))
    assert isinstance(a, np.memmap) and a.filename == str(d / "contig.h5") and not a.flags.writeable
    np.testing.assert_array_equal(a, y)
    with h5py.File(d / "packed.h5", "r") as f:
        b = _stream.h5_array(f, "spectra/counts", str(d / "packed.h5"))
    assert backed_by_memmap(b) and not b.flags.writeable and b.filename.startswith(_stream._spool_dir())
    np.testing.assert_array_equal(b, y)
    assert _stream.zarr_names(str(d / "store.zarr")) == ["data", "x"]


def _error(argv, capsys):
    code = main([*argv, "--model", "gaussian"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    return err


def test_unreadable_stores_and_non_numeric_arrays_get_clear_errors(files, tmp_path, capsys):
    assert "data file" in _error([str(tmp_path / "missing.zarr")], capsys)
    (tmp_path / "junk.zarr").mkdir()
    err = _error([str(tmp_path / "junk.zarr")], capsys)
    assert "junk.zarr" in err and "Zarr" in err
    with h5py.File(tmp_path / "text.h5", "w") as f:
        f["data"] = np.array([b"a", b"b"])
    assert "text.h5['data']: expected numbers" in _error([str(tmp_path / "text.h5")], capsys)
