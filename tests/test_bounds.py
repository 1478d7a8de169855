"""Bound transforms (lmfit/MINUIT): round trips, derivatives, nudging off bounds."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from batchfit import Model, Parameters, create_params, minimize
from batchfit.params._bounds import BOUND_NUDGE, to_external, to_internal
from batchfit.problem._compat import x64_context

INF = np.inf
RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def _x64():
    with x64_context(np.float64):
        yield


_to_external_jit = jax.jit(to_external)
_dext_jit = jax.jit(jax.vmap(jax.grad(to_external)))


def ext(u, lo, hi):
    u, lo, hi = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (u, lo, hi)))
    return np.asarray(_to_external_jit(u, lo, hi))


def dext_closed_form(u, lo, hi):
    u, lo, hi = np.broadcast_arrays(*(np.asarray(a, dtype=float) for a in (u, lo, hi)))
    both = np.cos(u) * (np.where(np.isfinite(hi), hi, 0) - np.where(np.isfinite(lo), lo, 0)) / 2
    lower = u / np.sqrt(u**2 + 1)
    return np.where(np.isfinite(lo) & np.isfinite(hi), both,
                    np.where(np.isfinite(lo), lower, np.where(np.isfinite(hi), -lower, 1.0)))


def dext_jax(u, lo, hi):
    u, lo, hi = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (u, lo, hi)))
    return np.asarray(_dext_jit(u.ravel(), lo.ravel(), hi.ravel())).reshape(u.shape)


CASES = {
    "two_sided": (-2.0, 5.0),
    "two_sided_narrow": (1.0, 1.0 + 1e-3),
    "lower_only": (-1.5, INF),
    "upper_only": (-INF, 4.0),
    "none": (-INF, INF),
}


def _values_inside(lo, hi, n=9):
    a = lo if np.isfinite(lo) else (hi - 20.0 if np.isfinite(hi) else -20.0)
    b = hi if np.isfinite(hi) else a + 40.0
    # strictly inside: stay away from the bounds by 1e-6 of the width
    w = b - a
    return np.sort(RNG.uniform(a + 1e-6 * w, b - 1e-6 * w, size=n))


# --------------------------------------------------------------------------
# round trips
# --------------------------------------------------------------------------
@pytest.mark.parametrize("lo,hi", list(CASES.values()), ids=list(CASES))
def test_round_trip_external(lo, hi):
    v = _values_inside(lo, hi)
    u = to_internal(v, lo, hi)
    assert u.shape == v.shape and np.all(np.isfinite(u))
    back = ext(u, np.full_like(v, lo), np.full_like(v, hi))
    width = (hi - lo) if np.isfinite(hi - lo) else 1.0
    np.testing.assert_allclose(back, v, rtol=1e-12, atol=1e-9 * width)


@pytest.mark.parametrize("lo,hi", list(CASES.values()), ids=list(CASES))
def test_round_trip_internal(lo, hi):
    # the inverse on each branch's principal range
    if np.isfinite(lo) and np.isfinite(hi):
        u = RNG.uniform(-np.pi / 2 + 0.01, np.pi / 2 - 0.01, size=9)
    elif np.isfinite(lo) or np.isfinite(hi):
        u = RNG.uniform(0.01, 30.0, size=9)
    else:
        u = RNG.uniform(-30.0, 30.0, size=9)
    v = ext(u, np.full_like(u, lo), np.full_like(u, hi))
    np.testing.assert_allclose(to_internal(v, lo, hi), u, rtol=1e-7, atol=1e-7)


def test_closed_form_values():
    u = np.array([0.3, 1.2, -0.7, 2.0])
    lo = np.array([-1.0, 2.0, -INF, -INF])
    hi = np.array([3.0, INF, 5.0, INF])
    want = [
        -1.0 + (np.sin(0.3) + 1) * 4.0 / 2,
        2.0 - 1.0 + np.sqrt(1.2**2 + 1),
        5.0 + 1.0 - np.sqrt(0.7**2 + 1),
        2.0,
    ]
    np.testing.assert_allclose(ext(u, lo, hi), want, rtol=1e-14)


def test_mixed_bounds_per_element():
    lo = np.array([0.0, -INF, 2.0, -INF, -3.0, 10.0])
    hi = np.array([1.0, 7.0, INF, INF, -1.0, 1e6])
    v = np.array([0.25, -100.0, 2.5, -42.0, -2.999, 5e5])
    u = to_internal(v, lo, hi)
    # same as transforming each element alone
    for i in range(v.size):
        np.testing.assert_allclose(u[i], to_internal(v[i], lo[i], hi[i]), rtol=1e-15)
    np.testing.assert_allclose(ext(u, lo, hi), v, rtol=1e-11)
    # external values always respect the bounds, for any internal value
    uu = RNG.normal(scale=10.0, size=(200, v.size))
    vv = ext(uu, np.broadcast_to(lo, uu.shape), np.broadcast_to(hi, uu.shape))
    assert np.all(vv >= lo) and np.all(vv <= hi)


def test_to_internal_broadcasts_scalar_bounds():
    v = np.array([0.5, 1.0, 2.0])
    u = to_internal(v, 0.0, 4.0)
    np.testing.assert_allclose(u, np.arcsin(2 * v / 4.0 - 1), rtol=1e-14)
    u = to_internal(v, 0.0, INF)
    np.testing.assert_allclose(u, np.sqrt((v + 1) ** 2 - 1), rtol=1e-14)
    u = to_internal(v, -INF, 3.0)
    np.testing.assert_allclose(u, np.sqrt((3.0 - v + 1) ** 2 - 1), rtol=1e-14)
    np.testing.assert_array_equal(to_internal(v, -INF, INF), v)


def test_to_internal_does_not_modify_inputs():
    v = np.array([0.0, 0.5, 1.0])
    lo = np.zeros(3)
    hi = np.ones(3)
    keep = [v.copy(), lo.copy(), hi.copy()]
    to_internal(v, lo, hi)
    for a, b in zip((v, lo, hi), keep):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------
# derivatives
# --------------------------------------------------------------------------
@pytest.mark.parametrize("lo,hi", list(CASES.values()), ids=list(CASES))
def test_derivative_closed_form_and_jax_grad(lo, hi):
    u = RNG.uniform(-3.0, 3.0, size=11)
    lo_a, hi_a = np.full_like(u, lo), np.full_like(u, hi)
    d_jax = dext_jax(u, lo_a, hi_a)
    d_ref = dext_closed_form(u, lo_a, hi_a)
    assert np.all(np.isfinite(d_jax))
    np.testing.assert_allclose(d_jax, d_ref, rtol=1e-12, atol=1e-300)
    # and a central finite difference of to_external itself
    h = 1e-6
    fd = (ext(u + h, lo_a, hi_a) - ext(u - h, lo_a, hi_a)) / (2 * h)
    scale = max(1.0, (hi - lo) if np.isfinite(hi - lo) else 1.0)
    np.testing.assert_allclose(fd, d_ref, rtol=1e-6, atol=1e-8 * scale)


def test_derivative_mixed_bounds_vs_closed_form():
    lo = np.array([0.0, -INF, 2.0, -INF, -3.0])
    hi = np.array([1.0, 7.0, INF, INF, 8.0])
    u = np.array([0.4, -1.3, 2.2, 0.9, -1.0])
    want = [np.cos(0.4) * 0.5, 1.3 / np.sqrt(1.3**2 + 1), 2.2 / np.sqrt(2.2**2 + 1), 1.0,
            np.cos(-1.0) * 11 / 2]
    np.testing.assert_allclose(dext_jax(u, lo, hi), want, rtol=1e-13)


def test_jacobian_is_diagonal_and_finite_with_infinite_bounds():
    lo = np.array([0.0, -INF, 2.0, -INF])
    hi = np.array([1.0, 7.0, INF, INF])
    u = jnp.asarray([0.4, 1.3, 2.2, 0.9])
    J = np.asarray(jax.jacfwd(to_external)(u, jnp.asarray(lo), jnp.asarray(hi)))
    assert np.all(np.isfinite(J))
    np.testing.assert_allclose(J, np.diag(dext_closed_form(np.asarray(u), lo, hi)), rtol=1e-13)


# --------------------------------------------------------------------------
# start exactly on a bound is nudged
# --------------------------------------------------------------------------
@pytest.mark.parametrize(
    "v,lo,hi,u_want",
    [
        (0.0, 0.0, 10.0, -np.pi / 2 + BOUND_NUDGE),
        (10.0, 0.0, 10.0, np.pi / 2 - BOUND_NUDGE),
        (0.0, 0.0, INF, BOUND_NUDGE),
        (-5.0, -INF, -5.0, BOUND_NUDGE),
        (1e-14, 0.0, INF, BOUND_NUDGE),
    ],
    ids=["two_sided_low", "two_sided_high", "lower_only", "upper_only", "lower_almost"],
)
def test_start_on_bound_nudged(v, lo, hi, u_want):
    u = to_internal(v, lo, hi)
    np.testing.assert_allclose(u, u_want, rtol=1e-12)
    d = dext_jax(np.atleast_1d(u), np.atleast_1d(lo), np.atleast_1d(hi))[0]
    d_ref = dext_closed_form(u, lo, hi)
    np.testing.assert_allclose(d, d_ref, rtol=1e-10)
    assert abs(d) > 1e-4 * (hi - lo if np.isfinite(hi - lo) else 1.0)
    # the nudged external value is still inside the bounds and very close to the start
    back = float(ext(np.atleast_1d(u), np.atleast_1d(lo), np.atleast_1d(hi))[0])
    assert lo <= back <= hi
    width = (hi - lo) if np.isfinite(hi - lo) else 1.0
    assert abs(back - v) <= 1e-6 * width


def test_no_nudge_for_unbounded_zero():
    np.testing.assert_array_equal(to_internal(np.array([0.0]), -INF, INF), [0.0])


# --------------------------------------------------------------------------
# fits that start on a bound
# --------------------------------------------------------------------------
def const(x, c):
    return c + 0.0 * x


X = np.linspace(0.0, 1.0, 10)


def test_model_fit_leaves_lower_bound():
    y = np.full(10, 3.0)  # noise-free, best c = mean(y) = 3
    params = create_params(c={"value": 0.0, "min": 0.0})
    res = Model(const).fit(y, params, x=X)
    assert res.success
    np.testing.assert_allclose(res.params["c"].value, 3.0, rtol=1e-9)
    assert res.params["c"].init_value == 0.0
    assert res.chisqr < 1e-16


def test_model_fit_batch_on_bounds_of_each_kind():
    # per-fit bounds of different kinds in one batch; each start sits on its bound
    rng = np.random.default_rng(3)
    true = np.array([3.0, -2.0, 1.5])
    Y = true[:, None] + 0.01 * rng.standard_normal((3, 10))
    params = Parameters()
    params.add("c", value=np.array([0.0, 5.0, 0.0]), min=np.array([0.0, -INF, -INF]),
               max=np.array([INF, 5.0, INF]))
    res = Model(const).fit(Y, params, x=X)
    assert np.all(res.success)
    np.testing.assert_allclose(res.params["c"].value, Y.mean(axis=1), rtol=1e-8)
    np.testing.assert_array_equal(res.params["c"].init_value, [0.0, 5.0, 0.0])


def test_model_fit_stays_at_bound_when_data_ask():
    # the unconstrained optimum (-1) lies below the bound: the fit ends at the bound
    y = np.full(10, -1.0)
    res = Model(const).fit(y, create_params(c={"value": 2.0, "min": 0.0}), x=X)
    c = float(res.params["c"].value)
    assert 0.0 <= c < 1e-3
    np.testing.assert_allclose(res.chisqr, 10 * (c + 1.0) ** 2, rtol=1e-12)


def test_minimize_leaves_lower_bound():
    y = np.full(6, 3.0)

    def resid(p, y):
        return p["c"] - y

    params = create_params(c={"value": 0.0, "min": 0.0})
    res = minimize(resid, params, args=(y,))
    assert res.success
    np.testing.assert_allclose(res.params["c"].value, 3.0, rtol=1e-9)


def test_minimize_leaves_upper_bound_two_parameters():
    # y = a*x + b with a starting on its upper bound and b on its lower bound;
    # noisy data, reference: the closed-form linear least-squares solution
    rng = np.random.default_rng(11)
    x = np.linspace(-1.0, 1.0, 9)
    y = 1.5 * x + 0.75 + 0.05 * rng.standard_normal(9)
    ref = np.linalg.lstsq(np.stack([x, np.ones_like(x)], axis=1), y, rcond=None)[0]
    assert ref[0] < 4.0 and ref[1] > 0.0  # the optimum is inside the bounds

    def resid(p, x, y):
        return p["a"] * x + p["b"] - y

    params = create_params(a={"value": 4.0, "max": 4.0}, b={"value": 0.0, "min": 0.0})
    res = minimize(resid, params, args=(x, y))
    assert res.success
    np.testing.assert_allclose([res.params["a"].value, res.params["b"].value], ref, rtol=1e-7)
    assert res.params["a"].init_value == 4.0 and res.params["b"].init_value == 0.0
