"""Parameter / Parameters / create_params: construction, access, ties, copies."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import batchfit
from batchfit import ExprError, Parameter, Parameters, create_params


# --------------------------------------------------------------------------
# Parameter
# --------------------------------------------------------------------------
def test_parameter_defaults():
    p = Parameter("amp")
    assert p.name == "amp"
    assert p.value is None
    assert p.vary is True
    assert p.min == -np.inf and p.max == np.inf
    assert p.expr is None
    assert p.stderr is None and p.init_value is None and p.correl is None


def test_parameter_scalar_values_are_floats():
    p = Parameter("amp", 3, min=0, max=10)
    assert isinstance(p.value, float) and p.value == 3.0
    assert isinstance(p.min, float) and p.min == 0.0
    assert isinstance(p.max, float) and p.max == 10.0
    p = Parameter("amp", np.float32(2.5))
    assert isinstance(p.value, float) and p.value == 2.5


def test_parameter_none_bounds_mean_infinite():
    p = Parameter("a", 1.0, min=None, max=None)
    assert p.min == -np.inf and p.max == np.inf
    p.min = None
    p.max = None
    assert p.min == -np.inf and p.max == np.inf


def test_parameter_array_values():
    rng = np.random.default_rng(0)
    v = rng.normal(size=5)
    lo = v - rng.uniform(0.1, 1.0, size=5)
    p = Parameter("a", v, min=lo, max=np.inf)
    assert isinstance(p.value, np.ndarray) and p.value.shape == (5,) and p.value.dtype == np.float64
    np.testing.assert_array_equal(p.value, v)
    np.testing.assert_array_equal(p.min, lo)
    # the parameter always holds its own, writable copy
    assert p.value is not v and not np.shares_memory(p.value, v)
    v[0] = 123.0
    assert p.value[0] != 123.0
    q = Parameter("b", [1, 2, 3])
    np.testing.assert_array_equal(q.value, [1.0, 2.0, 3.0])
    assert q.value.dtype == np.float64
    ro = np.arange(3.0)
    ro.setflags(write=False)
    r = Parameter("c", ro)
    r.value[0] = 5.0
    assert r.value[0] == 5.0 and ro[0] == 0.0


@pytest.mark.parametrize("bad", [np.zeros((3, 1, 1)), np.zeros((2, 2, 2, 2))])
@pytest.mark.parametrize("attr", ["value", "min", "max"])
def test_parameter_rejects_arrays_beyond_2d(attr, bad):
    # 2-D (G, K) values are allowed: per-dataset starts of shared-parameter groups
    with pytest.raises(ValueError, match=rf"parameter 'amp' {attr} must be a scalar, a 1-D array"):
        Parameter("amp", **{attr: bad})


@pytest.mark.parametrize("name", ["1a", "a b", "a-b", "a.b", "", "_a", "__class__", "a+b", "é-x"])
def test_parameter_invalid_names(name):
    with pytest.raises(ValueError, match="parameter name must be a Python identifier"):
        Parameter(name, 1.0)
    with pytest.raises(ValueError, match="parameter name must be a Python identifier"):
        Parameters().add(name, 1.0)


@pytest.mark.parametrize("name", [3, None, 1.5, b"abc"])
def test_parameter_non_string_names(name):
    with pytest.raises(ValueError, match="parameter name"):
        Parameter(name, 1.0)


@pytest.mark.parametrize("name", ["lambda", "None", "True", "False", "for", "import", "if", "and"])
def test_keyword_parameter_names_rejected(name):
    with pytest.raises(ValueError, match=f"parameter name '{name}' is a Python keyword"):
        Parameter(name, 1.0)
    with pytest.raises(ValueError, match="keyword"):
        create_params(**{name: 1.0})


@pytest.mark.parametrize("name", ["match", "case", "type"])
def test_soft_keyword_parameter_names_allowed(name):
    params = create_params(**{name: 2.0, "b": {"expr": f"3*{name}"}})
    assert params.valuesdict()["b"] == 6.0


@pytest.mark.parametrize("name", ["e", "pi"])
def test_parameter_named_like_constant_rejected(name):
    # a parameter 'e' would be silently shadowed by Euler's number in ties
    with pytest.raises(ValueError, match=f"parameter name '{name}' is reserved: it is the constant"):
        Parameter(name, 1.0)
    with pytest.raises(ValueError, match=f"'{name}' is reserved"):
        create_params(**{name: 0.1, "twice": {"expr": f"2*{name}"}})
    with pytest.raises(ValueError, match=f"'{name}' is reserved"):
        Parameters().add(name, 1.0)


@pytest.mark.parametrize("name", ["exp", "sqrt", "where", "abs", "minimum", "arctan2"])
def test_parameter_named_like_function_rejected(name):
    # such a parameter could never be referenced in a tie ("used without a call")
    with pytest.raises(ValueError, match=f"parameter name '{name}' is reserved: it is a function"):
        Parameter(name, 1.0)


def test_create_params_invalid_name():
    with pytest.raises(ValueError, match="'2x'"):
        create_params(**{"2x": 1.0})


def test_expr_makes_vary_false_in_constructor():
    p = Parameter("b", vary=True, expr="2*a")
    assert p.vary is False
    assert p.expr == "2*a"


def test_expr_assignment_makes_vary_false():
    p = Parameter("b", 1.0)
    assert p.vary is True
    p.expr = "a + 1"
    assert p.vary is False and p.expr == "a + 1"


def test_set_updates_fields_and_returns_self():
    p = Parameter("a", 1.0)
    out = p.set(value=2.0, min=-1.0, max=5.0)
    assert out is p
    assert (p.value, p.min, p.max, p.vary) == (2.0, -1.0, 5.0, True)
    p.set(vary=False)
    assert p.vary is False
    p.set(vary=True)
    assert p.vary is True
    # None means "leave unchanged"
    p.set(value=None, min=None, max=None, vary=None, expr=None)
    assert (p.value, p.min, p.max, p.vary, p.expr) == (2.0, -1.0, 5.0, True, None)


def test_set_expr_ties_and_empty_string_unties():
    p = Parameter("a", 1.0)
    p.set(expr="2*b")
    assert p.expr == "2*b" and p.vary is False
    p.set(expr="")
    assert p.expr is None
    p.set(vary=True)
    assert p.vary is True


def test_set_array_value():
    p = Parameter("a", 1.0)
    p.set(value=np.array([1.0, 2.0]))
    np.testing.assert_array_equal(p.value, [1.0, 2.0])


def test_set_invalid_expr_raises_and_keeps_old():
    p = Parameter("a", 1.0)
    with pytest.raises(ExprError, match="parameter 'a' expr"):
        p.set(expr="2 *")
    assert p.expr is None and p.vary is True


def test_invalid_expr_in_constructor_names_parameter():
    with pytest.raises(ExprError, match=r"parameter 'sig' expr.*invalid syntax"):
        Parameter("sig", expr="a +* 2")
    with pytest.raises(ExprError, match="parameter 'sig' expr"):
        Parameter("sig", expr="a.__class__")
    with pytest.raises(ExprError, match="must be a string"):
        Parameter("sig", expr=3)
    assert issubclass(ExprError, ValueError)


def test_empty_expr_string_means_no_tie():
    p = Parameter("a", 1.0, expr="   ")
    assert p.expr is None and p.vary is True


def test_parameter_copy_is_independent():
    p = Parameter("a", np.array([1.0, 2.0, 3.0]), min=np.array([0.0, 0.0, 0.0]), max=9.0)
    p.correl = {"b": 0.5}
    q = p.copy()
    assert q is not p and q.name == "a"
    q.value[0] = 100.0
    q.min[1] = -5.0
    q.correl["b"] = -1.0
    q.max = 1.0
    q.vary = False
    np.testing.assert_array_equal(p.value, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(p.min, [0.0, 0.0, 0.0])
    assert p.correl == {"b": 0.5}
    assert p.max == 9.0 and p.vary is True


# --------------------------------------------------------------------------
# repr
# --------------------------------------------------------------------------
def test_parameter_repr_readable():
    r = repr(Parameter("amp", 3.0, min=0))
    assert r == "<Parameter 'amp', value=3.0, bounds=[0.0:inf]>"  # lmfit's repr
    r = repr(Parameter("amp", 3.25, vary=False, min=-1, max=2.5e6))
    assert r == "<Parameter 'amp', value=3.25 (fixed), bounds=[-1.0:2500000.0]>"
    r = repr(Parameter("cen2", expr="cen + 0.5"))
    assert "'cen2'" in r and "expr='cen + 0.5'" in r and "fixed" not in r
    r = repr(Parameter("a", np.array([1.0, 2.0, 6.0])))
    assert "shape=(3,)" in r and "mean=3" in r
    p = Parameter("a", 2.0)
    p.stderr = 0.125
    assert "value=2.0 +/- 0.125" in repr(p)


def test_parameters_repr_lists_every_parameter_in_order():
    params = create_params(zeta=1.0, alpha={"value": 2.0, "min": 0}, mid={"expr": "2*alpha"})
    r = repr(params)
    assert r.startswith("Parameters({") and r.endswith("})")
    pos = [r.index(f"'{n}'") for n in ("zeta", "alpha", "mid")]
    assert pos == sorted(pos)
    assert repr(params["alpha"]) in r
    assert params.pretty_repr() == r + "\n"  # lmfit's pretty_repr ends with a newline


def test_pretty_print(capsys):
    # oneline: lmfit's one-line repr; the default table is lmfit's (tests/test_lmfit_params.py)
    params = create_params(a=1.0)
    params.pretty_print(oneline=True)
    assert capsys.readouterr().out.strip() == "Parameters([('a', <Parameter 'a', value=1.0, bounds=[-inf:inf]>)])"


# --------------------------------------------------------------------------
# Parameters container
# --------------------------------------------------------------------------
def test_parameters_add_and_item_access():
    params = Parameters()
    params.add("amp", value=10, min=0)
    params.add("cen", 1.5, False)
    params.add(Parameter("sig", 0.5, max=3))
    assert list(params) == ["amp", "cen", "sig"]
    assert len(params) == 3 and "cen" in params and "nope" not in params
    assert isinstance(params["amp"], Parameter)
    assert params["amp"].value == 10.0 and params["amp"].min == 0.0
    assert params["cen"].vary is False
    assert params["sig"].max == 3.0
    with pytest.raises(KeyError):
        params["nope"]


def test_parameters_add_existing_name_replaces():
    params = Parameters()
    params.add("a", 1.0)
    params.add("b", 2.0)
    params.add("a", 5.0)
    assert list(params) == ["a", "b"]
    assert params["a"].value == 5.0


def test_parameters_setitem_checks_type_and_name():
    params = Parameters()
    params["a"] = Parameter("a", 1.0)
    assert params["a"].value == 1.0
    with pytest.raises(ValueError, match="key 'x' does not match the parameter's name 'y'"):
        params["x"] = Parameter("y", 1.0)
    with pytest.raises(TypeError, match=r"Parameters\['z'\] must be a Parameter, got float"):
        params["z"] = 1.0
    assert list(params) == ["a"]


@pytest.mark.parametrize("how", ["init", "init_kwargs", "update", "update_kwargs", "setdefault", "ior"])
def test_parameters_dict_methods_validate(how):
    params = Parameters({"a": Parameter("a", 1.0)})
    with pytest.raises(TypeError, match=r"Parameters\['b'\] must be a Parameter, got float"):
        if how == "init":
            Parameters({"b": 1.0})
        elif how == "init_kwargs":
            Parameters(b=1.0)
        elif how == "update":
            params.update({"c": Parameter("c", 1.0), "b": 1.0})
        elif how == "update_kwargs":
            params.update(b=1.0)
        elif how == "setdefault":
            params.setdefault("b", 1.0)
        else:
            params |= {"b": 1.0}
    assert list(params) == ["a"]  # nothing added, not even the valid 'c'
    with pytest.raises(ValueError, match="key 'x' does not match the parameter's name 'y'"):
        Parameters({"x": Parameter("y", 1.0)})
    with pytest.raises(ValueError, match="key 'x' does not match"):
        params.setdefault("x", Parameter("y", 1.0))


def test_parameters_dict_methods_accept_parameters():
    a, b, c = Parameter("a", 1.0), Parameter("b", 2.0), Parameter("c", 3.0)
    params = Parameters({"a": a}, b=b)
    assert isinstance(params, Parameters) and list(params) == ["a", "b"]
    assert Parameters([("a", a)])["a"] is a
    params.update([("c", c)])
    assert params.setdefault("c", Parameter("c", 9.0)) is c  # present: unchanged
    assert params.setdefault("d", Parameter("d", 4.0)).value == 4.0
    merged = params | {"e1": Parameter("e1", 5.0)}
    assert isinstance(merged, Parameters) and list(merged) == ["a", "b", "c", "d", "e1"]
    assert "e1" not in params
    assert Parameters(params).valuesdict() == {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}


def test_add_many():
    params = Parameters()
    params.add_many(
        ("a", 1.0),
        ("b", 2.0, False),
        ("c", 3.0, True, 0.0, 5.0),
        ("d", None, True, -np.inf, np.inf, "a + c"),
        Parameter("f", 7.0, min=1.0),
    )
    assert list(params) == ["a", "b", "c", "d", "f"]
    assert params["a"].value == 1.0 and params["a"].vary
    assert params["b"].vary is False
    assert (params["c"].min, params["c"].max) == (0.0, 5.0)
    assert params["d"].expr == "a + c" and params["d"].vary is False
    assert params["f"].min == 1.0
    assert params.valuesdict() == {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0, "f": 7.0}


def test_create_params_numbers_and_dicts():
    params = create_params(
        a=1, b=2.5, c={"value": 2, "min": 0, "max": 4, "vary": False}, d={"expr": "2*b"},
        arr=np.array([1.0, 2.0]),
    )
    assert list(params) == ["a", "b", "c", "d", "arr"]
    assert isinstance(params["a"].value, float) and params["a"].value == 1.0
    assert params["b"].value == 2.5
    c = params["c"]
    assert (c.value, c.min, c.max, c.vary) == (2.0, 0.0, 4.0, False)
    assert params["d"].expr == "2*b" and params["d"].vary is False
    np.testing.assert_array_equal(params["arr"].value, [1.0, 2.0])
    assert params.valuesdict()["d"] == 5.0


def test_create_params_unknown_field():
    with pytest.raises(ValueError, match=r"parameter 'amp' has unknown field\(s\) \['mn', 'valu'\]"):
        create_params(amp={"valu": 1.0, "mn": 0})


def test_create_params_empty():
    params = create_params()
    assert isinstance(params, Parameters) and len(params) == 0
    assert params.valuesdict() == {}


# --------------------------------------------------------------------------
# valuesdict and ties
# --------------------------------------------------------------------------
def test_valuesdict_no_ties():
    params = create_params(a=1.5, b={"value": -2.0, "vary": False})
    assert params.valuesdict() == {"a": 1.5, "b": -2.0}


def test_valuesdict_simple_tie():
    params = Parameters()
    params.add("amp", value=10, min=0)
    params.add("cen", value=1.0)
    params.add("cen2", expr="cen + 0.5")
    vd = params.valuesdict()
    assert list(vd) == ["amp", "cen", "cen2"]
    assert vd == {"amp": 10.0, "cen": 1.0, "cen2": 1.5}
    assert isinstance(vd["cen2"], float)


def test_valuesdict_chained_ties_declared_in_any_order():
    # d depends on c, which depends on b, which depends on a; declared backwards
    params = Parameters()
    params.add("d", expr="c * 2 + b")
    params.add("c", expr="sqrt(b) + a")
    params.add("b", expr="a**2")
    params.add("a", value=3.0)
    vd = params.valuesdict()
    a = 3.0
    b = a**2
    c = np.sqrt(b) + a
    d = c * 2 + b
    assert list(vd) == ["d", "c", "b", "a"]
    np.testing.assert_allclose([vd["a"], vd["b"], vd["c"], vd["d"]], [a, b, c, d], rtol=1e-14)


def test_valuesdict_ties_with_functions_and_constants():
    params = create_params(
        sigma=0.7, fwhm={"expr": "2*sqrt(2*log(2))*sigma"}, height={"expr": "1/(sigma*sqrt(2*pi))"},
        ee={"expr": "e**sigma"},
    )
    vd = params.valuesdict()
    np.testing.assert_allclose(vd["fwhm"], 2 * np.sqrt(2 * np.log(2)) * 0.7, rtol=1e-14)
    np.testing.assert_allclose(vd["height"], 1 / (0.7 * np.sqrt(2 * np.pi)), rtol=1e-14)
    np.testing.assert_allclose(vd["ee"], np.e**0.7, rtol=1e-14)


def test_valuesdict_array_values_and_chained_ties():
    rng = np.random.default_rng(42)
    a = rng.uniform(0.5, 2.0, size=6)
    params = create_params(a=a, k=3.0, b={"expr": "2*a"}, c={"expr": "b + a*k"}, d={"expr": "exp(-c)"})
    vd = params.valuesdict()
    np.testing.assert_allclose(vd["b"], 2 * a, rtol=1e-14)
    np.testing.assert_allclose(vd["c"], 2 * a + 3.0 * a, rtol=1e-14)
    np.testing.assert_allclose(vd["d"], np.exp(-5 * a), rtol=1e-14)
    assert vd["d"].dtype == np.float64
    assert vd["c"].shape == (6,)
    # the returned array is a copy, not a view of the parameter's value
    vd["a"][0] = -1.0
    assert params["a"].value[0] == a[0]


def test_valuesdict_unknown_name_and_cycle():
    params = create_params(a=1.0, b={"expr": "a + zz"})
    with pytest.raises(ExprError, match=r"parameter 'b'.*'zz'"):
        params.valuesdict()
    params = create_params(a={"expr": "b + 1"}, b={"expr": "2*a"})
    with pytest.raises(ExprError, match="cyclic"):
        params.valuesdict()


def test_valuesdict_ties_keep_float64():
    # host-side ties are evaluated with numpy in float64, whatever JAX's x64 setting
    a = np.array([0.1, 0.2, 0.7])
    params = create_params(a=a, b={"expr": "exp(a)"}, s=0.1, t={"expr": "sqrt(s)"},
                           w={"expr": "where(a > 0.15, 1, -1)"})
    vd = params.valuesdict()
    assert vd["b"].dtype == np.float64 and vd["w"].dtype == np.float64
    np.testing.assert_allclose(vd["b"], np.exp(a), rtol=1e-14)
    assert isinstance(vd["t"], float)
    np.testing.assert_allclose(vd["t"], np.sqrt(0.1), rtol=1e-14)
    np.testing.assert_array_equal(vd["w"], [-1.0, 1.0, 1.0])


def test_valuesdict_missing_value_names_parameter():
    params = Parameters()
    params.add("a")
    params.add("b", expr="2*a")
    with pytest.raises(ValueError, match=r"parameter 'b'.*uses parameter\(s\) 'a' without a value"):
        params.valuesdict()
    # a parameter without a value that no tie uses is simply reported as None
    assert create_params(a=None, b=1.0, c={"expr": "2*b"}).valuesdict() == {"a": None, "b": 1.0, "c": 2.0}


@pytest.mark.parametrize(
    "expr,check",
    [
        ("a + 1/0", np.isposinf),
        ("a - 0/0", np.isnan),
        ("a * (-8)**(1/3)", np.isnan),  # not a Python complex
        ("a + 2**1024", np.isposinf),
        ("a + 9**9**9", np.isposinf),  # float, not a Python int with 370 million digits
        ("log(a - 1)", np.isneginf),
        ("sqrt(-a)", np.isnan),
    ],
)
def test_valuesdict_ieee_results_without_errors_or_warnings(expr, check):
    # pytest turns warnings into errors here, so this also checks that none is emitted
    for a in (1.0, np.array([1.0, 1.0])):
        v = create_params(a=a, b={"expr": expr}).valuesdict()["b"]
        assert not isinstance(v, complex)
        assert np.all(check(v)), v


def test_valuesdict_does_not_modify_tied_values():
    # a tie's value is evaluated on access (as lmfit's); nothing is stored
    params = create_params(a=2.0, b={"expr": "3*a"})
    params.valuesdict()
    assert params["b"]._value is None and params["b"].expr == "3*a"
    assert params["b"].value == 6.0


# --------------------------------------------------------------------------
# copies
# --------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["method", "copy", "deepcopy"])
def test_parameters_copy_is_independent(how):
    params = create_params(a=np.array([1.0, 2.0]), b={"value": 1.0, "min": 0.0}, c={"expr": "2*b"})
    dup = {"method": lambda p: p.copy(), "copy": copy.copy, "deepcopy": copy.deepcopy}[how](params)
    assert isinstance(dup, Parameters)
    assert list(dup) == list(params)
    assert all(dup[n] is not params[n] for n in params)
    dup["a"].value[0] = 99.0
    dup["b"].value = 7.0
    dup["b"].min = -3.0
    dup["c"].expr = "3*b"
    dup.add("new", 1.0)
    np.testing.assert_array_equal(params["a"].value, [1.0, 2.0])
    assert params["b"].value == 1.0 and params["b"].min == 0.0
    assert params["c"].expr == "2*b"
    assert "new" not in params
    assert params.valuesdict()["c"] == 2.0
    assert dup.valuesdict()["c"] == 21.0


def test_public_api_exports():
    for name in ("Parameter", "Parameters", "create_params", "Model", "minimize", "ExprError",
                 "fit_report", "RESULTS", "LMConfig"):
        assert hasattr(batchfit, name), name


def test_result_param_arrays_writable():
    # "take the result, adjust some starts, refit" needs writable arrays
    x = np.linspace(0.0, 1.0, 10)
    Y = np.stack([2 * x + 1, 3 * x - 1])

    def line(x, slope, intercept):
        return slope * x + intercept

    res = batchfit.Model(line).fit(Y, create_params(slope=np.ones(2), intercept=0.0), x=x)
    p = res.params
    p["slope"].value[0] = 5.0
    assert p["slope"].value[0] == 5.0
