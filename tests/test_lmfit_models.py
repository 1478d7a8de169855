"""lmfit's other built-in models and line shapes (issue 13), against lmfit itself:
line-shape values, parameter names and hints, derived values, guesses and fits."""

import os

import jax
import jax.numpy as jnp
import lmfit.lineshapes as LL
import lmfit.models as LM
import numpy as np
import pytest
from scipy.interpolate import splev, splrep
from scipy.special import loggamma as scipy_loggamma

import batchfit.models as M
from batchfit.models import lineshapes


@pytest.fixture(autouse=True)
def _x64():
    with jax.enable_x64(True):
        yield


X = np.linspace(-5.0, 5.0, 121)
XP = np.linspace(0.05, 6.0, 121)  # positive x
X10 = np.linspace(0.0, 10.0, 121)
PEAK = dict(amplitude=3.0, center=0.4, sigma=0.7)

# lineshape name -> parameter sets (lmfit's keywords) evaluated on XG
XG = np.linspace(-6.0, 9.0, 76)
SHAPES = {
    "split_lorentzian": [dict(PEAK, sigma_r=1.9)],
    "moffat": [dict(PEAK, beta=1.7), dict(PEAK, beta=0.6)],
    "pearson4": [dict(PEAK, expon=1.3, skew=2.5), dict(PEAK, sigma=1.7, expon=5.3, skew=-40.0),
                 dict(PEAK, expon=60.0, skew=300.0)],
    "pearson7": [dict(PEAK, expon=1.3), dict(PEAK, expon=30.0)],
    "breit_wigner": [dict(PEAK, q=-1.3)],
    "damped_oscillator": [dict(amplitude=2.0, center=1.3, sigma=0.2)],
    "dho": [dict(amplitude=2.0, center=1.3, sigma=0.4, gamma=0.8)],
    "logistic": [PEAK],
    "lognormal": [PEAK],
    "students_t": [dict(PEAK, sigma=3.7), dict(PEAK, sigma=60.0)],
    "expgaussian": [dict(PEAK, gamma=1.4), dict(PEAK, sigma=0.3, gamma=15.0)],
    "doniach": [dict(PEAK, gamma=0.3)],
    "skewed_gaussian": [dict(PEAK, gamma=-2.0)],
    "skewed_voigt": [dict(PEAK, gamma=0.4, skew=2.0), dict(PEAK, skew=-1.0)],
    "thermal_distribution": [dict(amplitude=2.0, center=0.3, kt=0.7, form=f) for f in ("bose", "maxwell", "fermi")],
    "bose": [dict(amplitude=2.0, center=0.31, kt=0.7)],
    "fermi": [dict(amplitude=2.0, center=0.3, kt=-0.7)],
    "rectangle": [dict(amplitude=2.0, center1=-1.0, sigma1=0.7, center2=3.0, sigma2=1.2, form=f)
                  for f in ("linear", "atan", "erf", "logistic")],
    "parabolic": [dict(a=0.3, b=-1.0, c=2.0)],
    "expsine": [dict(amplitude=2.0, frequency=1.3, shift=0.3, decay=0.1)],
}
SHAPE_CASES = [(n, i) for n, cs in SHAPES.items() for i in range(len(cs))]
SHAPE_RTOL = {}


def _jit(name, kw):
    """The line shape jitted (one compile, not one per primitive), options fixed."""
    opts = {k: v for k, v in kw.items() if isinstance(v, str)}
    return jax.jit(lambda x, **p: getattr(lineshapes, name)(x, **p, **opts)), {
        k: v for k, v in kw.items() if k not in opts}


@pytest.mark.parametrize("name,i", SHAPE_CASES)
def test_lineshape_values_equal_lmfit(name, i):
    kw = SHAPES[name][i]
    ref = getattr(LL, name)(XG.copy(), **kw)
    x = XG.copy()
    fn, p = _jit(name, kw)
    got = np.asarray(fn(x, **p))
    np.testing.assert_array_equal(x, XG)  # input untouched (lmfit's lognormal/dho modify theirs)
    assert got.shape == ref.shape and np.all(np.isfinite(ref))
    rtol = SHAPE_RTOL.get((name, i), 1e-12)
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=1e-13 * np.max(np.abs(ref)))
    # a scalar x too, as lmfit's take it (unjitted)
    assert float(getattr(lineshapes, name)(1.25, **kw)) == pytest.approx(
        float(getattr(LL, name)(np.array([1.25]), **kw)[0]), rel=rtol)


