# Ported from lmfit 1.3.4, tests/test_basicfit.py (rewritten for batchfit:
# `lmfit` -> `batchfit`, `np` -> `jnp` inside the objective, seeded noise).
import jax.numpy as jnp
import numpy as np
from numpy.testing import assert_allclose

from batchfit import Parameters, minimize


def test_basic():
    x = np.linspace(0, 15, 301)
    rng = np.random.default_rng(0)
    data = 5.0 * np.sin(2 * x - 0.1) * np.exp(-x * x * 0.025) + rng.normal(size=x.size, scale=0.2)

    def fcn2min(params, x, data):
        amp, shift = params["amp"], params["shift"]
        omega, decay = params["omega"], params["decay"]
        return amp * jnp.sin(x * omega + shift) * jnp.exp(-x * x * decay) - data

    params = Parameters()
    params.add("amp", value=10, min=0)
    params.add("decay", value=0.1)
    params.add("shift", value=0.0, min=-np.pi / 2.0, max=np.pi / 2)
    params.add("omega", value=3.0)

    result = minimize(fcn2min, params, args=(x, data))

    assert 5 < result.nfev < 500
    assert result.chisqr > 1
    assert result.nvarys == 4
    assert_allclose(result.params["amp"], 5.03, rtol=0.05)
    assert_allclose(result.params["omega"], 2.0, rtol=0.05)
