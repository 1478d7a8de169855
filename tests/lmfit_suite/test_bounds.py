# Ported from lmfit 1.3.4, tests/test_bounds.py (rewritten for batchfit:
# `lmfit` -> `batchfit`, numpy -> jax.numpy inside the objective).
import jax.numpy as jnp
import numpy as np
from numpy.testing import assert_allclose

from batchfit import Parameters, minimize


def residual(pars, x, data=None):
    amp, per = pars["amp"], pars["period"]
    shift, decay = pars["shift"], pars["decay"]
    # lmfit's test writes `if abs(shift) > pi/2: shift -= sign(shift)*pi`, a
    # Python branch on a value; a traced objective writes it with jnp.where.
    # (the data below are made from p_true's values: jnp functions take numbers, not Parameters)
    shift = jnp.where(jnp.abs(shift) > jnp.pi / 2, shift - jnp.sign(shift) * jnp.pi, shift)
    model = amp * jnp.sin(shift + x / per) * jnp.exp(-x * x * decay * decay)
    if data is None:
        return model
    return model - data


def test_bounds():
    p_true = Parameters()
    p_true.add("amp", value=14.0)
    p_true.add("period", value=5.4321)
    p_true.add("shift", value=0.12345)
    p_true.add("decay", value=0.01000)

    n = 1500
    x = np.linspace(0.0, 250.0, n)
    noise = np.random.RandomState(0).normal(scale=2.80, size=n)
    data = np.asarray(residual(p_true.valuesdict(), x)) + noise

    fit_params = Parameters()
    fit_params.add("amp", value=13.0, max=20, min=0.0)
    fit_params.add("period", value=2, max=10)
    fit_params.add("shift", value=0.0, max=np.pi / 2.0, min=-np.pi / 2.0)
    fit_params.add("decay", value=0.02, max=0.10, min=0.00)

    out = minimize(residual, fit_params, args=(x,), kws={"data": data})

    assert out.nfev > 10
    assert out.nfree > 50
    assert out.chisqr > 1.0
    assert_allclose(out.params["decay"], 0.01, rtol=2.0e-2)
    assert_allclose(out.params["shift"], 0.123, rtol=2.0e-2)
