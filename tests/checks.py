"""Shared by the error tests: a straight-line problem and a message check
(the solver tripwire ``no_solve`` is a fixture in conftest.py)."""

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
