"""Tied-parameter expressions: parsed once with ``ast``, evaluated with jnp.

Only numbers, parameter names, ``pi``/``e``, arithmetic, comparisons and a
whitelist of math functions are allowed; nothing ever reaches eval/exec.
Numeric constants are evaluated as floats (never Python ints), so constant
arithmetic follows IEEE rules (``1/0`` is ``inf``, ``(-8)**(1/3)`` is
``nan``) and cannot blow up (``9**9**9`` is ``inf``).
"""

from __future__ import annotations

import ast
import functools
import math

import jax.numpy as jnp
import numpy as np

from ._special import HOST_SPECIAL, SPECIAL, SPECIAL_ARITY

MAX_LENGTH = 2000
MAX_DEPTH = 64

FUNCTIONS = {
    "exp": jnp.exp,
    "log": jnp.log,
    "log10": jnp.log10,
    "sqrt": jnp.sqrt,
    "sin": jnp.sin,
    "cos": jnp.cos,
    "tan": jnp.tan,
    "arcsin": jnp.arcsin,
    "arccos": jnp.arccos,
    "arctan": jnp.arctan,
    "arctan2": jnp.arctan2,
    "sinh": jnp.sinh,
    "cosh": jnp.cosh,
    "tanh": jnp.tanh,
    "abs": jnp.abs,
    "minimum": jnp.minimum,
    "maximum": jnp.maximum,
    "where": jnp.where,
    **SPECIAL,  # lmfit's special functions (derived parameters of built-in models)
}
# how many arguments each function takes (all others: one)
ARITY = {"arctan2": 2, "minimum": 2, "maximum": 2, "where": 3, **SPECIAL_ARITY}
CONSTANTS = {"pi": float(np.pi), "e": float(np.e)}
# names a parameter may not take: an expression could never refer to it
RESERVED = frozenset(FUNCTIONS) | frozenset(CONSTANTS)


@functools.lru_cache(maxsize=None)
def _functions(xp):
    """The whitelisted functions taken from the array module ``xp``."""
    if xp is jnp:
        return FUNCTIONS
    return {name: HOST_SPECIAL[name] if name in HOST_SPECIAL else getattr(xp, name)
            for name in FUNCTIONS}

_BINOPS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}
_UNOPS = {ast.USub: lambda a: -a, ast.UAdd: lambda a: a}
_CMPOPS = {
    ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b,
    ast.Gt: lambda a, b: a > b,
    ast.GtE: lambda a, b: a >= b,
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
}


class ExprError(ValueError):
    """An invalid tied-parameter expression (a ``ValueError``, as in lmfit)."""


class ExprNameError(ExprError, NameError):
    """An expression that uses an unknown name or function (lmfit raises
    ``NameError`` there)."""


class ExprSyntaxError(ExprError, SyntaxError):
    """An expression that is not valid Python syntax (lmfit raises
    ``SyntaxError`` there)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


def _left_chain(node):
    """Unroll a left-nested operator chain ``((a + b) * c) - d``.

    Returns the innermost left operand and the BinOp nodes from the innermost
    outwards. Such chains are flat sums/products, not nesting: they neither
    count towards MAX_DEPTH nor recurse when checked or evaluated.
    """
    chain = []
    while isinstance(node, ast.BinOp):
        chain.append(node)
        node = node.left
    chain.reverse()
    return node, chain


def _const_value(value):
    """A numeric literal as a float (huge integer literals become inf)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _check(node, where, depth=0):
    if depth > MAX_DEPTH:
        raise ExprError(f"{where}: expression is nested too deeply (limit {MAX_DEPTH})")
    if isinstance(node, ast.Expression):
        return _check(node.body, where, depth)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise ExprError(f"{where}: only numeric constants are allowed, got {node.value!r}")
        return set()
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise ExprError(f"{where}: names may not start with '_': {node.id!r}")
        if node.id in FUNCTIONS:
            raise ExprError(f"{where}: function {node.id!r} used without a call")
        return set() if node.id in CONSTANTS else {node.id}
    if isinstance(node, ast.BinOp):
        first, chain = _left_chain(node)
        names = _check(first, where, depth + 1)
        for op in chain:
            if type(op.op) not in _BINOPS:
                raise ExprError(f"{where}: operator {type(op.op).__name__!r} is not allowed in an expression")
            names |= _check(op.right, where, depth + 1)
        return names
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNOPS:
        return _check(node.operand, where, depth + 1)
    if isinstance(node, ast.Compare) and all(type(o) in _CMPOPS for o in node.ops):
        names = _check(node.left, where, depth + 1)
        for c in node.comparators:
            names |= _check(c, where, depth + 1)
        return names
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            fname = node.func.id if isinstance(node.func, ast.Name) else ast.dump(node.func)[:40]
            raise ExprNameError(
                f"{where}: unknown function {fname!r}; allowed: {', '.join(sorted(FUNCTIONS))}"
            )
        if node.keywords:
            raise ExprError(f"{where}: keyword arguments are not allowed")
        names = set()
        for a in node.args:
            if isinstance(a, ast.Starred):
                raise ExprError(f"{where}: starred arguments are not allowed")
            names |= _check(a, where, depth + 1)
        want = ARITY.get(node.func.id, 1)
        if len(node.args) != want:
            raise _ArityError(f"{where}: {node.func.id}() takes {want} argument{'s' * (want > 1)}, "
                              f"got {len(node.args)}")
        return names
    raise ExprError(f"{where}: syntax {type(node).__name__!r} is not allowed in an expression")


