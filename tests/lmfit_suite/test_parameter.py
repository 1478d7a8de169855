# Ported from lmfit 1.3.4, tests/test_parameter.py (rewritten for batchfit:
# `lmfit` -> `batchfit`); lmfit's private `_val`/`_expr` are read through the
# public `value`/`expr`. Left out, deliberately:
# - test_initialize_Parameter, test_repr's value-less cases, test_setstate's
#   new Parameter: a Parameter made without a value has value None (lmfit:
#   -inf; README); the private attributes it lists are asteval's.
# - test_init_bounds, test_getstate, test_setup_bounds_and_scale_gradient_methods:
#   lmfit internals (`_init_bounds`, the pickle tuple, MINUIT transform
#   methods); batchfit's bound transform lives in the solver. batchfit also
#   raises ValueError for min > max where lmfit swaps them.
import pickle
from math import trunc

import numpy as np
import pytest
from numpy.testing import assert_allclose

import batchfit


@pytest.fixture
def parameters():
    pars = batchfit.Parameters()
    pars.add(batchfit.Parameter(name='a', value=10.0, vary=True, min=-100.0, max=100.0, expr=None,
                                brute_step=5.0, user_data=1))
    pars.add(batchfit.Parameter(name='b', value=0.0, vary=True, min=-250.0, max=250.0, expr="2.0*a",
                                brute_step=25.0, user_data=2.5))
    exp_a = ('a', 10.0, True, -100.0, 100.0, None, 5.0, 1)
    exp_b = ('b', 20.0, False, -250.0, 250.0, "2.0*a", 25.0, 2.5)
    assert_parameter_attributes(pars['a'], exp_a)
    assert_parameter_attributes(pars['b'], exp_b)
    return pars, exp_a, exp_b


@pytest.fixture
def parameter():
    param = batchfit.Parameter(name='a', value=10.0, vary=True, min=-100.0, max=100.0, expr=None,
                               brute_step=5.0, user_data=1)
    expected = ('a', 10.0, True, -100.0, 100.0, None, 5.0, 1)
    assert_parameter_attributes(param, expected)
    return param, expected


def assert_parameter_attributes(par, expected):
    got = (par.name, par.value, par.vary, par.min, par.max, par.expr, par.brute_step, par.user_data)
    assert got == expected


def test_Parameter_no_name():
    with pytest.raises(TypeError, match=r"missing 1 required positional argument: 'name'"):
        batchfit.Parameter()


def test_parameter_set_value(parameter):
    par, init = parameter
    par.set(value=None)
    assert_parameter_attributes(par, init)
    par.set(value=5.0)
    assert_parameter_attributes(par, ('a', 5.0, True, -100.0, 100.0, None, 5.0, 1))


def test_parameter_set_vary(parameter):
    par, init = parameter
    par.set(vary=None)
    assert_parameter_attributes(par, init)
    par.set(vary=False)
    assert_parameter_attributes(par, ('a', 10.0, False, -100.0, 100.0, None, 5.0, 1))


def test_parameter_set_min(parameter):
    par, init = parameter
    par.set(min=None)
    assert_parameter_attributes(par, init)
    par.set(min=-50.0)
    assert_parameter_attributes(par, ('a', 10.0, True, -50.0, 100.0, None, 5.0, 1))


def test_parameter_set_max(parameter):
    par, init = parameter
    par.set(max=None)
    assert_parameter_attributes(par, init)
    par.set(max=50.0)
    assert_parameter_attributes(par, ('a', 10.0, True, -100.0, 50.0, None, 5.0, 1))


def test_parameter_set_expr(parameter):
    par, _ = parameter
    par.set(expr='2.0*50.0')
    assert (par.vary, par.expr) == (False, '2.0*50.0')
    par.set(expr=None)
    assert (par.vary, par.expr) == (False, '2.0*50.0')
    par.set(expr='')
    assert_parameter_attributes(par, ('a', 10.0, False, -100.0, 100.0, None, 5.0, 1))


def test_parameters_set_value_with_expr(parameters):
    pars, _, _ = parameters
    pars['a'].set(value=5.0)
    pars.update_constraints()
    assert_parameter_attributes(pars['a'], ('a', 5.0, True, -100.0, 100.0, None, 5.0, 1))
    assert_parameter_attributes(pars['b'], ('b', 10.0, False, -250.0, 250.0, "2.0*a", 25.0, 2.5))
    pars['b'].set(value=1.0)
    pars.update_constraints()
    assert_parameter_attributes(pars['a'], ('a', 5.0, True, -100.0, 100.0, None, 5.0, 1))
    assert_parameter_attributes(pars['b'], ('b', 1.0, False, -250.0, 250.0, None, 25.0, 2.5))


