"""conf_interval2d against lmfit's on the same problem (a refitted third
parameter, and none left to refit)."""
import numpy as np
import pytest

import batchfit as bf

lmfit = pytest.importorskip("lmfit")


def _data():
    x = np.linspace(0.3, 10, 100)
    y = 1.0 / (0.1 * x) + 2.0 + 0.1 * np.random.default_rng(0).normal(size=x.size)
    return x, y


def residual3(params, x, data):
    return data - (1.0 / (params['a'] * x) + params['b'] + params['c'] * x)


def residual2(params, x, data):
    return data - (1.0 / (params['a'] * x) + params['b'])


@pytest.mark.parametrize("fcn, names", [(residual3, "abc"), (residual2, "ab")])
def test_conf_interval2d_matches_lmfit(fcn, names):
    x, y = _data()
    grids = []
    for lib in (lmfit, bf):
        p = lib.Parameters()
        p.add_many(*[(n, v) for n, v in zip(names, (0.1, 1.0, 0.1))])
        m = lib.Minimizer(fcn, p, fcn_args=(x, y))
        out = m.leastsq()
        lim = ((0.102, 0.097), (2.1, 1.8))
        grids.append(lib.conf_interval2d(m, out, 'a', 'b', 4, 3, limits=lim))
    for a, b in zip(*grids):
        np.testing.assert_allclose(b, a, rtol=1e-4)
    assert grids[1][2].shape == (3, 4)
