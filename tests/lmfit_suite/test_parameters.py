# Ported from lmfit 1.3.4, tests/test_parameters.py (rewritten for batchfit:
# `lmfit` -> `batchfit`). lmfit's private attributes `_val`/`_expr` are read
# through the public `value`/`expr`. Tests of lmfit's asteval interpreter
# (usersyms, `_asteval.symtable`, `__reduce__`/`__setstate__` internals,
# `_expr_eval.error`) are left out, deliberately: batchfit's ties go through
# its own safe expression parser with a fixed set of functions, which has no
# user symbols (README, "Porting from lmfit").
import os
import pickle
from copy import copy, deepcopy

import numpy as np
import pytest
from numpy.testing import assert_allclose

import batchfit
from batchfit.models import VoigtModel

DATA = os.path.join(os.path.dirname(__file__), "data", "test_peak.dat")


def assert_parameter_attributes(par, expected):
    got = (par.name, par.value, par.vary, par.min, par.max, par.expr, par.brute_step, par.user_data)
    assert got == expected


@pytest.fixture
def parameters():
    pars = batchfit.Parameters()
    pars.add(batchfit.Parameter(name="a", value=10.0, vary=True, min=-100.0, max=100.0, expr=None,
                                brute_step=5.0, user_data=1))
    pars.add(batchfit.Parameter(name="b", value=0.0, vary=True, min=-250.0, max=250.0, expr="2.0*a",
                                brute_step=25.0, user_data={"test": 123}))
    exp_a = ("a", 10.0, True, -100.0, 100.0, None, 5.0, 1)
    exp_b = ("b", 20.0, False, -250.0, 250.0, "2.0*a", 25.0, {"test": 123})
    assert_parameter_attributes(pars["a"], exp_a)
    assert_parameter_attributes(pars["b"], exp_b)
    return pars, exp_a, exp_b


@pytest.mark.skip(reason="deliberate difference: ties may be declared before the parameters they use "
                  "(batchfit resolves them in dependency order), so an unknown name is a NameError when the "
                  "tie is evaluated or fitted, not when it is added (README, 'Porting from lmfit')")
def test_check_ast_errors():
    pars = batchfit.Parameters()
    with pytest.raises(NameError, match="par2"):
        pars.add("par1", expr="2.0*par2")


def test_parameters_copy(parameters):
    pars, exp_a, exp_b = parameters
    copies = [copy(pars), pars.copy(), pars.__copy__()]
    pars["a"].set(value=100)
    pars["b"].user_data["test"] = 456
    for copied in copies:
        assert isinstance(copied, batchfit.Parameters)
        assert copied != pars
        assert_parameter_attributes(copied["a"], exp_a)
        assert_parameter_attributes(copied["b"], exp_b)


def test_parameters_deepcopy(parameters):
    pars, _, _ = parameters
    assert deepcopy(pars) == pars
    pars["b"].expr = "sin(1)"
    pars["b"].value = 10
    assert_allclose(pars["b"].value, np.sin(1))


def test_parameters_deepcopy_subclass():
    class ParametersSubclass(batchfit.Parameters):
        pass

    assert isinstance(deepcopy(ParametersSubclass()), ParametersSubclass)


def test_parameters_update(parameters):
    pars, exp_a, exp_b = parameters
    with pytest.raises(ValueError, match=r"'test' is not a Parameters object"):
        pars.update("test")
    pars2 = batchfit.Parameters()
    pars2.add(batchfit.Parameter(name="c", value=7.0, vary=True, min=-70.0, max=70.0, expr=None,
                                 brute_step=0.7, user_data=7))
    updated = pars.update(pars2)
    assert_parameter_attributes(updated["a"], exp_a)
    assert_parameter_attributes(updated["b"], exp_b)
    assert_parameter_attributes(updated["c"], ("c", 7.0, True, -70.0, 70.0, None, 0.7, 7))


def test_parameters__setitem__(parameters):
    pars, _, _ = parameters
    with pytest.raises(KeyError, match=r"'10' is not a valid Parameters name"):
        pars.__setitem__("10", None)
    with pytest.raises(ValueError, match=r"'not_a_parameter' is not a Parameter"):
        pars.__setitem__("a", "not_a_parameter")
    pars.__setitem__("b", batchfit.Parameter("b", value=10, min=-25.0, brute_step=1))
    assert_parameter_attributes(pars["b"], ("b", 10, True, -25.0, np.inf, None, 1, None))


def _cd():
    pars2 = batchfit.Parameters()
    pars2.add_many(("c", 1.0, True, None, None, None), ("d", 2.0, True, None, None, None))
    return pars2


EXP_C = ("c", 1, True, -np.inf, np.inf, None, None, None)
EXP_D = ("d", 2, True, -np.inf, np.inf, None, None, None)


