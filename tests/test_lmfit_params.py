"""Parameter and Parameters behave as lmfit's: each check runs lmfit's
version beside ours on the same input (issue 13, API parity)."""

import copy
import io
import operator
import pickle

import lmfit
import numpy as np
import pytest

import batchfit as bf
from batchfit.params import ExprError


def _both(build):
    """The same construction done with lmfit and with batchfit."""
    return build(lmfit), build(bf)


def _peak(mod):
    p = mod.Parameters()
    p.add("amp", 10.0, min=0, max=100)
    p.add("sigma", 0.8, min=0)
    p.add("fwhm", expr="2.3548200*sigma")
    p.add("height", expr="0.3989423*amp/sigma", max=4.0)
    return p


def _attrs(p):
    return (p.name, float(p.value), float(p.min), float(p.max), bool(p.vary), p.expr or None)


def _same_attrs(p, q, rel=1e-15):
    a, b = _attrs(p), _attrs(q)
    assert a[0] == b[0] and a[4:] == b[4:], (a, b)
    assert a[1:4] == pytest.approx(b[1:4], rel=rel), (a, b)


# -- ties evaluated on access, values clipped ---------------------------------
def test_tied_value_is_evaluated_on_access_and_follows_changes():
    lp, bp = _both(_peak)
    for n in lp:
        _same_attrs(bp[n], lp[n])
    assert bp["height"].value == 4.0  # 4.987 clipped to its max, as lmfit clips it
    for ps in (lp, bp):
        ps["sigma"].value = 2.0
        ps["amp"].set(value=15.0)
    assert bp["fwhm"].value == pytest.approx(lp["fwhm"].value, rel=1e-15)
    assert bp["fwhm"].value == 2.3548200 * 2.0
    assert bp["height"].value == pytest.approx(lp["height"].value, rel=1e-15)
    assert bp["height"].value == pytest.approx(0.3989423 * 15.0 / 2.0, rel=1e-15)
    assert bp.valuesdict() == pytest.approx(lp.valuesdict(), rel=1e-15)


def test_values_are_clipped_to_bounds_as_lmfit_clips_them():
    for mod in (lmfit, bf):
        p = mod.Parameter("x", 10.0, max=5.0)
        assert p.value == 5.0
        p.max = 30.0  # changing a bound later does not move the value (lmfit's rule)
        p.min = 20.0
        assert p.value == 5.0
        p.set(value=40.0)
        assert p.value == 30.0
        p.set(value=0.0, min=1.0, max=2.0)  # bounds first, then the value
        assert p.value == 1.0
        p.value = -np.inf
        assert p.value == 1.0
    # a batch is clipped elementwise, as numpy clips
    v = np.random.default_rng(0).normal(size=7) * 3
    lo = np.linspace(-2, 0, 7)
    p = bf.Parameter("a", v, min=lo, max=2.0)
    np.testing.assert_array_equal(p.value, np.clip(v, lo, 2.0))
    assert bf.Parameter("a", np.array([np.nan, 5.0]), max=1.0).value[1] == 1.0


def test_setting_vary_true_drops_an_expression():
    for mod in (lmfit, bf):
        p = _peak(mod)
        p["fwhm"].vary = True
        assert p["fwhm"].expr is None and p["fwhm"].vary
        p["height"].set(vary=True)
        assert p["height"].expr is None and p["height"].vary
        p["amp"].set(expr="2*sigma")
        assert p["amp"].vary is False and p["amp"].value == pytest.approx(1.6)


def test_batched_ties_act_elementwise_and_by_leading_axis():
    rng = np.random.default_rng(3)
    a = rng.uniform(1, 2, size=5)
    p = bf.create_params(a=a, b={"expr": "2*a", "max": 3.5})
    np.testing.assert_array_equal(p["b"].value, np.minimum(2 * a, 3.5))
    # a shared parameter of G groups (G,) against a per-dataset one (G, K)
    s, loc = rng.normal(size=3), rng.normal(size=(3, 3))
    p = bf.create_params(s=s, loc=loc, t={"expr": "s + loc"})
    np.testing.assert_allclose(p["t"].value, s[:, None] + loc, rtol=0, atol=0)


# -- a Parameter works as a number ----------------------------------------------
BINARY = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
          operator.mod, operator.pow, divmod, operator.gt, operator.ge, operator.lt, operator.le,
          operator.eq, operator.ne]


@pytest.mark.parametrize("op", BINARY, ids=lambda f: f.__name__)
def test_operators_and_reflected_operators_match_lmfit(op):
    for val, other in [(2.5, 1.5), (-3.0, 2.0), (4.0, 4.0)]:
        lp, bp = lmfit.Parameter("p", val), bf.Parameter("p", val)
        assert op(bp, other) == op(lp, other) == op(val, other)
        assert op(other, bp) == op(other, lp) == op(other, val)
        assert op(bp, bf.Parameter("q", other)) == op(val, other)


