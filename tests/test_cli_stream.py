"""``batchfit fit`` on a .npy file larger than the memory budget (issue 14):
the file is memory-mapped and streams through the fit in chunks, with the
result of the fit in one piece."""

from __future__ import annotations

import contextlib
import io
import os

import numpy as np
import pytest

import batchfit as bf
import batchfit.engine._run as fit_module
from batchfit.cli._run import main
from batchfit.engine import _memory
from checks import backed_by_memmap, gaussian_rows

M, N = 61, 200
X = np.linspace(-4.0, 4.0, M)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("stream")
    y = gaussian_rows(X, N, seed=1414)
    np.save(d / "y.npy", y)
    np.save(d / "x.npy", X)
    return d, y


def _cli(d, out):
    with contextlib.redirect_stdout(io.StringIO()):
        code = main([str(d / "y.npy"), "--model", "gaussian", "--x", str(d / "x.npy"),
                     "--out", str(out), "--quiet", "--no-progress"])
    assert code == 0
    return bf.load_result(out)



def test_npy_larger_than_the_budget_streams_with_the_unchunked_result(files, monkeypatch, tmp_path):
    d, y = files
    chunks, mapped = [], []
    real = fit_module.run

    def spy(*args, **kwargs):
        chunks.append(int(kwargs["B"]) if "B" in kwargs else int(args[8]))
        y_chunk = (kwargs["per_fit"] if "per_fit" in kwargs else args[5])["data"]["y"]
        mapped.append(backed_by_memmap(y_chunk))
        return real(*args, **kwargs)

    monkeypatch.setattr(fit_module, "run", spy)
    whole = _cli(d, tmp_path / "whole.npz")
    assert chunks == [N] and mapped == [True]  # small enough for the real budget: one piece, no copy

    budget = 90_000
    assert os.path.getsize(d / "y.npy") > budget  # the file does not fit the budget
    monkeypatch.setenv(_memory.ENV_BUDGET, str(budget))
    chunks.clear()
    mapped.clear()
    streamed = _cli(d, tmp_path / "streamed.npz")
    assert len(chunks) > 10 and sum(chunks) == N and len(set(chunks[:-1])) == 1
    assert all(mapped)  # every chunk read from the mapped file, not from a copy of it
    assert chunks[0] * _memory.bytes_per_fit(
        {"y": y}, N, M, 3, 8) <= budget  # each chunk's planned working set within the budget

    np.testing.assert_array_equal(streamed.status, whole.status)
    np.testing.assert_array_equal(streamed.nfev, whole.nfev)
    for n in ("amplitude", "center", "sigma"):
        np.testing.assert_allclose(streamed.params[n].value, whole.params[n].value, rtol=1e-12)
        np.testing.assert_allclose(streamed.params[n].stderr, whole.params[n].stderr, rtol=1e-9)
    np.testing.assert_array_equal(streamed.data, y)  # the data, as read, unmodified
    assert np.isfinite(streamed.best_fit).all()
    np.testing.assert_allclose(streamed.best_fit, whole.best_fit, rtol=1e-10, atol=1e-12)


def test_npy_input_is_never_written(files, tmp_path):
    d, y = files
    before = (d / "y.npy").read_bytes()
    _cli(d, tmp_path / "r.npz")
    assert (d / "y.npy").read_bytes() == before
    np.testing.assert_array_equal(np.load(d / "y.npy"), y)


@pytest.mark.parametrize("model", ["gaussian", "gaussian+constant", "lorentzian+linear"])
def test_guess_in_blocks_equals_one_guess(files, monkeypatch, model):
    """The CLI guesses big inputs in blocks of datasets (bounded memory): the
    starts are those of one guess over every dataset."""
    from batchfit.cli import _starts
    from batchfit.cli._args import build_model

    _, y = files
    mdl = build_model(model)
    whole = _starts._robust_guess(mdl, y, X)
    monkeypatch.setattr(_starts, "GUESS_ROWS", 37)  # 200 datasets: 6 blocks, the last of 15
    blocks = _starts._guess_in_blocks(mdl, y, X)
    assert blocks is not None and list(blocks) == list(whole)
    for name in whole:
        for field in ("value", "min", "max"):
            a, b = getattr(blocks[name], field), getattr(whole[name], field)
            if a is None or b is None:
                assert a is None and b is None, f"{model} {name}.{field}"
                continue
            # equal to rounding: numpy's vectorised reductions may round differently per block size
            np.testing.assert_allclose(np.broadcast_to(np.asarray(a, float), (N,)),
                                       np.broadcast_to(np.asarray(b, float), (N,)),
                                       rtol=1e-14, atol=0, err_msg=f"{model} {name}.{field}")
        assert blocks[name].vary == whole[name].vary and blocks[name].expr == whole[name].expr
    y_nan = y.copy()
    y_nan[50, :58] = np.nan  # a short dataset: its start is the others' median, so one whole guess
    assert _starts._guess_in_blocks(mdl, y_nan, X) is None
