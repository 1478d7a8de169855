"""Shared by the tests: a straight-line problem and a message check for the
error tests (the solver tripwire ``no_solve`` is a fixture in conftest.py),
the noisy Gaussians and memory-map check of the streaming tests, and
lmfit's fit of a use-case-1 group."""

import re

import numpy as np
import pytest

from batchfit import Model


def raises(exc, *fragments):
    """pytest.raises whose message must contain every fragment literally."""
    return pytest.raises(exc, match="(?s)" + "".join(f"(?=.*{re.escape(f)})" for f in fragments))


M = 8
X = np.linspace(0.0, 1.0, M)
Y = 2.0 * X + 1.0


def line(x, slope, intercept):
    return slope * x + intercept


LINE = Model(line)


def gaussian_rows(x, n, seed):
    """``n`` seeded noisy unit-area Gaussians on ``x``, shape (n, x.size)."""
    rng = np.random.default_rng(seed)
    amp, cen, sig = rng.uniform(1, 3, n), rng.uniform(-1, 1, n), rng.uniform(0.5, 1.2, n)
    return amp[:, None] / (sig[:, None] * np.sqrt(2 * np.pi)) * np.exp(
        -((x - cen[:, None]) ** 2) / (2 * sig[:, None] ** 2)) + rng.normal(0, 0.02, (n, x.size))


def backed_by_memmap(a):
    """Whether ``a`` is, or is a view of, a numpy memory map."""
    while a is not None:
        if isinstance(a, np.memmap):
            return True
        a = getattr(a, "base", None)
    return False


def lmfit_group(x, y):
    """lmfit's minimize of a use-case-1 group (two Gaussians sharing cen,
    sigma and amp, one constant each) from use case 1's starts."""
    import lmfit

    lp = lmfit.Parameters()
    lp.add("cen", 0.5, min=0, max=2)
    lp.add("sigma", 1, min=0, max=10)
    lp.add("amp", 1, min=0, max=100)
    lp.add("c0", 0, min=0, max=100)
    lp.add("c1", 0, min=0, max=100)

    def resid(p):
        f = p["amp"] * np.exp(-((x - p["cen"]) ** 2) / (2 * p["sigma"] ** 2))
        return np.concatenate([f + p["c0"] - y[0], f + p["c1"] - y[1]])

    return lmfit.minimize(resid, lp)