def test_parameters__add__(parameters):
    pars, exp_a, exp_b = parameters
    with pytest.raises(ValueError, match=r"'other' is not a Parameters object"):
        _ = pars + "other"
    added = pars + _cd()
    for n, e in zip("abcd", (exp_a, exp_b, EXP_C, EXP_D)):
        assert_parameter_attributes(added[n], e)


def test_parameters__iadd__(parameters):
    pars, exp_a, exp_b = parameters
    with pytest.raises(ValueError, match=r"'other' is not a Parameters object"):
        pars += "other"
    pars += _cd()
    for n, e in zip("abcd", (exp_a, exp_b, EXP_C, EXP_D)):
        assert_parameter_attributes(pars[n], e)


def test_parameters__array__(parameters):
    pars, _, _ = parameters
    assert_allclose(np.asarray(pars), np.asarray([10.0, 20.0]))


def test_pickle_parameters():
    p = batchfit.Parameters()
    p.add("a", 10, True, 0, 100)
    p.add("b", 10, True, 0, 100, "a * sin(1)")
    p.update_constraints()
    q = pickle.loads(pickle.dumps(p, -1))
    q.update_constraints()
    assert p == q
    assert p is not q
    # an expr referring to a parameter later in the dict still unpickles
    p = batchfit.Parameters()
    p.add("var_0", value=1)
    p.add("var_1", value=2)
    p["var_0"].expr = "var_1"
    q = pickle.loads(pickle.dumps(p))
    assert_allclose(q["var_0"].value, 2)


def test_parameters_eval(parameters):
    pars, _, _ = parameters
    assert_allclose(pars.eval("10.0*a+b"), 120)


def test_parameters_pretty_repr(parameters):
    pars, _, _ = parameters
    lines = pars.pretty_repr().split("\n")
    assert len(lines) == 5
    assert "Parameters" in lines[0]
    assert "Parameter 'a'" in lines[1]
    assert "Parameter 'b'" in lines[2]
    oneliner = ("Parameters([('a', <Parameter 'a', value=10.0, bounds=[-100.0:100.0], brute_step=5.0>), "
                "('b', <Parameter 'b', value=20.0, bounds=[-250.0:250.0], expr='2.0*a', brute_step=25.0>)])")
    assert pars.pretty_repr(oneline=True) == oneliner


def test_parameters_pretty_print(parameters, capsys):
    pars, _, _ = parameters

    def lines(**kw):
        pars.pretty_print(**kw)
        return capsys.readouterr().out.split("\n")

    pars.pretty_print(oneline=True)
    assert pars.pretty_repr(oneline=True) in capsys.readouterr().out
    out = lines()
    assert len(out) == 4
    assert out[0] == "Name     Value      Min      Max   Stderr     Vary     Expr Brute_Step"
    assert lines(colwidth=12)[0] == ("Name         Value          Min          Max       Stderr     "
                                     "    Vary         Expr   Brute_Step")
    pars["a"].stderr = 0.01
    assert lines(columns=["value", "min", "max", "stderr"])[:3] == [
        "Name     Value      Min      Max   Stderr",
        "a        10     -100      100     0.01",
        "b        20     -250      250     None"]
    assert lines(fmt="e", columns=["value", "min", "max"])[:3] == [
        "Name     Value      Min      Max",
        "a  1.0000e+01 -1.0000e+02 1.0000e+02",
        "b  2.0000e+01 -2.5000e+02 2.5000e+02"]
    assert lines(precision=2, fmt="e", columns=["value", "min", "max"])[:3] == [
        "Name     Value      Min      Max",
        "a  1.00e+01 -1.00e+02 1.00e+02",
        "b  2.00e+01 -2.50e+02 2.50e+02"]


@pytest.mark.skip(reason="deliberate difference: a Parameter made without a value has value None "
                  "(a fit then names it), where lmfit's reads -inf (README, 'Porting from lmfit')")
def test_parameters_add():
    pars, pars_from_par = batchfit.Parameters(), batchfit.Parameters()
    pars.add("a")
    assert_parameter_attributes(pars["a"], ("a", -np.inf, True, -np.inf, np.inf, None, None, None))
    pars_from_par.add(batchfit.Parameter("a"))
    assert pars_from_par == pars
    pars.add("b", value=1, vary=False, min=-5.0, max=5.0, brute_step=0.1)
    assert_parameter_attributes(pars["b"], ("b", 1.0, False, -5.0, 5.0, None, 0.1, None))
    pars_from_par.add(batchfit.Parameter("b", value=1, vary=False, min=-5.0, max=5.0, brute_step=0.1))
    assert pars_from_par == pars


def test_add_params_expr_outoforder():
    params1 = batchfit.Parameters()
    params1.add("a", value=1.0)
    params2 = batchfit.Parameters()
    params2.add("b", value=1.0)
    params2.add("c", value=2.0)
    params2["b"].expr = "c/2"
    params = params1 + params2
    assert "b" in params
    assert_allclose(params["b"].value, 1.0)


