"""The documentation site: `mkdocs build --strict` succeeds, and every `>>>`
example on its pages runs and prints what the page says."""

import doctest
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", flags=re.DOTALL | re.MULTILINE)


def _python_blocks(page):
    return [body for lang, body in FENCE.findall((DOCS / page).read_text()) if lang == "python"]


def test_build_strict(tmp_path):
    try:
        import mkdocs  # noqa: F401
        import mkdocstrings  # noqa: F401
    except ImportError:
        pytest.skip("mkdocs / mkdocstrings not installed (pip install -e '.[docs]')")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]))
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
                         check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    api = (tmp_path / "api" / "ecosystem" / "index.html").read_text()
    assert "fit_dask" in api and "LazyFit" in api and "curvefit" in api  # generated from the docstrings
    fitting = (tmp_path / "api" / "fitting" / "index.html").read_text()
    assert "group_solver" in fitting and "absolute_sigma" in fitting
    example = (tmp_path / "examples" / "many_fits" / "index.html").read_text()
    assert "BATCHFIT_N" in example and "plot_batch" in example  # the script's code is on the page
    bench = (tmp_path / "benchmarks" / "index.html").read_text()
    # the README's benchmark table (between its snippet markers) is on the page: its first W1 figure
    readme = (ROOT / "README.md").read_text()
    w1 = re.search(r"\| W1: Gaussian \+ constant, 100 points \| N = 10,000 \| ([0-9,]+ fits/s)", readme)
    assert w1, "README's benchmark table lost its W1 row"
    assert w1.group(1) in bench and "2-core development VM" in bench


def test_every_python_block_is_a_doctest():
    """Code on the pages is either run here (>>> prompts) or included from a tested file."""
    for page in PAGES:
        for block in _python_blocks(page):
            assert block.lstrip().startswith((">>>", '--8<-- "examples/')), (page, block[:80])


@pytest.mark.parametrize("page", [p for p in PAGES if any(">>>" in b for b in _python_blocks(p))])
def test_page_examples_run(page):
    text = "\n".join(b for b in _python_blocks(page) if ">>>" in b)
    test = doctest.DocTestParser().get_doctest(text, {"__name__": "docs"}, page, page, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    out = []
    runner.run(test, out=out.append)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 3
    assert result.failed == 0, "".join(out)
