"""A model function's signature: its arguments, defaults and parameter names."""

from __future__ import annotations

import inspect


def _signature(func, name):
    """Argument names of ``func`` and their defaults."""
    args, defaults = [], {}
    for p in inspect.signature(func).parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise ValueError(f"Model {name!r}: *args/**kwargs are not supported in func")
        args.append(p.name)
        if p.default is not p.empty:
            defaults[p.name] = p.default
    if not args:
        raise ValueError(f"Model {name!r}: func takes no arguments")
    return args, defaults


def _param_roots(name, args, defaults, indep, options, param_names):
    """The (unprefixed) parameter arguments; the others need defaults."""
    if param_names is None:
        return [a for a in args if a not in indep and a not in options]
    roots = list(param_names)
    bad = [r for r in roots if r not in args or r in indep or r in options]
    if bad:
        raise ValueError(f"Model {name!r}: param_names {bad} are not parameter arguments of func")
    if len(set(roots)) != len(roots):
        raise ValueError(f"Model {name!r}: param_names has duplicates")
    lacking = [a for a in args if a not in roots and a not in indep and a not in options
               and a not in defaults]
    if lacking:
        raise ValueError(f"Model {name!r}: argument(s) {lacking} are not in param_names and have no default")
    return roots