# shapes with special functions, floors or selections in their parameters
GRAD_SHAPES = ["pearson4", "expgaussian", "dho", "lognormal", "bose"]


@pytest.mark.parametrize("name", GRAD_SHAPES)
def test_lineshape_gradients_match_differences(name):
    """Reverse (wide problems) and forward mode (the usual Jacobian) in every
    parameter equal central differences, at a few x; one compile per shape."""
    fn, kw = _jit(name, SHAPES[name][0])
    keys = sorted(kw)
    v0 = np.array([kw[k] for k in keys])
    xs = np.array([-1.3, 0.9, 2.2])
    h = 1e-6

    def f(v):
        return jnp.sum(fn(xs, **dict(zip(keys, v))) * jnp.array([1.0, -0.5, 0.25]))

    def all_(v):
        steps = h * jnp.eye(len(keys))
        fd = (jax.vmap(f)(v + steps) - jax.vmap(f)(v - steps)) / (2 * h)
        return jax.grad(f)(v), jax.jacfwd(f)(v), fd

    rev, fwd, fd = (np.asarray(a) for a in jax.jit(all_)(v0))
    np.testing.assert_allclose(rev, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fwd, rev, rtol=1e-12, atol=1e-14)


def test_expgaussian_large_arguments_stay_finite():
    """Far on the left of a narrow, steep peak lmfit's exp(arg1) * erfc(arg2)
    overflows to nan; the scaled form gives the limit (the Gaussian-convolved tail)."""
    x = np.array([-60.0, -40.0, -30.0])
    kw = dict(amplitude=1.0, center=0.0, sigma=0.5, gamma=20.0)
    with np.errstate(all="ignore"):
        ref = LL.expgaussian(x, **kw)
    fn, kw = _jit("expgaussian", kw)
    got = np.asarray(fn(x, **kw))
    assert np.all(np.isnan(ref[:2])) and np.all(np.isfinite(got))
    assert np.all(got >= 0) and np.all(got < 1e-300)
    # where lmfit's overflow is not reached both agree
    x = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(fn(x, **kw), LL.expgaussian(x, **kw), rtol=1e-11)


def test_complex_loggamma_real_part_equals_scipy():
    a = np.array([0.5 + 1e-15, 0.7, 1.5, 3.0, 20.0, 500.0, 1000.0])
    b = np.array([0.0, 0.3, -2.0, 40.0, 500.0, -3.0, 500.0])
    from batchfit.params._special import loggamma_re
    got = np.asarray(loggamma_re(a, b))
    ref = scipy_loggamma(a + 1j * b).real
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-13)


def test_special_functions_in_tie_expressions_equal_scipy():
    """lmfit's special functions of derived parameters, in jnp and on the host
    (xp=numpy, float64 whatever JAX's x64 setting)."""
    import scipy.special as sp

    from batchfit.params._expr import evaluate, parse
    a, b = np.array([0.3, 1.7, 4.0, 25.0]), np.array([0.2, -1.1, 3.0, 40.0])
    cases = {"gamfcn(a)": sp.gamma(a), "loggammafcn(a)": sp.gammaln(a), "betalnfnc(a, 0.5)": sp.betaln(a, 0.5),
             "loggamma_re(a, b)": sp.loggamma(a + 1j * b).real, "erf(b)": sp.erf(b), "erfc(b)": sp.erfc(b),
             "erfcx(b)": sp.erfcx(b), "log1p(b / 2)": np.log1p(b / 2)}
    for expr, ref in cases.items():
        tree, _ = parse(expr)
        for xp in (jnp, np):
            got = np.asarray(evaluate(tree, {"a": a, "b": b}, xp=xp))
            np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-14, err_msg=f"{expr} {xp.__name__}")
    with jax.enable_x64(False):  # host evaluation stays float64
        tree, _ = parse("gamfcn(a)")
        got = evaluate(tree, {"a": a}, xp=np)
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, sp.gamma(a), rtol=1e-12)


@pytest.mark.parametrize("nk", [4, 7, 12])
def test_bspline_equals_splev(nk):
    rng = np.random.default_rng(nk)
    xk = np.sort(rng.uniform(0, 10, nk))
    t, _, _ = splrep(xk, np.ones(nk), k=3)
    np.testing.assert_array_equal(lineshapes.spline_knots(xk), t)
    c = rng.normal(size=nk)
    x = np.linspace(-2, 12, 301)  # extrapolates both ends, as splev's ext=0
    ref = splev(x, [t, np.concatenate([c, [c[-1]] * 4]), 3])
    np.testing.assert_allclose(lineshapes.bspline(x, t, c), ref, rtol=1e-12, atol=1e-13)
