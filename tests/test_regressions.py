"""Regression tests for bugs found by the first test sweep (all fixed)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import batchfit.engine._run as _fit_module
from batchfit import Model, create_params, minimize

X = np.linspace(0.0, 1.0, 10)


def const(x, c):
    return c + 0.0 * x


def line(x, slope, intercept):
    return slope * x + intercept


@pytest.fixture
def no_solve(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("the solver was reached: the error was not raised before compiling")

    monkeypatch.setattr(_fit_module, "solve", boom)


# ---------------------------------------------------------------------------
# FIXED 1 (solver): an exact (noise-free) fit with a bounded parameter ends
# with status STALLED (success=False) although the parameters are exact:
# chi2 reaches its round-off floor (~1e-30, not exactly 0), no step can
# reduce it further, lambda overflows, and that is reported as a failure.
# ---------------------------------------------------------------------------
def test_noise_free_two_sided_bound_start_on_bound_is_success():
    y = np.full(10, 3.0)
    res = Model(const).fit(y, create_params(c={"value": 0.0, "min": 0.0, "max": 10.0}), x=X)
    np.testing.assert_allclose(res.params["c"].value, 3.0, rtol=1e-9)  # passes
    assert res.success, res.message  # fails: STALLED


def test_noise_free_bounded_line_is_success():
    x = np.linspace(-1.0, 1.0, 9)
    y = 1.5 * x + 0.75

    def resid(p, x, y):
        return p["a"] * x + p["b"] - y

    res = minimize(resid, create_params(a={"value": 3.0, "max": 4.0}, b=0.5), args=(x, y))
    np.testing.assert_allclose([res.params["a"].value, res.params["b"].value], [1.5, 0.75], rtol=1e-9)
    assert res.success, res.message  # fails: STALLED


# ---------------------------------------------------------------------------
# FIXED 2 (_fit.check_residual / _problem.model_residual): a Model whose
# function returns integers is not rejected. The dtype check runs on
# ``func(...) - y``, which is already float, so the fit compiles, runs,
# reports success and returns the start values unchanged.
# ---------------------------------------------------------------------------
def int_model(x, slope, intercept):
    return jnp.round(slope * x + intercept).astype(jnp.int32)


def test_model_returning_int_rejected(no_solve):
    with pytest.raises(TypeError, match="Model 'int_model'.*real floating"):
        Model(int_model).fit(2 * X + 1, create_params(slope=1.0, intercept=0.0), x=X)


# ---------------------------------------------------------------------------
# FIXED 3 (_fit.check_residual): the error raised by a failing model is
# re-created with ``type(err)(message)``. Exceptions whose constructor takes
# other arguments break that: the user gets an unrelated error that names
# neither the model nor the original message. The most common case is JAX's
# own: Python control flow on a parameter (``if a > 0``) or np.asarray on it.
# ---------------------------------------------------------------------------
class TwoArgError(Exception):
    def __init__(self, code, detail):
        super().__init__(f"code {code}: {detail}")


def two_arg_model(x, slope, intercept):
    raise TwoArgError(7, "custom detail")


def branching_model(x, slope, intercept):
    if slope > 0:  # not traceable
        return slope * x + intercept
    return intercept + 0 * x


def numpy_model(x, slope, intercept):
    return np.asarray(slope) * x + intercept


@pytest.mark.parametrize("func,original", [
    (two_arg_model, "custom detail"),
    (branching_model, "TracerBoolConversionError"),
    (numpy_model, "TracerArrayConversionError"),
])
def test_model_error_wrapping_keeps_name_and_message(no_solve, func, original):
    # today: TypeError "__init__() missing 1 required positional argument" and
    # AttributeError "'str' object has no attribute '_error_repr'"
    with pytest.raises(Exception) as info:
        Model(func).fit(2 * X + 1, create_params(slope=1.0, intercept=0.0), x=X)
    text = f"{type(info.value).__name__}: {info.value} (cause: {info.value.__cause__!r})"
    assert f"Model '{func.__name__}'" in text
    assert original in text or original in repr(info.value.__cause__)