def test_unary_conversions_and_arrays_match_lmfit():
    for val in (2.7, -2.7, 0.0):
        lp, bp = lmfit.Parameter("p", val), bf.Parameter("p", val)
        for f in (abs, operator.neg, operator.pos, float, int, bool, np.trunc, np.asarray):
            assert f(bp) == f(lp) == f(val), (f, val)
        assert np.asarray(bp).dtype == np.float64 and np.asarray(bp).shape == ()
    x = np.linspace(0, 1, 4)
    np.testing.assert_array_equal(bf.Parameter("p", 2.0) * x, lmfit.Parameter("p", 2.0) * x)
    np.testing.assert_array_equal(x * bf.Parameter("p", 2.0), x * lmfit.Parameter("p", 2.0))
    np.testing.assert_allclose(bf.create_params(amp=5.03)["amp"], 5.03, rtol=0)


def test_batched_parameter_acts_elementwise():
    v = np.array([1.0, -2.0, 3.5])
    p = bf.Parameter("p", v)
    np.testing.assert_array_equal(p + 1, v + 1)
    np.testing.assert_array_equal(2 ** p, 2**v)
    np.testing.assert_array_equal(abs(p), np.abs(v))
    np.testing.assert_array_equal(p > 0, v > 0)
    np.testing.assert_array_equal(np.asarray(p), v)
    q, r = divmod(p, 2)
    np.testing.assert_array_equal(q, v // 2)
    np.testing.assert_array_equal(r, v % 2)
    for f in (float, int, bool):
        with pytest.raises(TypeError, match=r"parameter 'p'.*shape \(3,\)"):
            f(p)
    with pytest.raises(TypeError, match="parameter 'q' has no value"):
        float(bf.Parameter("q"))


def test_fit_result_params_compare_as_numbers():
    x = np.linspace(0, 1, 30)
    y = 5.03 * x + 1.0

    def line(x, amp, off):
        return amp * x + off

    res = bf.Model(line).fit(y, bf.create_params(amp=1.0, off=0.0), x=x)
    np.testing.assert_allclose(res.params["amp"], 5.03, rtol=1e-12)
    assert abs(res.params["off"] - 1.0) < 1e-12


# -- Parameters: +, +=, add, add_many, set ----------------------------------------
def test_add_and_iadd_as_lmfit():
    def build(mod):
        a, b = mod.Parameters(), mod.Parameters()
        a.add("x", 1.0, min=0)
        b.add("y", 2.0)
        b.add("z", expr="1.5*y")
        return a, b

    (la, lb), (ba, bb) = build(lmfit), build(bf)
    for (a, b), out in (((la, lb), la + lb), ((ba, bb), ba + bb)):
        assert list(out) == ["x", "y", "z"] and list(a) == ["x"]
    out = ba + bb
    assert type(out) is bf.Parameters and out["z"].value == (la + lb)["z"].value == 3.0
    out["x"].expr = "z - y"  # a tie across the two sides
    assert out["x"].value == 1.0
    out["y"].value = 10.0
    assert bb["y"].value == 2.0  # the operands are not changed
    la += lb
    ba += bb
    assert [_attrs(p) for p in ba.values()] == [_attrs(p) for p in la.values()]
    for mod, a in ((lmfit, la), (bf, ba)):
        with pytest.raises(ValueError, match="not a Parameters"):
            a + {"q": 1.0}
        with pytest.raises(ValueError, match="not a Parameters"):
            a += 3


def test_add_many_tuple_form_and_set_as_lmfit():
    rows = [("amp", 10, True, None, None, None, None), ("cen", 4, True, 0.0, None, None, None),
            ("wid", 1, False, None, None, None, None), ("frac", 0.5), ("tw", 0, True, None, None, "2*wid")]

    def build(mod):
        p = mod.Parameters()
        p.add_many(*rows, mod.Parameter("par_f", 100))
        p.set(cen=0.8, amp={"value": 3, "min": 0}, newp=7.0)
        p.add("wid2", value=p["wid"], min=-1)  # a Parameter as value: a copy named wid2
        return p

    lp, bp = _both(build)
    assert list(bp) == list(lp)
    for n in lp:
        assert _attrs(bp[n]) == _attrs(lp[n]), n
    with pytest.raises(TypeError, match="add_many"):
        bf.Parameters().add_many(("a", 1, True, None, None, None, None, "extra"))


def test_pretty_print_matches_lmfit(capsys):
    def build(mod):
        p = _peak(mod)
        p["amp"].stderr = 0.123456
        p["sigma"].brute_step = 0.1
        return p

    lp, bp = _both(build)
    for kw in ({}, {"colwidth": 11, "precision": 6, "fmt": "e"}, {"columns": ["value", "stderr"]}):
        lp.pretty_print(**kw)
        want = capsys.readouterr().out
        bp.pretty_print(**kw)
        assert capsys.readouterr().out == want, kw


# -- JSON, equality, copies -------------------------------------------------------
def test_dumps_loads_both_ways_with_lmfit():
    lp, bp = _both(_peak)
    lp["amp"].stderr = bp["amp"].stderr = 0.5
    back = lmfit.Parameters().loads(bp.dumps())
    assert [_attrs(p) for p in back.values()] == [_attrs(p) for p in lp.values()]
    assert back["amp"].stderr == 0.5
    ours = bf.Parameters().loads(lp.dumps())
    assert ours == bp and type(ours) is bf.Parameters
    assert [_attrs(p) for p in ours.values()] == [_attrs(p) for p in lp.values()]


def test_dump_load_round_trip_keeps_batches_and_ties(tmp_path):
    rng = np.random.default_rng(1)
    p = bf.create_params(a={"value": rng.uniform(1, 2, 4), "min": np.zeros(4)}, b=3.0,
                         c={"expr": "a*b", "max": 5.0})
    p["b"].stderr = np.nan
    with open(tmp_path / "p.json", "w") as fh:
        p.dump(fh)
    with open(tmp_path / "p.json") as fh:
        q = bf.Parameters().load(fh)
    assert q == p and q is not p
    np.testing.assert_array_equal(q["c"].value, np.minimum(p["a"].value * 3.0, 5.0))
    with pytest.raises(ValueError, match="not a Parameters JSON"):
        bf.Parameters().loads("[1, 2]")
    assert bf.Parameters().loads(io.StringIO(p.dumps()).read()) == p


def test_equality_by_content():
    a, b = _peak(bf), _peak(bf)
    assert a == b and not (a != b)
    b["sigma"].max = 9.0
    assert a != b
    c = _peak(bf)
    c["fwhm"].expr = "2.35482*sigma"
    assert a != c
    assert a != bf.create_params(amp=1.0)
    assert bf.create_params(x=np.array([1.0, np.nan])) == bf.create_params(x=np.array([1.0, np.nan]))
    assert bf.create_params(x=np.array([1.0, 2.0])) != bf.create_params(x=1.0)
    assert a == bf.Parameters.from_lmfit(_peak(lmfit))


class MyParams(bf.Parameters):
    pass


class MyParam(bf.Parameter):
    pass


@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy, lambda p: p.copy(),
                                 lambda p: pickle.loads(pickle.dumps(p))])
