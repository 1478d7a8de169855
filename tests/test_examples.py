"""The examples run end to end and produce what they promise."""

import importlib.util
import os

import numpy as np

from batchfit.data import ANTOINE_BEST

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")


def _load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_simultaneous_fit_example(tmp_path, capsys):
    out = tmp_path / "fit.png"
    res = _load("simultaneous_fit").main(str(out))
    assert res.success and res.nvarys == 5 and res.ndata == 300
    assert out.stat().st_size > 10_000
    import matplotlib.image as mpimg

    assert mpimg.imread(str(out)).shape[:2] == (600, 700)
    assert "[[Correlations]]" in capsys.readouterr().out


def test_antoine_example():
    results = _load("antoine_lm_vs_gn").main()
    lm, gn = results["leastsq"], results["gauss_newton"]
    assert lm.success.all()
    for n, best in zip("ABC", ANTOINE_BEST):
        np.testing.assert_allclose(lm.params[n].value, best, rtol=5e-7)
    assert list(gn.success) == [False, False, True]


def test_demo_cli_runs(capsys, monkeypatch):
    from batchfit import __main__ as cli
    from batchfit import demo

    full = demo.batch
    monkeypatch.setattr(demo, "batch", lambda n=10_000, seed=0: full(200, seed))
    assert cli.main(["demo"]) == 0
    text = capsys.readouterr().out
    assert "Use case 1" in text and "OK   A=7.13144455" in text and "[[Batch Summary]]" in text
    assert "# fits             = 200" in text
