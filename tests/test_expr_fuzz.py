"""Tie expressions are safe: nothing reaches eval/exec/compile-to-code, every
construct outside the whitelist is rejected with ExprError (quickly), and
what is accepted evaluates exactly like the same operations written in numpy.

Grammar-based fuzzing with hypothesis (derandomized): valid expressions are
generated together with an independent numpy reference; forbidden fragments
(attribute access, imports, dunder names, lambdas, comprehensions, unknown
calls, ...) are spliced into valid expressions at random places.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import keyword
import pathlib
from unittest import mock

import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import batchfit
from batchfit import ExprError, Parameter, create_params
from batchfit.problem._compat import x64_context
from batchfit.params._expr import FUNCTIONS, MAX_DEPTH, MAX_LENGTH, evaluate, parse
from batchfit.params._special import SPECIAL

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])

ENV = {
    "a": np.array([0.3, -1.7, 2.5, 0.0, 1e-3]),
    "b": np.array([1.1, 0.4, -0.9, 3.0, 2.0]),
    "c": np.array([-0.5, 2.2, 0.7, -1.0, 0.25]),
}
PARAMS = tuple(ENV)


@contextlib.contextmanager
def no_code_execution(text):
    """Fail if eval, exec or compile (to code) sees source text built from
    ``text``. (Imports run module code through exec and compile; that is
    code objects or whole module sources, never the expression.)"""
    seen = []

    def wrap(real, name):
        def guarded(source, *args, **kwargs):
            if isinstance(source, bytes):
                source = source.decode("utf-8", "replace")
            flags = args[2] if name == "compile" and len(args) > 2 else kwargs.get("flags", 0)
            if (isinstance(source, str) and text.strip() in source and len(source) < len(text) + 200
                    and not (name == "compile" and flags & ast.PyCF_ONLY_AST)):
                seen.append((name, source))
            return real(source, *args, **kwargs)

        return guarded

    patches = [mock.patch.object(builtins, n, wrap(getattr(builtins, n), n)) for n in ("eval", "exec", "compile")]
    with contextlib.ExitStack() as stack:
        for p in patches:
            stack.enter_context(p)
        yield
    assert seen == [], f"expression text reached {seen[0][0]}()"


def test_guard_catches_eval():
    """The guard itself works: eval of the text is reported."""
    with pytest.raises(AssertionError, match="reached eval"):
        with no_code_execution("a + 1"):
            eval("a + 1", {"a": 1})  # noqa: S307 - deliberately, to test the guard


# --------------------------------------------------------------------------
# static check: the package never calls eval, exec, compile or __import__
# --------------------------------------------------------------------------
def test_source_never_calls_eval_exec_compile():
    root = pathlib.Path(batchfit.__file__).parent
    files = sorted(root.rglob("*.py"))
    assert len(files) > 10
    banned = {"eval", "exec", "compile", "__import__"}
    found = []
    for f in files:
        tree = ast.parse(f.read_text(encoding="utf-8"), filename=str(f))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                fn = node.func
                if isinstance(fn, ast.Name) and fn.id in banned:
                    found.append(f"{f.name}:{node.lineno} {fn.id}()")
                if (isinstance(fn, ast.Attribute) and fn.attr in banned
                        and isinstance(fn.value, ast.Name) and fn.value.id == "builtins"):
                    found.append(f"{f.name}:{node.lineno} builtins.{fn.attr}()")
            if isinstance(node, ast.Name) and node.id in {"eval", "exec"} and isinstance(node.ctx, ast.Load):
                found.append(f"{f.name}:{node.lineno} reference to {node.id}")
    assert found == []


# --------------------------------------------------------------------------
# valid expressions, with an independent numpy reference
# --------------------------------------------------------------------------
BINOPS = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "**": np.power}
CMPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal, "==": np.equal,
        "!=": np.not_equal}
UNARY_FUNCS = ["exp", "log", "log10", "sqrt", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh",
               "cosh", "tanh", "abs"]
BINARY_FUNCS = ["arctan2", "minimum", "maximum"]
# lmfit's special functions (gamfcn, erf, ...) are tested in test_lmfit_models.py
assert set(UNARY_FUNCS) | set(BINARY_FUNCS) | {"where"} == set(FUNCTIONS) - set(SPECIAL)


def _const(text, value):
    return text, lambda env: np.float64(value)


LEAVES = st.one_of(
    st.sampled_from(PARAMS).map(lambda n: (n, lambda env: env[n])),
    st.integers(0, 40).map(lambda v: _const(str(v), v)),
    st.floats(0.0, 50.0, allow_nan=False, allow_infinity=False).map(lambda v: _const(repr(v), v)),
    st.sampled_from([("pi", np.pi), ("e", np.e)]).map(lambda t: _const(*t)),
)


def _extend(children):
    def binop(t):
        (ls, lf), op, (rs, rf) = t
        return f"({ls} {op} {rs})", lambda env: BINOPS[op](lf(env), rf(env))

    def neg(t):
        s, f = t
        return f"-({s})", lambda env: np.negative(f(env))

    def call1(t):
        name, (s, f) = t
        return f"{name}({s})", lambda env: getattr(np, name)(f(env))

    def call2(t):
        name, (ls, lf), (rs, rf) = t
        return f"{name}({ls}, {rs})", lambda env: getattr(np, name)(lf(env), rf(env))

    def where(t):
        (ls, lf), cmp, (rs, rf), (xs, xf), (ys, yf) = t
        return (f"where({ls} {cmp} {rs}, {xs}, {ys})",
                lambda env: np.where(CMPS[cmp](lf(env), rf(env)), xf(env), yf(env)))

    return st.one_of(
        st.tuples(children, st.sampled_from(list(BINOPS)), children).map(binop),
        children.map(neg),
        st.tuples(st.sampled_from(UNARY_FUNCS), children).map(call1),
        st.tuples(st.sampled_from(BINARY_FUNCS), children, children).map(call2),
        st.tuples(children, st.sampled_from(list(CMPS)), children, children, children).map(where),
    )


EXPRS = st.recursive(LEAVES, _extend, max_leaves=12)


def _reference(f):
    with np.errstate(all="ignore"):
        return np.broadcast_to(np.asarray(f(ENV), dtype=np.float64), (5,))


@FUZZ
@given(EXPRS)
def test_valid_expressions_evaluate_like_numpy(gen):
    text, f = gen
    with no_code_execution(text):
        tree, names = parse(text, "parameter 't' expr")
        with np.errstate(all="ignore"):
            got = np.broadcast_to(np.asarray(evaluate(tree, ENV, xp=np), dtype=np.float64), (5,))
    want = _reference(f)
    # same operations in the same order: identical, NaN and inf included
    np.testing.assert_array_equal(got, want)
    assert names == frozenset(n for n in PARAMS if n in _identifiers(text))
    # traced path (jax.numpy, float64): equal to the last few bits where finite
    with x64_context(np.float64), no_code_execution(text):
        traced = np.broadcast_to(np.asarray(evaluate(tree, {k: jnp.asarray(v) for k, v in ENV.items()})), (5,))
    ok = np.isfinite(want) & np.isfinite(traced) & (np.abs(want) < 1e150)
    np.testing.assert_allclose(traced[ok], want[ok], rtol=1e-9, atol=1e-300)


def _identifiers(text):
    return {node.id for node in ast.walk(ast.parse(text, mode="eval")) if isinstance(node, ast.Name)}


# --------------------------------------------------------------------------
# forbidden constructs spliced into valid expressions
# --------------------------------------------------------------------------
IDENT = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True).filter(
    lambda s: not keyword.iskeyword(s) and s not in FUNCTIONS and s not in ("pi", "e"))
DUNDER = st.sampled_from(["__import__", "__builtins__", "__class__", "__dict__", "__globals__",
                          "__subclasses__", "__code__", "_private", "_"])

BAD = st.one_of(
    st.tuples(st.sampled_from(PARAMS), st.sampled_from(["real", "__class__", "imag", "T", "shape"]))
    .map(lambda t: f"{t[0]}.{t[1]}"),                                                 # attribute
    st.sampled_from(["__import__('os')", "__import__('os').system('true')", "import os",
                     "from os import path"]),                                         # imports
    DUNDER,                                                                           # dunder names
    st.sampled_from(["lambda: 1", "(lambda x: x)(a)", "lambda a: a"]),                # lambdas
    st.sampled_from(["[i for i in a]", "{i for i in a}", "{i: i for i in a}", "(i for i in a)",
                     "sum(i for i in a)"]),                                           # comprehensions
    IDENT.map(lambda n: f"{n}(a)"),                                                   # unknown calls
    st.sampled_from(["eval('1')", "exec('1')", "open('f')", "getattr(a, 'b')", "globals()",
                     "vars()", "locals()", "compile('1', '', 'eval')", "breakpoint()"]),
    st.sampled_from(["exp(x=a)", "exp(*a)", "maximum(**a)", "a(1)", "exp(a)(b)", "np.exp(a)"]),
    st.sampled_from(["'s'", "b'x'", "f'{a}'", "None", "True", "1j", "...", "a[0]", "(a, b)", "[a]",
                     "{'k': a}", "a if b else c", "a and b", "not a", "~a", "a // b", "a % b",
                     "a @ b", "a | b", "a ^ b", "a << 1", "a in b", "a is b", "(a := 1)", "await a",
                     "yield a", "exp", "sqrt + a"]),
)
SPLICES = ["{v} + {b}", "{b} * ({v})", "exp({b})", "where({v} > 0, {b}, 1)", "({v}) ** ({b})",
           "maximum({v}, {b})", "-({b})", "{b}"]


@FUZZ
@given(EXPRS, BAD, st.sampled_from(SPLICES))
def test_forbidden_constructs_are_rejected(gen, bad, splice):
    text = splice.format(v=gen[0], b=bad)
    with no_code_execution(text):
        with pytest.raises(ExprError) as info:
            parse(text, "parameter 'q' expr")
        assert str(info.value).startswith("parameter 'q' expr")
        # the same through the public API: the Parameter names itself
        with pytest.raises(ExprError, match="parameter 'q'"):
            Parameter("q", expr=text)
        with pytest.raises(ExprError, match="parameter 'q'"):
            create_params(a=1.0, b=2.0, c=3.0, q={"expr": text})


@FUZZ
@given(st.text(max_size=80))
def test_arbitrary_text_is_rejected_or_clean(text):
    """Any string: ExprError, or a tree made of whitelisted nodes only."""
    with no_code_execution(text or "\x00"):
        try:
            tree, names = parse(text)
        except ExprError:
            return
    allowed = (ast.Expression, ast.Constant, ast.Name, ast.Load, ast.BinOp, ast.UnaryOp, ast.Compare,
               ast.Call, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd, ast.Lt, ast.LtE,
               ast.Gt, ast.GtE, ast.Eq, ast.NotEq)
    for node in ast.walk(tree):
        assert isinstance(node, allowed), type(node).__name__
        if isinstance(node, ast.Name):
            assert not node.id.startswith("_")
        if isinstance(node, ast.Call):
            assert isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS and not node.keywords
    for n in names:
        assert n.isidentifier() and not n.startswith("_") and n not in FUNCTIONS


# --------------------------------------------------------------------------
# very long and deeply nested input
# --------------------------------------------------------------------------
NESTERS = {
    "parens": ("(", ")"),
    "calls": ("exp(", ")"),
    "where": ("where(a > 0, ", ", b)"),
    "unary": ("-", ""),
    "pow_right": ("a ** ", ""),
    "lists": ("[", "]"),
    "mixed": ("-(", ")"),
}


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(NESTERS)), st.integers(MAX_DEPTH + 2, 4000))
def test_deep_nesting_is_rejected(kind, depth):
    pre, post = NESTERS[kind]
    text = pre * depth + "a" + post * depth
    if kind == "parens" and depth < 200 and len(text) <= MAX_LENGTH:
        # redundant parentheses are no nesting: the tree is just the name
        tree, names = parse(text)
        assert isinstance(tree.body, ast.Name) and names == {"a"}
        return
    with no_code_execution(text):
        with pytest.raises(ExprError) as info:
            parse(text, "parameter 'deep' expr")
    msg = str(info.value)
    assert msg.startswith("parameter 'deep' expr")
    assert ("nested too deeply" in msg or "longer than" in msg or "not allowed" in msg
            or "invalid syntax" in msg)


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(MAX_LENGTH + 1, 20 * MAX_LENGTH), st.sampled_from(["a+", "1", " ", "exp(a)*"]))
def test_very_long_input_is_rejected(length, unit):
    text = (unit * (length // len(unit) + 1))[:length]
    with pytest.raises(ExprError, match="longer than"):
        parse(text, "parameter 'long' expr")


@pytest.mark.parametrize("depth", [MAX_DEPTH - 2, MAX_DEPTH + 1])
def test_nesting_limit_is_where_it_says(depth):
    text = "exp(" * depth + "a" + ")" * depth
    if depth <= MAX_DEPTH:
        tree, names = parse(text)
        assert names == {"a"}
        with np.errstate(over="ignore"):
            got = evaluate(tree, {"a": -30.0}, xp=np)
        np.testing.assert_allclose(got, _nested_exp(-30.0, depth))
    else:
        with pytest.raises(ExprError, match="nested too deeply"):
            parse(text)


def _nested_exp(v, depth):
    with np.errstate(over="ignore"):
        for _ in range(depth):
            v = np.exp(v)
    return v


def test_payload_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    payloads = [f"__import__('os').system('touch {marker}')", f"open('{marker}', 'w')",
                f"exec(\"open('{marker}', 'w')\")", f"eval(\"open('{marker}', 'w')\")",
                "().__class__.__bases__[0].__subclasses__()"]
    for p in payloads:
        with pytest.raises(ExprError):
            parse(p)
        with pytest.raises(ExprError):
            create_params(a=1.0, t={"expr": p})
    assert not marker.exists()
