"""Tied-parameter expressions: whitelist, evaluation vs numpy, rejection, order."""

from __future__ import annotations

import ast
import os
import tempfile
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchfit import ExprError, Parameter
from batchfit.problem._compat import x64_context
from batchfit.params._expr import FUNCTIONS, MAX_DEPTH, MAX_LENGTH, dependency_order, evaluate, parse
from batchfit.params._special import SPECIAL

RNG = np.random.default_rng(20240611)
# values inside every function's domain (arcsin/arccos need |v| <= 1, log needs v > 0)
A = RNG.uniform(0.1, 0.9, size=7)
B = RNG.uniform(0.1, 0.9, size=7)
C = RNG.uniform(1.5, 3.0, size=7)


def ev(expr, **env):
    tree, _ = parse(expr)
    with x64_context(np.float64):
        return np.asarray(evaluate(tree, env))


def ev_np(expr, **env):
    tree, _ = parse(expr)
    with np.errstate(all="ignore"):
        return np.asarray(evaluate(tree, {k: np.asarray(v) for k, v in env.items()}, xp=np))


# --------------------------------------------------------------------------
# accepted syntax, evaluated against numpy
# --------------------------------------------------------------------------
ARITH = [
    ("1", lambda a, b, c: 1.0),
    ("2.5e-3", lambda a, b, c: 2.5e-3),
    ("a", lambda a, b, c: a),
    ("a + b", lambda a, b, c: a + b),
    ("a - b", lambda a, b, c: a - b),
    ("a * b", lambda a, b, c: a * b),
    ("a / b", lambda a, b, c: a / b),
    ("a ** b", lambda a, b, c: a**b),
    ("-a", lambda a, b, c: -a),
    ("+a", lambda a, b, c: a),
    ("--a", lambda a, b, c: a),
    ("-a ** 2", lambda a, b, c: -(a**2)),
    ("(-a) ** 2", lambda a, b, c: a**2),
    ("a ** b ** c", lambda a, b, c: a ** (b**c)),
    ("a / b / c", lambda a, b, c: (a / b) / c),
    ("a - b - c", lambda a, b, c: (a - b) - c),
    ("(a + b) * c", lambda a, b, c: (a + b) * c),
    ("a + b * c", lambda a, b, c: a + b * c),
    ("2 ** -1 * a", lambda a, b, c: 0.5 * a),
    ("((((a))))", lambda a, b, c: a),
    ("pi", lambda a, b, c: np.pi),
    ("e", lambda a, b, c: np.e),
    ("2*pi*a + e**b", lambda a, b, c: 2 * np.pi * a + np.e**b),
    ("  a + 1  ", lambda a, b, c: a + 1),
    ("(a\n + b)", lambda a, b, c: a + b),
    ("1_000 * a", lambda a, b, c: 1000 * a),
    ("0x10 + a", lambda a, b, c: 16 + a),
]

