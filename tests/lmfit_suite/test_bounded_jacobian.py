# Ported from lmfit 1.3.4, tests/test_bounded_jacobian.py (rewritten for
# batchfit: `lmfit` -> `batchfit`, `np` -> `jnp` inside the objective).
# batchfit's Jacobians are exact (autodiff): a user Jacobian (`Dfun=`) is
# accepted and never called, so lmfit's `jac_count > 5` after the fit with
# `Dfun=jac` is left out (the count stays 0); the fitted values are checked.
# Left out: test_bounded_jacobian_CG (method='CG' is not claimed).
import jax.numpy as jnp
import numpy as np
from numpy.testing import assert_allclose

from batchfit import Parameters, minimize


def test_bounded_jacobian():
    pars = Parameters()
    pars.add('x0', value=2.0)
    pars.add('x1', value=2.0, min=1.5)

    global jac_count

    jac_count = 0

    def resid(params):
        x0 = params['x0']
        x1 = params['x1']
        return jnp.array([10 * (x1 - x0*x0), 1-x0])

    def jac(params):
        global jac_count
        jac_count += 1
        x0 = params['x0']
        return np.array([[-20*x0, 10], [-1, 0]])

    out0 = minimize(resid, pars, Dfun=None)

    assert_allclose(out0.params['x0'], 1.2243, rtol=1.0e-4)
    assert_allclose(out0.params['x1'], 1.5000, rtol=1.0e-4)
    assert jac_count == 0

    out1 = minimize(resid, pars, Dfun=jac)

    assert_allclose(out1.params['x0'], 1.2243, rtol=1.0e-4)
    assert_allclose(out1.params['x1'], 1.5000, rtol=1.0e-4)