def test_copies_keep_subclasses_and_ties(how):
    p = MyParams()
    p.add(MyParam("a", 2.0))
    p.add("b", expr="3*a")
    q = how(p)
    assert type(q) is MyParams and type(q["a"]) is MyParam and q == p
    q["a"].value = 5.0
    assert q["b"].value == 15.0 and p["b"].value == 6.0
    single = how(p["a"])
    assert type(single) is MyParam and single.value == 2.0


# -- error types --------------------------------------------------------------------
def test_expression_errors_have_lmfit_types_and_name_the_parameter():
    with pytest.raises(NameError):
        _ = lmfit.create_params(a=1.0, b={"expr": "a + nothere"})["b"].value
    p = bf.create_params(a=1.0, b={"expr": "a + nothere"})
    with pytest.raises(NameError, match=r"parameter 'b'.*'nothere'") as info:
        _ = p["b"].value
    assert isinstance(info.value, ExprError) and isinstance(info.value, ValueError)
    with pytest.raises(NameError, match="'nothere'"):
        p.valuesdict()
    with pytest.raises(NameError, match="unknown function 'foo'"):
        bf.Parameter("c", expr="foo(a)")
    for mod in (lmfit, bf):
        with pytest.raises(SyntaxError):
            mod.create_params(a=1.0, b={"expr": "2*"})
    with pytest.raises(SyntaxError, match=r"parameter 'b'.*invalid syntax") as info:
        bf.Parameter("b", expr="2*")
    assert isinstance(info.value, ExprError)
    with pytest.raises(ExprError, match="cyclic"):
        _ = bf.create_params(a={"expr": "b"}, b={"expr": "a"})["a"].value
    with pytest.raises(NameError):
        bf.create_params(a=1.0).eval("a + zz")
    assert bf.create_params(a=2.0, b=0.5).eval("sqrt(a) * b") == pytest.approx(
        lmfit.create_params(a=2.0, b=0.5).eval("sqrt(a) * b"), rel=1e-15)