FUNCS = [
    ("exp(a)", lambda a, b, c: np.exp(a)),
    ("log(c)", lambda a, b, c: np.log(c)),
    ("log10(c)", lambda a, b, c: np.log10(c)),
    ("sqrt(c)", lambda a, b, c: np.sqrt(c)),
    ("sin(a)", lambda a, b, c: np.sin(a)),
    ("cos(a)", lambda a, b, c: np.cos(a)),
    ("tan(a)", lambda a, b, c: np.tan(a)),
    ("arcsin(a)", lambda a, b, c: np.arcsin(a)),
    ("arccos(b)", lambda a, b, c: np.arccos(b)),
    ("arctan(c)", lambda a, b, c: np.arctan(c)),
    ("arctan2(a, -b)", lambda a, b, c: np.arctan2(a, -b)),
    ("sinh(c)", lambda a, b, c: np.sinh(c)),
    ("cosh(c)", lambda a, b, c: np.cosh(c)),
    ("tanh(a)", lambda a, b, c: np.tanh(a)),
    ("abs(a - b)", lambda a, b, c: np.abs(a - b)),
    ("minimum(a, b)", lambda a, b, c: np.minimum(a, b)),
    ("maximum(a, b)", lambda a, b, c: np.maximum(a, b)),
    ("where(a > b, a, b)", lambda a, b, c: np.where(a > b, a, b)),
    ("where(a >= b, 1, -1)", lambda a, b, c: np.where(a >= b, 1.0, -1.0)),
    ("where(a < b, a, c)", lambda a, b, c: np.where(a < b, a, c)),
    ("where(a <= 0.5, a, c)", lambda a, b, c: np.where(a <= 0.5, a, c)),
    ("where(a == a, 1, 0)", lambda a, b, c: np.ones_like(a)),
    ("where(a != b, 2, 0)", lambda a, b, c: np.where(a != b, 2.0, 0.0)),
    ("where(0.3 < a < 0.7, a, -a)", lambda a, b, c: np.where((0.3 < a) & (a < 0.7), a, -a)),
    ("exp(-(a - b)**2 / (2*c**2)) / sqrt(2*pi*c**2)",
     lambda a, b, c: np.exp(-((a - b) ** 2) / (2 * c**2)) / np.sqrt(2 * np.pi * c**2)),
    ("maximum(minimum(a, b), sin(c) * tanh(b))",
     lambda a, b, c: np.maximum(np.minimum(a, b), np.sin(c) * np.tanh(b))),
]


def test_every_whitelisted_function_is_tested():
    tested = {ex.split("(")[0] for ex, _ in FUNCS}
    assert set(FUNCTIONS) - set(SPECIAL) <= tested  # lmfit's special functions: test_lmfit_models.py


@pytest.mark.parametrize("expr,ref", ARITH + FUNCS, ids=[e for e, _ in ARITH + FUNCS])
def test_evaluate_matches_numpy_arrays(expr, ref):
    got = np.broadcast_to(ev(expr, a=A, b=B, c=C), A.shape)
    want = np.broadcast_to(ref(A, B, C), A.shape)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("expr,ref", ARITH + FUNCS, ids=[e for e, _ in ARITH + FUNCS])
