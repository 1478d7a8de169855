"""The solver's small dense linear algebra, unrolled and as loops, against numpy."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import batchfit as bf
from batchfit.solver import _smallla as S

jax.config.update("jax_enable_x64", True)


def _spd(n, seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n))
    return A @ A.T + n * np.eye(n), rng.normal(size=n)


@pytest.mark.parametrize("n", [1, 3, 7])
@pytest.mark.parametrize("loops", [False, True])
def test_cholesky_solve_and_inverse_equal_numpy(n, loops):
    M, b = _spd(n, seed=n)
    L = np.asarray(jax.jit(lambda m: S.cholesky_factor(m, loops))(M))
    np.testing.assert_allclose(L, np.linalg.cholesky(M), rtol=1e-12, atol=1e-12)
    x = np.asarray(jax.jit(lambda l, v: S.cholesky_apply(l, v, loops))(L, b))
    np.testing.assert_allclose(x, np.linalg.solve(M, b), rtol=1e-10)
    Li = np.asarray(jax.jit(lambda l: S.lower_inverse(l, loops))(L))
    np.testing.assert_allclose(Li, np.linalg.inv(L), rtol=1e-10, atol=1e-12)
    R = L.T
    y = np.asarray(jax.jit(lambda r, v: S.solve_upper(r, v, loops))(R, b))
    np.testing.assert_allclose(y, np.linalg.solve(R, b), rtol=1e-10)


@pytest.mark.parametrize("loops", [False, True])
def test_cholesky_of_a_matrix_that_is_not_positive_definite_is_nan(loops):
    M = np.array([[1.0, 2.0], [2.0, 1.0]])  # eigenvalues 3 and -1
    L = np.asarray(jax.jit(lambda m: S.cholesky_factor(m, loops))(M))
    assert np.isnan(L[1, 1])
    x = np.asarray(jax.jit(lambda l: S.cholesky_apply(l, np.ones(2), loops))(L))
    assert not np.all(np.isfinite(x))


def test_small_programs_give_the_same_fits():
    """Loops (``small_programs=True``) give the same fits as the default
    unrolled code, to well within a standard error."""
    import jax.numpy as jnp

    def decay(x, a, k, c):
        return a * jnp.exp(-k * x) + c

    rng = np.random.default_rng(3)
    x = np.linspace(0, 4, 60)
    y = 3.0 * np.exp(-1.3 * x)[None] + 0.5 + 0.02 * rng.standard_normal((5, 60))
    model = bf.Model(decay)
    p = model.make_params(a=np.full(5, 1.0), k=np.full(5, 0.5), c=np.zeros(5))
    res = {flag: model.fit(y, p, x=x, config=bf.LMConfig(small_programs=flag)) for flag in (True, False)}
    assert np.all(res[True].success) and np.all(res[False].success)
    for n in ("a", "k", "c"):
        dev = np.abs(res[True].params[n].value - res[False].params[n].value) / res[False].params[n].stderr
        assert np.all(dev < 1e-6), n
        np.testing.assert_allclose(res[True].params[n].stderr, res[False].params[n].stderr, rtol=1e-8)


def test_small_programs_is_checked():
    for bad in ("yes", None, 1):
        with pytest.raises(TypeError, match="small_programs"):
            bf.LMConfig(small_programs=bad)
    assert bf.LMConfig().small_programs is False