# -- models: names, hints, derived values, guesses and fits ------------------

XK = np.linspace(-5.0, 5.0, 9)
# key -> (batchfit model, lmfit model, true parameters, x)
MODELS = {
    "split_lorentzian": (M.SplitLorentzianModel, LM.SplitLorentzianModel, dict(PEAK, sigma=0.5, sigma_r=1.1), X),
    "moffat": (M.MoffatModel, LM.MoffatModel, dict(PEAK, beta=1.6), X),
    "pearson4": (M.Pearson4Model, LM.Pearson4Model, dict(PEAK, sigma=0.9, expon=1.8, skew=1.2), X),
    "pearson7": (M.Pearson7Model, LM.Pearson7Model, dict(PEAK, sigma=0.9, expon=2.0), X),
    "students_t": (M.StudentsTModel, LM.StudentsTModel, dict(PEAK, sigma=3.0), X),
    "breit_wigner": (M.BreitWignerModel, LM.BreitWignerModel, dict(PEAK, sigma=0.8, q=3.0), X),
    "lognormal": (M.LognormalModel, LM.LognormalModel, dict(amplitude=3.0, center=0.5, sigma=0.4), XP),
    "damped_oscillator": (M.DampedOscillatorModel, LM.DampedOscillatorModel,
                          dict(amplitude=1.0, center=1.5, sigma=0.15), XP),
    "dho": (M.DampedHarmonicOscillatorModel, LM.DampedHarmonicOscillatorModel,
            dict(amplitude=2.0, center=1.5, sigma=0.3, gamma=1.0), XP),
    "expgaussian": (M.ExponentialGaussianModel, LM.ExponentialGaussianModel,
                    dict(amplitude=3.0, center=-0.5, sigma=0.5, gamma=1.3), X),
    "skewed_gaussian": (M.SkewedGaussianModel, LM.SkewedGaussianModel, dict(PEAK, sigma=0.9, gamma=2.0), X),
    "skewed_voigt": (M.SkewedVoigtModel, LM.SkewedVoigtModel, dict(PEAK, sigma=0.6, skew=1.5), X),
    "doniach": (M.DoniachModel, LM.DoniachModel, dict(PEAK, sigma=0.5, gamma=0.2), X),
    "voigt": (M.VoigtModel, LM.VoigtModel, PEAK, X),
    "quadratic": (M.QuadraticModel, LM.QuadraticModel, dict(a=0.3, b=-1.0, c=2.0), X),
    "rectangle": (lambda **k: M.RectangleModel(form="erf", **k), lambda **k: LM.RectangleModel(form="erf", **k),
                  dict(amplitude=2.0, center1=3.0, sigma1=0.5, center2=7.0, sigma2=0.8), X10),
    "thermal_fermi": (lambda **k: M.ThermalDistributionModel(form="fermi", **k),
                      lambda **k: LM.ThermalDistributionModel(form="fermi", **k),
                      dict(amplitude=1.0, center=5.0, kt=0.8), X10),
    "bose": (M.BoseModel, LM.BoseModel, dict(amplitude=2.0, center=-1.0, kt=1.5), XP),
    "fermi": (M.FermiModel, LM.FermiModel, dict(amplitude=2.0, center=5.0, kt=0.8), X10),
    "spline": (lambda **k: M.SplineModel(XK, **k), lambda **k: LM.SplineModel(XK, **k),
               {f"s{i}": float(v) for i, v in enumerate(2 * np.exp(-XK**2 / 4) + 0.1 * XK)}, X),
}
NO_PREFIX = {"expression"}


def _hints(params):
    return {n: (p.vary, p.min, p.max, p.expr is not None) for n, p in params.items()}


