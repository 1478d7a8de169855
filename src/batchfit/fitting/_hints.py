"""Parameter hints and make_params, as lmfit's Model has them."""

from __future__ import annotations

import ast

import numpy as np

from ..params import Parameters

HINT_FIELDS = ("value", "vary", "min", "max", "expr")


def set_hint(model, name, hint):
    """lmfit's ``set_param_hint``: ``name`` with or without the prefix."""
    bad = sorted(set(hint) - set(HINT_FIELDS))
    if bad:
        raise ValueError(f"Model {model._name!r}: hint for {name!r} has unknown field(s) {bad}; "
                         f"hints take {list(HINT_FIELDS)}")
    if model.prefix and name.startswith(model.prefix):
        name = name[len(model.prefix):]
    model.param_hints.setdefault(name, {}).update(hint)


def hint_lines(model, colwidth=8) -> list[str]:
    """lmfit's ``print_param_hints`` table."""
    if not model.param_hints:
        return []
    name_len = max(len(s) for s in model.param_hints)
    out = ["{:{name_len}}  {:>{n}} {:>{n}} {:>{n}} {:>{n}}    {:{n}}".format(
        "Name", "Value", "Min", "Max", "Vary", "Expr", name_len=name_len, n=colwidth)]
    line = "{name:<{name_len}}  {value:{n}g} {min:{n}g} {max:{n}g} {vary!s:>{n}}    {expr}"
    for name, values in sorted(model.param_hints.items()):
        pv = {"name": name, "value": np.nan, "min": -np.inf, "max": np.inf, "vary": True, "expr": ""}
        pv.update(**values)
        out.append(line.format(name_len=name_len, n=colwidth, **pv))
    return out


def make_params(model, verbose=False, **init) -> Parameters:
    """Parameters of ``model``: defaults of func, then hints, then ``init``
    (keyed by full or unprefixed name; a value or a dict of fields)."""
    names = model._all_names()
    pre = model.prefix

    def key(n):
        return n if n in names else pre + n

    unknown = sorted(n for n in init if key(n) not in names)
    if unknown:
        raise ValueError(f"Model {model._name!r} has no parameter(s) {unknown}; it has {names}")
    given = {}
    for n, spec in init.items():
        given.setdefault(key(n), {}).update(_fields(model, key(n), spec))
    params = Parameters()
    for n in names:
        fields = {"value": model._defaults[n]} if n in model._defaults else {}
        fields.update(model.param_hints.get(n.removeprefix(pre), {}))
        fields.update(given.get(n, {}))
        params.add(n, **fields)
        if verbose:
            print(f' - Adding parameter "{n}"')
    return params


def _fields(model, n, spec):
    if isinstance(spec, dict):
        bad = sorted(set(spec) - set(HINT_FIELDS) - {"brute_step", "is_init_value"})
        if bad:
            raise ValueError(f"Model {model._name!r}: parameter {n!r} has unknown field(s) {bad}")
        return {k: v for k, v in spec.items() if k in HINT_FIELDS}
    if hasattr(spec, "value") and hasattr(spec, "expr"):  # a Parameter
        return {"value": spec.value, "vary": spec.vary, "min": spec.min, "max": spec.max,
                "expr": spec.expr}
    return {} if spec is None else {"value": spec}


class _Rename(ast.NodeTransformer):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        return ast.copy_location(ast.Name(self.mapping.get(node.id, node.id), node.ctx), node)


def reprefix_hints(hints, roots, old, new):
    """Hint expressions naming ``old + root`` now name ``new + root``."""
    mapping = {old + r: new + r for r in roots}
    for hint in hints.values():
        ex = hint.get("expr")
        if isinstance(ex, str) and ex.strip():
            tree = ast.parse(ex.strip(), mode="eval")
            hint["expr"] = ast.unparse(_Rename(mapping).visit(tree))