def test_evaluate_matches_numpy_scalars(expr, ref):
    a, b, c = 0.35, 0.6, 2.2
    np.testing.assert_allclose(ev(expr, a=a, b=b, c=c), ref(a, b, c), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("expr,ref", ARITH + FUNCS, ids=[e for e, _ in ARITH + FUNCS])
def test_evaluate_with_numpy_matches_numpy_in_float64(expr, ref):
    # xp=np: host-side evaluation in float64 even though JAX's x64 mode is off here
    got = ev_np(expr, a=A, b=B, c=C)
    assert got.dtype in (np.float64, np.bool_)
    np.testing.assert_allclose(np.broadcast_to(got, A.shape), np.broadcast_to(ref(A, B, C), A.shape),
                               rtol=1e-14, atol=1e-15)


# constants evaluate as floats: IEEE results, no Python-int arithmetic, no exceptions
CONST = [
    ("1/0", np.inf),
    ("-1/0", -np.inf),
    ("0/0", np.nan),
    ("(-8)**(1/3)", np.nan),
    ("2**1024", np.inf),
    ("9**9**9", np.inf),
    ("a + 9**9**9", np.inf),
    ("a + 1/0", np.inf),
    ("1" * 400, np.inf),
    ("2**-1 * 4", 2.0),
    ("7/2", 3.5),
]


@pytest.mark.parametrize("expr,want", CONST, ids=[e[:20] for e, _ in CONST])
def test_constant_arithmetic_is_ieee(expr, want):
    t0 = time.perf_counter()
    tree, _ = parse(expr)
    got_np = ev_np(expr, a=1.0)
    with x64_context(np.float64):
        got_jnp = np.asarray(evaluate(tree, {"a": jnp.asarray(1.0)}))
        got_jit = np.asarray(jax.jit(lambda a: evaluate(tree, {"a": a}))(jnp.asarray(1.0)))
    assert time.perf_counter() - t0 < 5
    for got in (got_np, got_jnp, got_jit):
        assert not np.iscomplexobj(got)
        np.testing.assert_array_equal(got, want)


def test_constants_are_weakly_typed_floats():
    # constants do not promote float32 parameters, and integer literals give floats
    tree, _ = parse("2*a + 1/0*0 + 3")
    with x64_context(np.float64):
        out = evaluate(tree, {"a": jnp.ones(3, jnp.float32)})
    assert out.dtype == jnp.float32
    tree, _ = parse("where(a > 0, 1, -1)")
    with x64_context(np.float64):
        assert jnp.issubdtype(evaluate(tree, {"a": jnp.ones(3)}).dtype, jnp.floating)


@pytest.mark.parametrize(
    "expr,names",
    [
        ("1 + 2", set()),
        ("pi * e", set()),
        ("a", {"a"}),
        ("a + b*a - a", {"a", "b"}),
        ("exp(amp) + where(x > y, x, pi)", {"amp", "x", "y"}),
        ("arctan2(sig_1, sig2)", {"sig_1", "sig2"}),
        ("0 < a < b <= c", {"a", "b", "c"}),
    ],
)
def test_parse_returns_names(expr, names):
    tree, got = parse(expr)
    assert isinstance(tree, ast.Expression)
    assert isinstance(got, frozenset) and got == names


def test_parse_is_cached():
    first = parse("a * 3 + b")
    assert parse("a * 3 + b") is first


@pytest.mark.parametrize("n", [70, 300, 999])
def test_flat_chains_are_not_nesting(n):
    # left-associative chains (a0 + a1 + ... ) are flat, however long
    expr = " + ".join(f"a{i}" for i in range(n)) if n < 300 else "+".join(["a"] * n)
    assert len(expr) <= MAX_LENGTH
    _, names = parse(expr)
    env = {k: 1.0 for k in names}
    np.testing.assert_allclose(ev(expr, **env), n)
    np.testing.assert_allclose(ev_np(expr, **env), n)
    with x64_context(np.float64):
        tree, _ = parse(expr)
        jitted = jax.jit(lambda e: evaluate(tree, e))({k: jnp.asarray(v) for k, v in env.items()})
    np.testing.assert_allclose(np.asarray(jitted), n)


def test_mixed_flat_chain_accepted():
    expr = " - ".join(f"a*b/{i + 1}" for i in range(100)) + " * c"
    assert len(expr) <= MAX_LENGTH
    assert parse(expr)[1] == {"a", "b", "c"}
    want = 0.5 * 0.25 - sum(0.5 * 0.25 / (i + 1) for i in range(1, 99)) - 0.5 * 0.25 / 100 * 2.0
    np.testing.assert_allclose(ev(expr, a=0.5, b=0.25, c=2.0), want, rtol=1e-12)


def test_genuine_nesting_limit():
    ok = "(a - " * MAX_DEPTH + "a" + ")" * MAX_DEPTH
    assert parse(ok)[1] == {"a"}
    bad = "(a - " * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1)
    with pytest.raises(ExprError, match="nested too deeply"):
        parse(bad)


def test_nested_parentheses_under_limit_ok():
    expr = "(" * 150 + "a" + ")" * 150
    assert parse(expr)[1] == {"a"}
    np.testing.assert_allclose(ev(expr, a=2.5), 2.5)


# --------------------------------------------------------------------------
# JAX: jit and grad through evaluate
# --------------------------------------------------------------------------
def test_evaluate_is_jittable():
    tree, names = parse("a*exp(-b) + where(a > b, a, b) + sqrt(abs(a)) - arctan2(a, b)**2 + pi")
    assert names == {"a", "b"}
    with x64_context(np.float64):
        f = jax.jit(lambda a, b: evaluate(tree, {"a": a, "b": b}))
        got = np.asarray(f(jnp.asarray(A), jnp.asarray(B)))
        got_again = np.asarray(f(jnp.asarray(B), jnp.asarray(A)))  # reuse the compiled function
    want = A * np.exp(-B) + np.where(A > B, A, B) + np.sqrt(np.abs(A)) - np.arctan2(A, B) ** 2 + np.pi
    want2 = B * np.exp(-A) + np.where(B > A, B, A) + np.sqrt(np.abs(B)) - np.arctan2(B, A) ** 2 + np.pi
    np.testing.assert_allclose(got, want, rtol=1e-13)
    np.testing.assert_allclose(got_again, want2, rtol=1e-13)