@pytest.mark.parametrize("key", sorted(MODELS))
def test_names_hints_and_derived_values_equal_lmfit(key):
    bmodel, lmodel, truth, _ = MODELS[key]
    b, lm = bmodel(prefix="p_"), lmodel(prefix="p_")
    # lmfit leaves an argument defaulting to None (Voigt's gamma) out of
    # param_names and adds it from its hint; batchfit lists it
    assert set(lm.param_names) <= set(b.param_names)
    pb = b.make_params(**{"p_" + k: v for k, v in truth.items()})
    pl = lm.make_params()
    for k, v in truth.items():  # lmfit's make_params lets a hint's value win over a keyword
        pl["p_" + k].set(value=v)
    assert list(pb) == list(pl)
    assert _hints(pb) == _hints(pl)
    db, dl = pb.valuesdict(), pl.valuesdict()
    assert set(db) == set(dl)
    for n in dl:
        assert db[n] == pytest.approx(dl[n], rel=1e-12, abs=1e-300), n
    # defaults (no values given) too
    p0b, p0l = bmodel().make_params(), lmodel().make_params()
    assert {n: p.value for n, p in p0b.items() if p.expr is None} == pytest.approx(
        {n: p.value for n, p in p0l.items() if p.expr is None})


def _data(key, n=2, seed=0):
    bmodel, _, truth, x = MODELS[key]
    rng = np.random.default_rng(seed)
    clean = bmodel().eval(x=x, **truth)
    sd = 0.01 * np.max(np.abs(clean))
    return clean + rng.normal(0, sd, (n, x.size)), x


@pytest.mark.parametrize("key", sorted(MODELS))
def test_guess_equals_lmfit(key):
    bmodel, lmodel, _, x = MODELS[key]
    data, x = _data(key)
    pb = bmodel().guess(data, x=x)  # batched: one start per dataset
    for i in range(data.shape[0]):
        pl = lmodel().guess(data[i], x=x)
        assert list(pb) == list(pl)
        for n, p in pl.items():
            q = pb[n]
            assert (q.min, q.max, q.expr is None) == (p.min, p.max, p.expr is None), n
            if p.expr is None:
                assert np.broadcast_to(q.value, data.shape[:1])[i] == pytest.approx(p.value, rel=1e-12, abs=1e-14), n


def _lmfit_fit(lmodel, data, params, x):
    return lmodel().fit(data, params, x=x, max_nfev=20000, fit_kws=dict(xtol=1e-14, ftol=1e-14, gtol=1e-14))


# lmfit's guess_thermal is no start for Bose/Fermi data (its amplitude is
# ymax * exp(-5), its centre the mean x): those fits start nearer the truth
START = {"bose": dict(amplitude=1.5, center=-0.5, kt=1.2), "fermi": dict(amplitude=1.8)}
# one compile per model (each several seconds): by default three models
# whose shapes bring their own special functions (complex log-gamma, erfcx,
# B-splines), and the skewed Gaussian from lmfit's guess (gamma = 0): there
# the centre's and gamma's columns of J are parallel, the LM converges to
# the symmetric fit (chi2 8x lmfit's), a saddle that the statistics detect
# and escape (engine/_saddle.py); BATCHFIT_ALL_MODEL_FITS=1 fits every
# model but those below
FIT_KEYS = ["pearson4", "expgaussian", "spline", "skewed_gaussian"]
# amplitude and center are one degree of freedom (A exp(-center/kt)): no stderrs
UNFITTABLE = {"thermal_fermi"}
if os.environ.get("BATCHFIT_ALL_MODEL_FITS"):
    FIT_KEYS = sorted(set(MODELS) - UNFITTABLE)


def _starts(key, data, x):
    bmodel, lmodel, _, _ = MODELS[key]
    pb = bmodel().guess(data, x=x)
    pls = [lmodel().guess(d, x=x) for d in data]
    for n, v in START.get(key, {}).items():
        pb[n].set(value=v)
        for pl in pls:
            pl[n].set(value=v)
    return pb, pls


def _stderr_ref(lmodel, ref, x):
    """Standard errors of the free parameters at lmfit's optimum from a
    central-difference Jacobian (lmfit's own come from MINPACK's forward
    differences, good to only ~1e-3 relative for some shapes)."""
    names = [n for n, p in ref.params.items() if p.vary]
    v0 = np.array([ref.params[n].value for n in names])

    def f(v):
        p = ref.params.copy()
        for n, val in zip(names, v):
            p[n].value = val
        return lmodel().eval(p, x=x)

    h = 1e-6 * np.maximum(np.abs(v0), 1e-3)
    J = np.stack([(f(v0 + hi * e) - f(v0 - hi * e)) / (2 * hi) for hi, e in zip(h, np.eye(len(v0)))], axis=1)
    cov = np.linalg.inv(J.T @ J) * ref.redchi
    return dict(zip(names, np.sqrt(np.diag(cov))))