def test_parameters_set_vary_with_expr(parameters):
    pars, init_a, _ = parameters
    pars['b'].set(vary=True)
    pars.update_constraints()
    assert_parameter_attributes(pars['a'], init_a)
    assert_parameter_attributes(pars['b'], ('b', 20.0, True, -250.0, 250.0, None, 25.0, 2.5))


def test_parameters_set_expr(parameters):
    pars, init_a, init_b = parameters
    pars['b'].set(expr=None)
    pars.update_constraints()
    assert_parameter_attributes(pars['a'], init_a)
    assert_parameter_attributes(pars['b'], init_b)
    pars['b'].set(expr='')
    pars.update_constraints()
    assert_parameter_attributes(pars['a'], init_a)
    assert_parameter_attributes(pars['b'], ('b', 20.0, False, -250.0, 250.0, None, 25.0, 2.5))
    pars['a'].set(expr="b/4.0")
    pars.update_constraints()
    assert_parameter_attributes(pars['a'], ('a', 5.0, False, -100.0, 100.0, "b/4.0", 5.0, 1))
    assert_parameter_attributes(pars['b'], ('b', 20.0, False, -250.0, 250.0, None, 25.0, 2.5))


def test_parameter_set_brute_step(parameter):
    par, init = parameter
    par.set(brute_step=None)
    assert_parameter_attributes(par, init)
    par.set(brute_step=0.0)
    assert_parameter_attributes(par, ('a', 10.0, True, -100.0, 100.0, None, None, 1))
    par.set(brute_step=1.0)
    assert_parameter_attributes(par, ('a', 10.0, True, -100.0, 100.0, None, 1.0, 1))


def test_parameter_pickle_(parameter):
    par, _ = parameter
    assert pickle.loads(pickle.dumps(par)) == par


def test_repr():
    par = batchfit.Parameter(name='test', value=10.0, min=0.0, max=20.0)
    assert repr(par) == "<Parameter 'test', value=10.0, bounds=[0.0:20.0]>"
    par = batchfit.Parameter(name='test', value=10.0, vary=False)
    assert repr(par) == "<Parameter 'test', value=10.0 (fixed), bounds=[-inf:inf]>"
    par.set(vary=True)
    par.stderr = 0.1
    assert repr(par) == "<Parameter 'test', value=10.0 +/- 0.1, bounds=[-inf:inf]>"


def test_value_setter(parameter):
    par, init = parameter
    par.value = 200.0
    assert_allclose(par.value, 100.0)
    par.value = -200.0
    assert_allclose(par.value, -100.0)


def test__array__(parameter):
    par, _ = parameter
    assert np.array(par) == np.array(10.0)


def test__str__(parameter):
    par, _ = parameter
    assert str(par) == "<Parameter 'a', value=10.0, bounds=[-100.0:100.0], brute_step=5.0>"


def test_unary_and_conversions(parameter):
    par, _ = parameter
    assert_allclose(abs(par), 10.0)
    assert_allclose(-par, -10.0)
    assert_allclose(+par, 10.0)
    assert bool(par)
    assert isinstance(int(par), int) and int(par) == 10
    par.set(value=-10.0)
    assert_allclose(abs(par), 10.0)
    assert_allclose(-par, 10.0)
    assert_allclose(+par, -10.0)
    par.set(value=5)
    assert isinstance(float(par), float) and float(par) == 5.0
    par.set(value=10.5)
    assert isinstance(trunc(par), int) and trunc(par) == 10


def test_binary_operators(parameter):
    par, _ = parameter
    assert_allclose(par + 5.25, 15.25)
    assert_allclose(par - 5.25, 4.75)
    assert_allclose(par / 1.25, 8.0)
    assert_allclose(divmod(par, 3), (3, 1))
    assert_allclose(par % 2, 0)
    assert_allclose(par % 3, 1)
    assert_allclose(par * 2.5, 25.0)
    assert_allclose(par * -0.1, -1.0)
    assert_allclose(par ** 0.5, 3.16227766)
    assert_allclose(par ** 4, 1e4)
    assert_allclose(5.25 + par, 15.25)
    assert_allclose(1.25 / par, 0.125)
    assert_allclose(divmod(3, par), (0, 3))
    assert_allclose(2 // par, 0)
    assert_allclose(20 // par, 2)
    assert_allclose(2 % par, 2)
    assert_allclose(25 % par, 5)
    assert_allclose(2.5 * par, 25.0)
    assert_allclose(-0.1 * par, -1.0)
    assert_allclose(0.5 ** par, 0.0009765625)
    assert_allclose(4 ** par, 1048576)
    assert_allclose(5.25 - par, -4.75)
    par.set(value=5)
    assert_allclose(par // 2, 2)


def test_comparisons(parameter):
    par, _ = parameter
    assert par < 11 and not par < 10
    assert par <= 11 and par <= 10 and not par <= 9
    assert par >= 9 and par >= 10 and not par >= 11
    assert par > 9 and not par > 10
    assert par == 10 and not par == 9
    assert par != 9 and not par != 10