def test_parameters_add_many():
    par = batchfit.Parameters()
    par.add_many(batchfit.Parameter("a", 1), batchfit.Parameter("b", 2))
    par_with_tuples = batchfit.Parameters()
    par_with_tuples.add_many(("a", 1), ("b", 2))
    assert list(par.keys()) == ["a", "b"]
    assert par == par_with_tuples


def test_parameters_valuesdict(parameters):
    pars, _, _ = parameters
    vals = pars.valuesdict()
    assert isinstance(vals, dict)
    assert_allclose(vals["a"], pars["a"].value)
    assert_allclose(vals["b"], pars["b"].value)


def test_dumps_loads_parameters(parameters):
    pars, _, _ = parameters
    dumps = pars.dumps()
    assert isinstance(dumps, str)
    newpars = batchfit.Parameters().loads(dumps)
    assert newpars == pars
    newpars["a"].value = 100.0
    assert_allclose(newpars["b"].value, 200.0)


def test_dump_load_parameters(parameters, tmp_path):
    pars, _, _ = parameters
    path = tmp_path / "parameters.sav"
    with open(path, "w") as outfile:
        pars.dump(outfile)
    with open(path) as infile:
        newpars = pars.load(infile)
    assert newpars == pars
    newpars["a"].value = 100.0
    assert_allclose(newpars["b"].value, 200.0)


def test_parameters_expr_and_constraints():
    p = batchfit.Parameters()
    p.add(batchfit.Parameter("a", 10, True))
    p.add(batchfit.Parameter("b", 10, True, 0, 20))
    assert_allclose([p["b"].min, p["b"].max], [0, 20])
    p["a"].expr = "2 * b"
    assert_allclose(p["a"].value, 20)
    p["b"].value = 15
    assert_allclose([p["b"].value, p["a"].value], [15, 30])
    p["b"].value = 30
    assert_allclose([p["b"].value, p["a"].value], [20, 40])


def test_parameters_expr_with_bounds():
    pars = batchfit.Parameters()
    for n, v in (("c1", 0.2), ("c2", 0.2), ("c3", 0.2), ("csum", 0.8)):
        pars.add(n, value=v)
    pars.add("c4", expr="csum-c1-c2-c3", min=0, max=1)
    assert_allclose(pars["c4"].value, 0.2)


def test_invalid_expr_exceptions():
    # lmfit's `_expr_eval.error` (its interpreter's error list) is left out
    p1 = batchfit.Parameters()
    p1.add("t", 2.0, min=0.0, max=5.0)
    p1.add("x", 10.0)
    with pytest.raises(SyntaxError):
        p1.add("y", expr="x*t + sqrt(t)/")
    p1.add("y", expr="x*t + sqrt(t)/3.0")
    p1["y"].set(expr="x*3.0 + t**2")
    assert "x*3" in p1["y"].expr
    with pytest.raises(SyntaxError):
        p1["y"].set(expr="t+")
    assert_allclose(p1["y"].value, 34.0)


@pytest.mark.skip(reason="deliberate difference: 'e' (like 'pi') is the constant in tie expressions, so "
                  "it is not a parameter name in batchfit (README, 'Porting from lmfit')")
def test_create_params():
    pars1 = batchfit.create_params(a=8, b=9, c=dict(value=3, min=0, max=10), d=dict(expr="a+b/c"),
                                   e=dict(value=10000, brute_step=4))
    assert (pars1["a"].value, pars1["b"].value, pars1["c"].value) == (8, 9, 3)
    assert (pars1["c"].min, pars1["c"].max) == (0, 10)
    assert pars1["d"].expr == "a+b/c"
    assert pars1["d"].value == 11
    assert (pars1["e"].value, pars1["e"].brute_step) == (10000, 4)


def test_unset_constrained_param():
    x, y = np.loadtxt(DATA).T
    mod = VoigtModel()
    params = mod.guess(y, x=x)
    out1 = mod.fit(y, params, x=x)
    assert out1.nvarys == 3
    assert out1.chisqr < 20.0
    params["gamma"].vary = True
    out2 = mod.fit(y, params, x=x)
    assert out2.nvarys == 4
    assert out2.chisqr < out1.chisqr
    assert out2.rsquared > out1.rsquared
    assert out2.params["gamma"].correl["sigma"] < -0.6


def test_parameters_add_variants():
    pars = batchfit.Parameters()
    pars.add(batchfit.Parameter("a", value=3, min=0))
    pars.add("bprime", batchfit.Parameter("b", value=7, min=1))
    par3 = batchfit.Parameter("c", value=9, user_data={"form": "square"})
    pars.add("c", par3)
    pars.add("c1", par3, min=1)
    assert pars["a"].value == 3
    assert (pars["bprime"].value, pars["bprime"].min, pars["bprime"].name) == (7, 1, "bprime")
    assert pars["c"].value == 9
    assert pars["c"].user_data == {"form": "square"}
    assert (pars["c1"].value, pars["c1"].min) == (9, 1)
    assert pars["c1"].user_data == {"form": "square"}
    assert pars["c1"] is not pars["c"]