@pytest.mark.parametrize("key", FIT_KEYS)
def test_fit_from_lmfit_guess_reaches_lmfit(key):
    """Two seeded noisy datasets in one batched fit, from lmfit's guess, against
    lmfit's tightly converged fits of each: values within 1e-3 of a stderr;
    stderrs of free parameters within 1e-3 relative of the central-difference
    ones at lmfit's optimum, of derived ones within 1e-2 of lmfit's."""
    bmodel, lmodel, _, x = MODELS[key]
    data, x = _data(key)
    start, lstarts = _starts(key, data, x)
    res = bmodel().fit(data, start, x=x)
    assert np.all(res.success)
    for i in range(data.shape[0]):
        ref = _lmfit_fit(lmodel, data[i], lstarts[i], x)
        assert ref.success and ref.errorbars
        se_ref = _stderr_ref(lmodel, ref, x)
        for n, p in ref.params.items():
            got = res.params[n]
            v, s = (np.broadcast_to(a, data.shape[:1])[i] for a in (got.value, got.stderr))
            assert abs(v - p.value) <= 1e-3 * p.stderr, (n, v, p.value, p.stderr)
            if n in se_ref:
                assert s == pytest.approx(se_ref[n], rel=1e-3), n
            else:
                assert s == pytest.approx(p.stderr, rel=1e-2), n


# -- ExpressionModel ---------------------------------------------------------

def test_expression_model_names_values_and_fit_equal_lmfit():
    expr = "amp * exp(-(x - cen)**2 / (2 * wid**2)) + off + slope * x + 0 * sqrt(pi)"
    b, lm = M.ExpressionModel(expr), LM.ExpressionModel(expr)
    assert b.param_names == lm.param_names == ["amp", "cen", "wid", "off", "slope"]
    assert b.independent_vars == ["x"]
    truth = dict(amp=2.0, cen=0.3, wid=0.8, off=0.5, slope=-0.1)
    np.testing.assert_allclose(b.eval(x=X, **truth), lm.eval(x=X, **truth), rtol=1e-14)
    rng = np.random.default_rng(3)
    data = lm.eval(x=X, **truth) + rng.normal(0, 0.02, X.size)
    start = dict(amp=1.5, cen=0.0, wid=1.0, off=0.3, slope=0.0)
    ref = lm.fit(data, lm.make_params(**start), x=X, fit_kws=dict(xtol=1e-14, ftol=1e-14, gtol=1e-14))
    res = b.fit(data, b.make_params(**start), x=X)
    assert bool(res.success)
    se_ref = _stderr_ref(lambda: lm, ref, X)
    for n, p in ref.params.items():
        assert abs(float(res.params[n].value) - p.value) <= 1e-3 * p.stderr, n
        assert float(res.params[n].stderr) == pytest.approx(se_ref[n], rel=1e-3), n


def test_expression_model_independent_vars_and_errors():
    m = M.ExpressionModel("a * t + b * sin(t)", independent_vars=["t"])
    assert m.param_names == ["a", "b"] and m.independent_vars == ["t"]
    np.testing.assert_allclose(m.eval(t=X, a=2.0, b=0.5), 2 * X + 0.5 * np.sin(X), rtol=1e-14)
    with pytest.raises(ValueError, match="no independent variable"):
        M.ExpressionModel("a * t")
    with pytest.raises(ValueError, match="independent variable.*y.*not found"):
        M.ExpressionModel("a * x", independent_vars=["y"])
    with pytest.raises(ValueError, match="prefix"):
        M.ExpressionModel("a * x", prefix="p_")
    with pytest.raises(ValueError, match="unknown function"):
        M.ExpressionModel("__import__('os').getcwd() * x")
    with pytest.raises(ValueError, match="not allowed"):
        M.ExpressionModel("x.real * a")


def test_lmfit_module_paths():
    """lmfit's import paths work with the package name swapped: every one of
    lmfit's line shapes is in batchfit.lineshapes."""
    import batchfit
    import batchfit.lineshapes as bl
    import batchfit.model as bm
    import batchfit.models.lineshapes as ml

    assert bm.Model is batchfit.Model and bm.CompositeModel is M.CompositeModel
    assert bl.gaussian is ml.gaussian and set(bl.__all__) == set(ml.__all__)
    assert set(LL.functions) <= set(bl.__all__)