def test_grad_through_evaluate_matches_closed_form():
    tree, _ = parse("a**2 * sin(b) + log(a) / b")
    with x64_context(np.float64):
        g = jax.vmap(jax.grad(lambda a, b: evaluate(tree, {"a": a, "b": b}), argnums=(0, 1)))
        da, db = (np.asarray(t) for t in g(jnp.asarray(A), jnp.asarray(B)))
    np.testing.assert_allclose(da, 2 * A * np.sin(B) + 1 / (A * B), rtol=1e-12)
    np.testing.assert_allclose(db, A**2 * np.cos(B) - np.log(A) / B**2, rtol=1e-12)


def test_evaluate_under_vmap_with_scalar_constant_tie():
    tree, _ = parse("2*pi")
    with x64_context(np.float64):
        out = jax.vmap(lambda a: a + evaluate(tree, {"a": a}))(jnp.asarray(A))
    np.testing.assert_allclose(np.asarray(out), A + 2 * np.pi, rtol=1e-14)


# --------------------------------------------------------------------------
# rejection
# --------------------------------------------------------------------------
REJECT = {
    # attribute access
    "attr": "a.real",
    "attr_dunder": "a.__class__",
    "attr_on_func": "exp.__globals__",
    "attr_on_call": "exp(a).__class__.__mro__",
    "attr_on_tuple": "().__class__.__bases__[0].__subclasses__()",
    # imports
    "dunder_import": "__import__('os')",
    "dunder_import_call": "__import__('os').system('echo hi')",
    "import_stmt": "import os",
    "from_import": "from os import system",
    # dunder / underscore names
    "dunder_name": "__builtins__",
    "underscore_name": "_a",
    "underscore_in_sum": "a + _hidden",
    "underscore_only": "_",
    # lambda
    "lambda": "lambda: 1",
    "lambda_called": "(lambda x: x)(1)",
    # comprehensions
    "listcomp": "[i for i in a]",
    "setcomp": "{i for i in a}",
    "dictcomp": "{i: i for i in a}",
    "genexp": "sum(i for i in a)",
    "genexp_bare": "(i for i in a)",
    # unknown functions
    "eval": "eval('1')",
    "exec": "exec('1')",
    "open": "open('/etc/passwd')",
    "getattr": "getattr(a, 'b')",
    "unknown_fn": "foo(a)",
    "param_call": "a(1)",
    "call_of_call": "exp(a)(b)",
    "numpy_attr_call": "np.exp(a)",
    # keyword arguments
    "kwarg": "exp(x=1)",
    "kwarg_where": "where(a > 0, a, b, out=a)",
    "kwargs_splat": "exp(**a)",
    "starred": "exp(*a)",
    # strings and other constants
    "string": "'abc'",
    "dq_string": '"a" + a',
    "bytes": "b'x'",
    "fstring": "f'{a}'",
    "bool": "True",
    "bool_arith": "a + True",
    "none": "None",
    "complex": "1j",
    "ellipsis": "...",
    # other syntax
    "subscript": "a[0]",
    "tuple": "(a, b)",
    "list": "[a]",
    "dict": "{'a': 1}",
    "ifexp": "a if b else c",
    "boolop": "a and b",
    "not": "not a",
    "invert": "~a",
    "floordiv": "a // b",
    "mod": "a % b",
    "matmul": "a @ b",
    "bitor": "a | b",
    "bitand": "a & b",
    "xor": "a ^ b",
    "shift": "a << 1",
    "in": "a in b",
    "is": "a is b",
    "walrus": "(a := 1)",
    "assign": "a = 1",
    "two_statements": "a; b",
    "await": "await a",
    "yield": "yield a",
    "bare_function": "exp",
    "bare_function_in_sum": "a + sqrt",
    "syntax": "a +* 2",
    "unclosed": "(a + b",
    "empty": "",
    "blank": "   \t ",
    "null_byte": "a\x00",
    "newline_statements": "a\n+1",
}


