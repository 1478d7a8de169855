"""The persistent compilation cache policy (``batchfit._cache``), each case in
a fresh process: it is applied once, when batchfit is imported."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")

# Imports batchfit, optionally fits (FIT) or runs `batchfit fit` (CLI), and
# prints what the policy did, jax's cache settings and the cache requests/hits.
PROBE = r"""
import json, os, sys, warnings
warnings.simplefilter("error")
import jax
if os.environ.get("PRESET_DIR"):
    jax.config.update("jax_compilation_cache_dir", os.environ["PRESET_DIR"])
events = {"requests": 0, "hits": 0}
def on_event(name, **_):
    if name == "/jax/compilation_cache/compile_requests_use_cache":
        events["requests"] += 1
    elif name == "/jax/compilation_cache/cache_hits":
        events["hits"] += 1
jax.monitoring.register_event_listener(on_event)
import batchfit as bf
what = sys.argv[1]
if what == "fit":
    import jax.numpy as jnp
    import numpy as np
    x = np.linspace(0, 1, 20)
    p = bf.Parameters()
    p.add("a", 1.0, min=0)
    p.add("b", 0.5)
    r = bf.minimize(lambda p, x, y: y - p["a"] * jnp.exp(-p["b"] * x), p, args=(x, 2 * np.exp(-x)))
    assert r.success and abs(r.params["a"].value - 2) < 1e-6, r.params
elif what == "cli":
    from batchfit.__main__ import main
    assert main(sys.argv[2:]) in (0, None)
print("PROBE" + json.dumps({"state": bf._cache.STATE, **events, "optax": "optax" in sys.modules,
    "dir": jax.config.jax_compilation_cache_dir,
    "min_time": jax.config.jax_persistent_cache_min_compile_time_secs}))
"""


def probe(*argv, **env):
    full = {k: v for k, v in os.environ.items()
            if k not in ("BATCHFIT_CACHE_DIR", "JAX_COMPILATION_CACHE_DIR")}
    full.update(PYTHONPATH=SRC, JAX_PLATFORMS="cpu", **env)
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], check=False, capture_output=True,
                          text=True, env=full, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "Warning" not in proc.stderr, proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("PROBE")][-1]
    return json.loads(line[len("PROBE"):])


def entries(path):
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


@pytest.mark.parametrize("value", ["off", "OFF", "0", ""])
def test_off_disables_the_cache(tmp_path, value):
    out = probe("import", BATCHFIT_CACHE_DIR=value, XDG_CACHE_HOME=str(tmp_path))
    assert out["state"] == "off" and out["dir"] is None
    assert entries(tmp_path) == []


def test_default_is_the_user_cache_folder_with_versions(tmp_path):
    if sys.platform in ("win32", "darwin"):
        pytest.skip("XDG_CACHE_HOME is the Linux convention")
    import jax

    import batchfit

    out = probe("import", XDG_CACHE_HOME=str(tmp_path))
    want = tmp_path / "batchfit" / f"jax-{jax.__version__}-batchfit-{batchfit.__version__}"
    assert out["state"] == out["dir"] == str(want) and want.is_dir()
    assert out["min_time"] == 0  # small programs are cached too


def test_custom_dir_is_filled_and_a_second_cli_run_compiles_nothing(tmp_path):
    cache = tmp_path / "cache"
    x = np.linspace(-3, 3, 40)
    data = np.stack([a * np.exp(-((x - c) ** 2) / 2) + 0.01 * np.sin(7 * x)
                     for a, c in [(2, 0.1), (3, -0.2)]])
    np.savez(tmp_path / "d.npz", data=data, x=x)
    cli = ["cli", "fit", str(tmp_path / "d.npz"), "--model", "gaussian", "--quiet",
           "--out", str(tmp_path / "r.csv")]
    first = probe(*cli, BATCHFIT_CACHE_DIR=str(cache))
    assert first["state"] == first["dir"] == str(cache)
    made = entries(cache)
    assert made and first["requests"] > 0 and first["hits"] == 0
    second = probe(*cli, BATCHFIT_CACHE_DIR=str(cache))
    # every program of the second run comes from the cache: no compilation, no new entry
    assert second["requests"] == first["requests"] == second["hits"]
    assert entries(cache) == made


def test_unwritable_dir_falls_back_to_no_cache(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")  # a folder below a file cannot be made, even by root
    out = probe("fit", BATCHFIT_CACHE_DIR=str(blocker / "cache"))
    assert out["state"] == "unwritable" and out["dir"] is None and out["hits"] == 0
    assert blocker.read_text() == "not a folder"  # the fit ran, without error or warning


def test_a_cache_the_user_configured_is_left_alone(tmp_path):
    mine = str(tmp_path / "mine")
    out = probe("import", PRESET_DIR=mine, BATCHFIT_CACHE_DIR=str(tmp_path / "ours"))
    assert out["state"] == "user" and out["dir"] == mine and out["min_time"] == 1.0
    out = probe("import", JAX_COMPILATION_CACHE_DIR=mine, BATCHFIT_CACHE_DIR=str(tmp_path / "ours"))
    assert out["state"] == "user" and out["dir"] == mine and out["min_time"] == 1.0
    assert not (tmp_path / "ours").exists()


def test_a_least_squares_cold_start_does_not_import_optax(tmp_path):
    """optax (scalar methods only) is loaded on first use, not by ``import
    batchfit`` nor by a least-squares fit: a cold start pays for neither."""
    out = probe("fit", BATCHFIT_CACHE_DIR="off")
    assert out["optax"] is False
