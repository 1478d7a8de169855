"""ExpressionModel: a model from a formula string, through batchfit's safe
expression parser (``batchfit.params._expr``: ``ast``, a whitelist, no eval)."""

from __future__ import annotations

import ast
import dataclasses
import inspect

import jax.numpy as jnp

from ..fitting._model import Model
from ..params._expr import CONSTANTS, FUNCTIONS, evaluate, parse


def _names_in_order(tree):
    """Names in the order lmfit's ``get_ast_names`` finds them (depth first)."""
    out = []
    for node in _walk(tree):
        if isinstance(node, ast.Name) and node.id not in out:
            out.append(node.id)
    return out


def _walk(node):
    yield node
    for child in ast.iter_child_nodes(node):
        yield from _walk(child)


@dataclasses.dataclass(frozen=True)
class _ExprFunction:
    """``expr`` evaluated with the independent variables and parameters (hashable)."""

    expr: str
    indep: tuple
    names: tuple

    @property
    def __signature__(self):
        P = inspect.Parameter
        return inspect.Signature([P(n, P.POSITIONAL_OR_KEYWORD) for n in self.indep + self.names])

    @property
    def __name__(self):
        return "expression"

    def __call__(self, **kw):
        tree, _ = parse(self.expr)
        out = evaluate(tree, kw)
        return out + jnp.zeros_like(kw[self.indep[0]])  # a formula without x is constant over x


class ExpressionModel(Model):
    """A model from a formula, as lmfit's ``ExpressionModel``: ``"amp * exp(-x/tau) + c"``.

    The formula may use numbers, ``pi``, ``e``, arithmetic, comparisons and
    the functions of tie expressions (``exp``, ``log``, ``sqrt``, trig,
    ``erf``, ``gamfcn``, ...; lmfit's line-shape functions are not
    available). The independent variables are ``independent_vars`` (``["x"]``
    when not given and ``x`` appears); every other name is a parameter, in
    order of first appearance. ``prefix`` is not supported (as in lmfit).

    Example:
      >>> import numpy as np
      >>> from batchfit.models import ExpressionModel
      >>> model = ExpressionModel("amp * exp(-x / tau) + off")
      >>> model.param_names
      ['amp', 'tau', 'off']
      >>> x = np.linspace(0, 5, 40)
      >>> res = model.fit(2 * np.exp(-x / 1.5) + 0.1, model.make_params(amp=1, tau=1, off=0), x=x)
      >>> round(float(res.params["tau"].value), 6)
      1.5
    """

    def __init__(self, expr, independent_vars=None, nan_policy="raise", **kws):
        if "prefix" in kws:
            raise ValueError("ExpressionModel does not support the `prefix` argument")
        if not isinstance(expr, str):
            raise TypeError(f"ExpressionModel: expr must be a string, got {type(expr).__name__}")
        self.expr = expr.strip()
        tree, _ = parse(self.expr, f"ExpressionModel {self.expr!r}")
        names = [n for n in _names_in_order(tree) if n not in FUNCTIONS and n not in CONSTANTS]
        if independent_vars is None and "x" in names:
            independent_vars = ["x"]
        if independent_vars is None:
            raise ValueError(f"ExpressionModel: no independent variable found in {self.expr!r}")
        indep = list(independent_vars)
        lost = [v for v in indep if v not in names]
        if lost:
            raise ValueError(f"ExpressionModel: independent variable(s) {', '.join(lost)} not found "
                             f"in {self.expr!r}")
        params = [n for n in names if n not in indep]
        fn = _ExprFunction(self.expr, tuple(indep), tuple(params))
        super().__init__(fn, indep, name="expression", nan_policy=nan_policy, **kws)

    def __repr__(self):
        return f"<batchfit.ExpressionModel('{self.expr}')>"