@pytest.mark.parametrize("expr", list(REJECT.values()), ids=list(REJECT))
def test_rejected_with_expr_error(expr):
    t0 = time.perf_counter()
    with pytest.raises(ExprError) as info:
        parse(expr, "parameter 'q' expr")
    assert time.perf_counter() - t0 < 0.5
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith("parameter 'q' expr")


@pytest.mark.parametrize(
    "expr,msg",
    [
        ("a.real", "'Attribute' is not allowed"),
        ("_a", "may not start with '_'"),
        ("__import__('os')", "unknown function '__import__'"),
        ("foo(a)", "unknown function 'foo'"),
        ("exp(x=1)", "keyword arguments are not allowed"),
        ("'abc'", "only numeric constants"),
        ("lambda: 1", "'Lambda' is not allowed"),
        ("[i for i in a]", "'ListComp' is not allowed"),
        ("exp", "used without a call"),
        ("a +* 2", "invalid syntax"),
        ("", "empty"),
    ],
)
def test_rejection_messages(expr, msg):
    with pytest.raises(ExprError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        parse(expr)


@pytest.mark.parametrize("value", [3, 2.5, None, b"a+b", ("a",), ["a"], {"a": 1}, {"a"}])
def test_non_string_rejected(value):
    # unhashable values too: the type check comes before the cache
    with pytest.raises(ExprError, match="must be a string"):
        parse(value)
    if value is not None:  # expr=None means no tie
        with pytest.raises(ExprError, match="parameter 'p'"):
            Parameter("p", expr=value)


@pytest.mark.parametrize("expr", ["\ud800", "a + \udfff"])
def test_surrogate_rejected_with_expr_error(expr):
    with pytest.raises(ExprError, match="invalid characters"):
        parse(expr, "parameter 'q' expr")


@pytest.mark.parametrize(
    "expr",
    [
        "(" * 5000 + "1" + ")" * 5000,
        "a+" * 1500 + "a",
        "1" * (MAX_LENGTH + 1),
        " " * (MAX_LENGTH + 1) + "a",
        "exp(" * 1000 + "a" + ")" * 1000,
    ],
    ids=["parens5000", "longsum", "longnumber", "padded", "deepcalls_long"],
)
def test_very_long_input_rejected_quickly(expr):
    t0 = time.perf_counter()
    with pytest.raises(ExprError, match="longer than"):
        parse(expr)
    assert time.perf_counter() - t0 < 0.5


@pytest.mark.parametrize(
    "expr",
    [
        "-" * 1900 + "1",
        "exp(" * 150 + "a" + ")" * 150,
        "(" * 199 + "-" * 100 + "a" + ")" * 199,
        "(" * 300 + "a" + ")" * 300,
        "[" * 300 + "a" + "]" * 300,
        "a**" * 400 + "a",
    ],
    ids=["unary1900", "calls150", "parens_and_unary", "parens300", "brackets300", "pow400"],
)
def test_deeply_nested_input_rejected_quickly(expr):
    assert len(expr) <= MAX_LENGTH
    t0 = time.perf_counter()
    with pytest.raises(ExprError):
        parse(expr)
    assert time.perf_counter() - t0 < 0.5


# --------------------------------------------------------------------------
# dependency_order
# --------------------------------------------------------------------------
def test_dependency_order_chain():
    exprs = {"d": "c + b", "c": "b * 2", "b": "a + 1"}
    order = dependency_order(exprs, {"a", "b", "c", "d"})
    assert sorted(order) == ["b", "c", "d"]
    assert order.index("b") < order.index("c") < order.index("d")


def test_dependency_order_diamond_and_independent():
    exprs = {"top": "left + right", "left": "base*2", "right": "exp(base)", "base": "x",
             "alone": "y + pi"}
    order = dependency_order(exprs, {"x", "y", *exprs})
    assert sorted(order) == sorted(exprs)
    for dep, user in [("base", "left"), ("base", "right"), ("left", "top"), ("right", "top")]:
        assert order.index(dep) < order.index(user)


def test_dependency_order_empty_and_constants():
    assert dependency_order({}, {"a"}) == []
    # pi, e and function names are not parameter dependencies
    assert dependency_order({"t": "pi * e + exp(a)"}, {"a", "t"}) == ["t"]


def test_dependency_order_unknown_name():
    with pytest.raises(ExprError) as info:
        dependency_order({"b": "a + zz + yy"}, {"a", "b"})
    msg = str(info.value)
    assert "parameter 'b'" in msg and "'zz'" in msg and "'yy'" in msg and "unknown" in msg


@pytest.mark.parametrize(
    "exprs",
    [
        {"a": "a + 1"},
        {"a": "b + 1", "b": "2*a"},
        {"a": "b", "b": "c", "c": "a"},
        {"x": "1", "a": "b + x", "b": "exp(c)", "c": "a * 2"},
    ],
    ids=["self", "two", "three", "three_with_extra"],
)
def test_dependency_order_cycle(exprs):
    cyc = [n for n in exprs if n != "x"]
    with pytest.raises(ExprError, match="cyclic") as info:
        dependency_order(exprs, set(exprs))
    msg = str(info.value)
    assert msg.startswith("parameter '")
    named = msg.split("'")[1]
    assert named in cyc
    for n in cyc:
        assert n in msg.split(":", 1)[1]


def test_dependency_order_syntax_error_names_parameter():
    with pytest.raises(ExprError, match=r"parameter 'c' expr 'a \+'"):
        dependency_order({"c": "a +"}, {"a", "c"})
    with pytest.raises(ExprError, match="parameter 'c'"):
        dependency_order({"c": "a.b"}, {"a", "c"})


# --------------------------------------------------------------------------
# fuzz: parse never executes anything, only ExprError or clean names
# --------------------------------------------------------------------------
_SENTINEL = os.path.join(tempfile.gettempdir(), f"batchfit_expr_fuzz_{os.getpid()}")
TOKENS = [
    "__import__", "('os')", ".system", f"('touch {_SENTINEL}')", "open", f"('{_SENTINEL}', 'w')",
    "eval", "exec", "compile", "globals()", "locals()", "getattr", "lambda", ":", "x", "a", "b",
    "_", "__class__", "__subclasses__", "__builtins__", "__dict__", ".", "[", "]", "(", ")", "{",
    "}", "for", "in", "if", "else", "not", "and", "or", "is", ",", "=", ":=", "*", "**", "+", "-",
    "/", "//", "%", "@", "~", "<", ">", "==", "exp", "where", "sqrt", "pi", "e", "1", "2.5",
    "1e308", "0x1f", "1j", ";", "\n", "\\", "#", "'", '"', "import", "os", "sys", "yield",
    "await", "None", "True", "...", "\x00", " ", "\t", "é",
]


@settings(max_examples=400, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), min_size=0, max_size=40), st.sampled_from(["", " "]))
def test_fuzz_parse_never_executes(tokens, sep):
    text = sep.join(tokens)
    try:
        tree, names = parse(text)
    except ExprError:
        pass
    else:
        assert isinstance(tree, ast.Expression)
        for n in names:
            assert isinstance(n, str) and n.isidentifier()
            assert not n.startswith("_")
            assert n not in FUNCTIONS and n not in ("pi", "e")
        allowed = (ast.Expression, ast.Constant, ast.Name, ast.Load, ast.BinOp, ast.UnaryOp,
                   ast.Compare, ast.Call, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub,
                   ast.UAdd, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)
        for node in ast.walk(tree):
            assert isinstance(node, allowed), type(node).__name__
            if isinstance(node, ast.Constant):
                assert type(node.value) in (int, float)
            if isinstance(node, ast.Call):
                assert isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS
    assert not os.path.exists(_SENTINEL)


def test_fuzz_payloads_do_not_run():
    for payload in [f"__import__('os').system('touch {_SENTINEL}')", f"open('{_SENTINEL}', 'w')",
                    f"exec(\"open('{_SENTINEL}','w')\")"]:
        with pytest.raises(ExprError):
            parse(payload)
    assert not os.path.exists(_SENTINEL)
