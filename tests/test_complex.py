"""Complex data in Model.fit and ComplexConstantModel, beside lmfit's fits
of the same complex data (lmfit fits the residual's real and imaginary parts)."""

import jax.numpy as jnp
import lmfit
import numpy as np
import pytest
from numpy.testing import assert_allclose

import batchfit as bf
from batchfit.models import ComplexConstantModel

X = np.linspace(0.0, 1.0, 40)


def _noisy(rng, z0, n=40):
    return z0 + rng.normal(scale=0.1, size=n) + 1j * rng.normal(scale=0.2, size=n)


def _same_fit(rl, rb, names, stderr_rtol=1e-6):
    assert rb.success
    assert_allclose(rb.chisqr, rl.chisqr, rtol=1e-9)
    assert (rb.ndata, rb.nvarys, rb.nfree) == (rl.ndata, rl.nvarys, rl.nfree)
    assert_allclose([rb.redchi, rb.aic, rb.bic], [rl.redchi, rl.aic, rl.bic], rtol=1e-9)
    for n in names:
        assert_allclose(rb.params[n].value, rl.params[n].value, rtol=1e-8, atol=1e-10)
        assert_allclose(rb.params[n].stderr, rl.params[n].stderr, rtol=stderr_rtol)
    assert rb.best_fit.dtype == complex
    assert_allclose(rb.best_fit, rl.best_fit, rtol=1e-8, atol=1e-10)
    assert_allclose(rb.init_fit, rl.init_fit, rtol=1e-12)
    # lmfit's residual is (data - model) * w viewed as float (re, im interleaved);
    # batchfit's is (model - data) * w for real and complex data alike
    assert_allclose(rb.residual, -rl.residual, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("weighted", [False, True])
def test_complex_constant_as_lmfit(weighted):
    z = _noisy(np.random.default_rng(3), 1.5 - 0.7j)
    z_in = z.copy()
    kw = {"weights": 1.0 / (0.1 + X)} if weighted else {}
    L, B = lmfit.models.ComplexConstantModel(), ComplexConstantModel()
    rl = L.fit(z, L.make_params(re=1, im=1), x=X, **kw)
    rb = B.fit(z, B.make_params(re=1, im=1), x=X, **kw)
    _same_fit(rl, rb, ["re", "im"])
    assert_allclose(rb.data, z)
    np.testing.assert_array_equal(z, z_in)  # input not modified
    assert B.name == L.name == "Model(constant)"
    assert B.param_names == L.param_names == ["re", "im"]


def test_complex_constant_guess_as_lmfit():
    z = _noisy(np.random.default_rng(4), -0.3 + 2.0j)
    pl = lmfit.models.ComplexConstantModel(prefix="c_").guess(z, x=X)
    pb = ComplexConstantModel(prefix="c_").guess(z, x=X)
    for n in ("c_re", "c_im"):
        assert_allclose(pb[n].value, pl[n].value, rtol=1e-14)
    zz = np.stack([z, 2 * z])
    pb = ComplexConstantModel().guess(zz, x=X, im=0.5)
    assert_allclose(pb["re"].value, zz.real.mean(axis=1), rtol=1e-14)
    assert_allclose(pb["im"].value, 0.5)


def test_complex_user_model_batch_as_lmfit():
    """A damped complex exponential; N = 3 complex datasets in one call,
    each against lmfit's own fit."""

    def cexp(x, amp=1.0, tau=1.0, freq=1.0):
        return amp * jnp.exp(-x / tau) * jnp.exp(2j * jnp.pi * freq * x)

    def cexp_np(x, amp=1.0, tau=1.0, freq=1.0):
        return amp * np.exp(-x / tau) * np.exp(2j * np.pi * freq * x)

    rng = np.random.default_rng(5)
    truth = [(2.0, 0.5, 1.2), (1.0, 0.8, 0.9), (3.0, 0.3, 1.5)]
    Z = np.stack([_noisy(rng, cexp_np(X, *t)) for t in truth])
    mb, ml = bf.Model(cexp), lmfit.Model(cexp_np)
    rb = mb.fit(Z, mb.make_params(amp=1.5, tau=0.6, freq=1.1), x=X)
    assert rb.best_fit.shape == Z.shape and rb.best_fit.dtype == complex
    for i in range(3):
        rl = ml.fit(Z[i], ml.make_params(amp=1.5, tau=0.6, freq=1.1), x=X)
        assert rl.success and bool(rb.success[i])
        assert_allclose(rb.chisqr[i], rl.chisqr, rtol=1e-7)
        for n in ("amp", "tau", "freq"):
            assert abs(rb.params[n].value[i] - rl.params[n].value) < 1e-4 * rl.params[n].stderr
            assert_allclose(rb.params[n].stderr[i], rl.params[n].stderr, rtol=1e-3)
        assert_allclose(rb.best_fit[i], rl.best_fit, rtol=1e-5, atol=1e-6)


def test_complex_rsquared_closed_form():
    z = _noisy(np.random.default_rng(6), 1.0 + 1.0j)
    r = ComplexConstantModel().fit(z, x=X, re=0.0, im=0.0)
    mean = z.mean()
    expect = 1 - np.sum(np.abs(z - r.best_fit) ** 2) / np.sum(np.abs(z - mean) ** 2)
    assert_allclose(r.rsquared, expect, rtol=1e-12)
    assert_allclose(r.chisqr, np.sum(np.abs(z - mean) ** 2), rtol=1e-9)  # best fit is the mean


def test_complex_bad_input_named():
    z = _noisy(np.random.default_rng(7), 1.0)
    B = ComplexConstantModel()
    with pytest.raises(TypeError, match="weights must be real"):
        B.fit(z, x=X, re=0, im=0, weights=np.ones(40) * (1 + 1j))
    with pytest.raises(ValueError, match="do not match"):
        B.fit(z, x=X, re=0, im=0, weights=np.ones(39))
    with pytest.raises(ValueError, match="statistic='chi2'"):
        B.fit(z, x=X, re=0, im=0, statistic="cstat")


def test_real_model_on_complex_data_as_lmfit():
    """A real model against complex data: lmfit fits the real part and counts
    the imaginary part in chi-square (the model's is 0); so does batchfit."""
    z = _noisy(np.random.default_rng(8), 0.0) + 2.0 * X + 1.0
    ml, mb = lmfit.models.LinearModel(), bf.models.LinearModel()
    rl = ml.fit(z, ml.make_params(slope=1, intercept=0), x=X)
    rb = mb.fit(z, mb.make_params(slope=1, intercept=0), x=X)
    _same_fit(rl, rb, ["slope", "intercept"])
