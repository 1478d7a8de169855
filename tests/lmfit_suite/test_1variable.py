# Ported from lmfit 1.3.4, tests/test_1variable.py (rewritten for batchfit:
# `lmfit` -> `batchfit`).
import numpy as np
from numpy.testing import assert_allclose

import batchfit


def linear_chisq(params, x, data, errs=None):
    """Chi-square residuals of a straight line; checks it is given Parameters."""
    if not isinstance(params, batchfit.Parameters):
        raise TypeError("Params argument is not a batchfit parameter set")
    for name in ("m", "c"):
        if name not in params.keys():
            raise KeyError(f"No parameter ({name}) defined in the model")
    residuals = data - (params["m"] * x + params["c"])
    if errs is not None:
        residuals = residuals / errs
    return residuals


def test_1var():
    rands = [-0.21698284, 0.41900591, 0.02349374, -0.218552, -0.3513699,
             0.33418304, 0.04226855, 0.213303, 0.45948731, 0.33587736]
    x = np.arange(10) + 1
    y = np.arange(10) + 1 + np.array(rands)

    params = batchfit.Parameters()
    params.add(name="m", value=1.0, vary=True)
    params.add(name="c", value=0.0, vary=False)

    out = batchfit.minimize(linear_chisq, params, args=(x, y))

    # lmfit's leastsq updates `params` in place; the assertion is on the
    # fitted value, which batchfit returns in out.params (see README).
    assert_allclose(out.params["m"].value, 1.025, rtol=0.02, atol=0.02)
    assert len(params) == 2
    assert out.nvarys == 1
    assert 0.01 < out.chisqr < 5.00
