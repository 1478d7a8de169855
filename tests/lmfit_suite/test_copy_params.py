# Ported from lmfit 1.3.4, tests/test_copy_params.py (rewritten for batchfit:
# `lmfit` -> `batchfit`, `np` -> `jnp` in the objective); seeded noise.
import jax.numpy as jnp
import numpy as np

from batchfit import Parameters, minimize


def get_data():
    rng = np.random.default_rng(7)
    x = np.arange(0, 1, 0.01)
    y1 = 1.5 * np.exp(0.9 * x) + rng.normal(scale=0.001, size=len(x))
    y2 = 2.0 + x + 1 / 2. * x**2 + 1 / 3. * x**3
    y2 = y2 + rng.normal(scale=0.001, size=len(x))
    return x, y1, y2


def residual(params, x, data):
    model = params['a'] * jnp.exp(params['b'] * x)
    return data - model


def test_copy_params():
    x, y1, y2 = get_data()
    params = Parameters()
    params.add('a', value=2.0)
    params.add('b', value=2.0)
    out1 = minimize(residual, params, args=(x, y1))
    out2 = minimize(residual, params, args=(x, y2))
    assert abs(out1.params['a'].value - out2.params['a'].value) > 1.e-2
    assert abs(out1.params['b'].value - out2.params['b'].value) > 1.e-2