class _ArityError(ExprError):
    """A call with the wrong number of arguments (the message gains the expression)."""


def parse(expr: str, where: str = "expr") -> tuple[ast.Expression, frozenset]:
    """Parse and validate ``expr``; return its tree and the names it uses.

    Results are cached, so parsing the same expression again is cheap.

    Raises:
      ExprError: on syntax errors or anything outside the whitelist.
    """
    if not isinstance(expr, str):
        raise ExprError(f"{where}: expression must be a string, got {type(expr).__name__}")
    if not isinstance(where, str):
        where = str(where)
    return _parse(expr, where)


@functools.lru_cache(maxsize=4096)
def _parse(expr: str, where: str) -> tuple[ast.Expression, frozenset]:
    if len(expr) > MAX_LENGTH:
        raise ExprError(f"{where}: expression longer than {MAX_LENGTH} characters")
    if not expr.strip():
        raise ExprError(f"{where}: expression is empty")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as err:
        raise ExprSyntaxError(f"{where}: invalid syntax in {expr!r}: {err.msg}") from None
    except (RecursionError, MemoryError):
        raise ExprError(f"{where}: expression is nested too deeply") from None
    except ValueError as err:  # e.g. UnicodeEncodeError for a lone surrogate, null bytes
        raise ExprError(f"{where}: invalid characters in {expr!r}: {err}") from None
    try:
        names = _check(tree, where)
    except _ArityError as err:
        raise ExprError(f"{err} in {expr.strip()!r}") from None
    except RecursionError:
        raise ExprError(f"{where}: expression is nested too deeply") from None
    return tree, frozenset(names)


def evaluate(tree: ast.Expression, env: dict, xp=jnp):
    """Evaluate a parsed expression with ``env`` mapping names to values.

    Args:
      tree: from :func:`parse`.
      env: parameter name -> value (scalar or array).
      xp: the array module whose functions are used: ``jax.numpy`` (the
        default; traceable) or ``numpy`` (host-side, float64 whatever JAX's
        x64 setting).
    """
    return _eval(tree.body, env, _functions(xp), xp)


def _fold(op, a, b):
    """Apply a binary operator; float-only operands (constants) use IEEE
    float64 arithmetic, so no OverflowError/ZeroDivisionError/complex."""
    if isinstance(a, float) and isinstance(b, float):
        with np.errstate(all="ignore"):
            return float(op(np.float64(a), np.float64(b)))
    return op(a, b)


def _eval(node, env, funcs, xp):
    if isinstance(node, ast.Constant):
        return _const_value(node.value)
    if isinstance(node, ast.Name):
        return CONSTANTS[node.id] if node.id in CONSTANTS else env[node.id]
    if isinstance(node, ast.BinOp):
        first, chain = _left_chain(node)
        out = _eval(first, env, funcs, xp)
        for op in chain:
            out = _fold(_BINOPS[type(op.op)], out, _eval(op.right, env, funcs, xp))
        return out
    if isinstance(node, ast.UnaryOp):
        return _UNOPS[type(node.op)](_eval(node.operand, env, funcs, xp))
    if isinstance(node, ast.Compare):
        left = _eval(node.left, env, funcs, xp)
        out = None
        for op, comp in zip(node.ops, node.comparators):
            right = _eval(comp, env, funcs, xp)
            term = _CMPOPS[type(op)](left, right)
            out = term if out is None else xp.logical_and(out, term)
            left = right
        return out
    return funcs[node.func.id](*[_eval(a, env, funcs, xp) for a in node.args])


def dependency_order(exprs: dict[str, str], known: set[str]) -> list[str]:
    """Order tied parameters so each comes after those it uses.

    Args:
      exprs: tied parameter name -> expression.
      known: names of every parameter.

    Raises:
      ExprError: for unknown names or a cycle, naming the parameter.
    """
    deps = {}
    for name, ex in exprs.items():
        _, names = parse(ex, f"parameter {name!r} expr {ex!r}")
        unknown = sorted(names - known)
        if unknown:
            raise ExprNameError(
                f"parameter {name!r}: expr {ex!r} uses unknown name(s) {', '.join(map(repr, unknown))}"
            )
        deps[name] = {d for d in names if d in exprs}
    order, state = [], {}

    def visit(n, path):
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            cyc = " -> ".join(path[path.index(n):] + [n])
            raise ExprError(f"parameter {n!r}: cyclic expression dependency: {cyc}")
        state[n] = 1
        for d in sorted(deps[n]):
            visit(d, path + [n])
        state[n] = 2
        order.append(n)

    for n in exprs:
        visit(n, [])
    return order
