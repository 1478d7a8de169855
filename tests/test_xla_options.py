"""batchfit's XLA options (``solver/_xla.py``): on a CPU its programs compile
with the element-wise emitters; a user's ``XLA_FLAGS`` setting wins; an XLA
that refuses an option gets programs without it; answers do not change."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from batchfit.solver import _xla

SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")

FIT = r"""
import json, sys
import jax.numpy as jnp, numpy as np
import batchfit as bf
from batchfit.solver import _xla
rng = np.random.default_rng(3)
x = np.linspace(0, 2, 80)
t = np.column_stack([rng.uniform(5, 15, 40), rng.uniform(0.7, 1.3, 40), rng.uniform(0.1, 0.4, 40), rng.uniform(0, 5, 40)])
y = t[:, [0]] * np.exp(-(x - t[:, [1]]) ** 2 / (2 * t[:, [2]] ** 2)) + t[:, [3]] + rng.normal(0, 0.5, (40, 80))
m = bf.Model(lambda x, a, c, s, b: a * jnp.exp(-(x - c) ** 2 / (2 * s ** 2)) + b)
r = m.fit(y, m.make_params(a=10.0, c=1.0, s=0.25, b=2.0), x=x)
print("FIT" + json.dumps({"opts": [list(o) for o in _xla.compiler_options()],
    "values": np.column_stack([r.params[n].value for n in "acsb"]).tolist(),
    "stderr": np.column_stack([r.params[n].stderr for n in "acsb"]).tolist(),
    "success": r.success.tolist()}))
"""


def _fit(xla_flags):
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env.update(PYTHONPATH=SRC, JAX_PLATFORMS="cpu", BATCHFIT_CACHE_DIR="off")
    if xla_flags:
        env["XLA_FLAGS"] = xla_flags
    proc = subprocess.run([sys.executable, "-c", FIT], capture_output=True, text=True, env=env,
                          timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("FIT")][-1]
    return json.loads(line[3:])


def test_options_on_cpu_and_the_answers_do_not_change():
    ours = _fit(None)
    xla_default = _fit("--xla_cpu_use_fusion_emitters=true")  # the user's flag wins: XLA's default
    assert ours["opts"] == [["xla_cpu_use_fusion_emitters", False]]
    assert xla_default["opts"] == []
    assert all(ours["success"]) and all(xla_default["success"])
    v1, se, v2 = np.array(ours["values"]), np.array(ours["stderr"]), np.array(xla_default["values"])
    # the same optimum, in units of each fit's standard error (rounding only)
    assert np.max(np.abs(v1 - v2) / se) < 1e-6


def test_user_programs_are_untouched_and_a_refused_option_is_dropped(monkeypatch):
    if jax.default_backend() != "cpu":
        pytest.skip("the options apply on a CPU backend")
    assert dict(_xla.compiler_options()) == _xla.CPU_OPTIONS
    monkeypatch.setattr(_xla, "CPU_OPTIONS", {**_xla.CPU_OPTIONS, "xla_no_such_option_here": True})
    monkeypatch.setattr(_xla, "_REFUSED", [])
    _xla._decided.cache_clear()
    try:
        f = _xla.jit(lambda x: 2.0 * x + 1.0)
        assert "xla_no_such_option_here" in dict(_xla.compiler_options())
        assert float(f(np.float32(3.0))) == 7.0  # refused by XLA, compiled again without
        assert _xla._REFUSED and _xla.compiler_options() == ()
        assert float(_xla.jit(lambda x: x - 1.0)(np.float32(3.0))) == 2.0
        with pytest.raises(TypeError):  # a user's own error is not taken for a refusal
            _xla.jit(lambda x: x + "a")(np.float32(1.0))
    finally:
        _xla._decided.cache_clear()
