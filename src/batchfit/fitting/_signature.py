"""A model function's signature read as lmfit reads it.

* the first argument is the independent variable (unless
  ``independent_vars`` names them);
* arguments without a default, or with a numeric default (not a bool), are
  parameters; the default is the starting value;
* with ``independent_vars`` not given, keyword arguments with any other
  default (a string, a bool, None, an object) are independent variables
  too, as lmfit lists them; given a string, bool or None (their default
  when not given) they are fixed options of the compiled model;
* with ``independent_vars`` given, a None default marks a parameter
  without a start (lmfit's "might be a parameter", e.g. Voigt's ``gamma``);
* ``**kwargs`` is allowed: parameters reached through it are named with
  ``param_names``; ``*args`` and positional-only arguments are refused, as
  lmfit refuses them.
"""

from __future__ import annotations

import dataclasses
import inspect


@dataclasses.dataclass
class Signature:
    args: list  # every named argument, in order
    defaults: dict  # argument -> default (those that have one)
    haskeywords: bool  # func takes **kwargs
    roots: list  # parameter names (unprefixed)
    indep: list  # independent variables, lmfit's list
    indep_defaults: dict  # independent variable -> non-numeric default


def _is_number(v):
    return isinstance(v, (int, float, complex)) and not isinstance(v, bool)


def read_signature(func, name, independent_vars=None, param_names=None) -> Signature:
    """Arguments, parameters and independent variables of ``func``."""
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError) as err:
        raise ValueError(f"Model {name!r}: cannot read func's signature ({err})") from None
    args, defaults, haskw, pos, others = [], {}, False, [], []
    for p in sig.parameters.values():
        if p.kind == p.VAR_KEYWORD:
            haskw = True
            continue
        if p.kind == p.VAR_POSITIONAL:
            raise ValueError(f"Model {name!r}: varargs '*{p.name}' are not supported in func (*args; "
                             "as in lmfit): name each parameter")
        if p.kind == p.POSITIONAL_ONLY:
            raise ValueError(f"Model {name!r}: positional-only arguments ('/') are not supported in func")
        args.append(p.name)
        if p.default is p.empty:
            pos.append(p.name)
        else:
            defaults[p.name] = p.default
            (pos if _is_number(p.default) else others).append(p.name)
    if not args:
        raise ValueError(f"Model {name!r}: func takes no named arguments")
    if independent_vars is None:
        first = args[0]
        indep = [first] + [a for a in others if a != first]
    else:
        indep = list(independent_vars)
        unknown = [v for v in indep if v not in args and not haskw]
        if unknown:
            raise ValueError(f"Model {name!r}: independent_vars {unknown} are not arguments of func")
    indep_defaults = {v: defaults[v] for v in indep if v in defaults and not _is_number(defaults[v])}
    if independent_vars is not None:  # lmfit's "might be a parameter": a None default
        pos = [a for a in args if a in pos or (a in defaults and defaults[a] is None)]
    roots = _param_roots(name, args, defaults, pos, indep, param_names, haskw)
    return Signature(args, defaults, haskw, roots, indep, indep_defaults)


def _param_roots(name, args, defaults, pos, indep, param_names, haskw):
    """The (unprefixed) parameter arguments; the others need defaults."""
    if param_names is None:
        return [a for a in pos if a not in indep]
    roots = list(param_names)
    bad = [r for r in roots if (r not in args and not haskw) or r in indep]
    if bad:
        raise ValueError(f"Model {name!r}: param_names {bad} are not parameter arguments of func")
    if len(set(roots)) != len(roots):
        raise ValueError(f"Model {name!r}: param_names has duplicates")
    lacking = [a for a in args if a not in roots and a not in indep and a not in defaults]
    if lacking:
        raise ValueError(f"Model {name!r}: argument(s) {lacking} are not in param_names and have no default")
    return roots
