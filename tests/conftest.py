import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

# batchfit turns on JAX's persistent compilation cache when imported (in the
# user's cache folder by default): the suite, and every process it starts,
# runs without it. tests/test_cache.py tests the policy in subprocesses.
os.environ["BATCHFIT_CACHE_DIR"] = "off"

SHARED = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "shared"))


@pytest.fixture(scope="session")
def shared_dir():
    if not os.path.isdir(os.path.join(SHARED, "nist_strd")):
        pytest.fail(f"../shared/nist_strd not found at {SHARED}")
    return SHARED


@pytest.fixture(scope="module", autouse=True)
def _release_compiled_code():
    """Drop JAX's compiled executables after each test module: one process
    compiling thousands of programs otherwise accumulates their code
    mappings (a segfault in XLA's compiler was seen near the kernel's
    vm.max_map_count during the full suite)."""
    yield
    import gc

    import jax

    jax.clear_caches()
    gc.collect()


@pytest.fixture
def no_solve(monkeypatch):
    """Fail the test if the solver (and so any compilation) is reached."""
    import batchfit.engine._run as run_module

    def boom(*args, **kwargs):
        raise AssertionError("the solver was reached: the error was not raised before compiling")

    monkeypatch.setattr(run_module, "solve", boom)
