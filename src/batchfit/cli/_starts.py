"""Starting values of ``batchfit fit``: the models' guesses, clipped, and ``--param``."""

from __future__ import annotations

import numpy as np

from ._args import CLIError, model_label
from ._readers import Inputs


def _guess(model, data2, x2):
    """Union of the components' guesses for data (n, m)."""
    comps = getattr(model, "components", None) or [model]
    params = None
    for c in comps:
        try:
            p = c.guess(data2, x=x2)
        except NotImplementedError:
            raise CLIError(f"model {c.name} has no guess: give every start with --param NAME=VALUE "
                           "and --no-guess") from None
        params = p if params is None else params | p
    return params


def _robust_guess(model, data2, x2):
    """Guess from every dataset; datasets the guess cannot use (too few
    finite points) get the median start of the others."""
    try:
        return _guess(model, data2, x2)
    except ValueError:
        pass
    finite = np.isfinite(data2) & np.isfinite(np.broadcast_to(x2, data2.shape))
    need = max(3, len(model.param_names) + 1)
    ok = finite.sum(axis=1) >= need
    if not ok.any():
        raise CLIError(f"guess for model {model_label(model)}: no dataset has {need} finite points")
    try:
        sub = _guess(model, data2[ok], x2 if x2.ndim == 1 else x2[ok])
    except ValueError as err:
        raise CLIError(f"guess for model {model_label(model)}: {err}") from None
    n = data2.shape[0]
    for p in sub.values():
        for field in ("value", "min", "max"):
            v = getattr(p, field)
            if isinstance(v, np.ndarray) and v.shape == (int(ok.sum()),):
                full = np.full(n, np.nanmedian(v) if np.isfinite(v).any() else np.nan)
                full[ok] = v
                setattr(p, field, full)
    return sub


GUESS_ROWS = 1 << 15  # datasets per block of the guess (bounded temporaries)


def _guess_in_blocks(model, data2, x2):
    """The guess of every dataset, GUESS_ROWS at a time, or None where blocks
    could differ from one whole guess (short or non-finite datasets, whose
    starts come from the other datasets; per-dataset x)."""
    n = data2.shape[0]
    if n <= GUESS_ROWS or x2.ndim != 1:
        return None
    parts, lens = [], []
    for i in range(0, n, GUESS_ROWS):
        block = np.asarray(data2[i:i + GUESS_ROWS], dtype=float)
        if not np.isfinite(block).all():
            return None
        try:
            parts.append(_guess(model, block, x2))
        except ValueError:
            return None
        lens.append(block.shape[0])
    params = parts[0]
    for name, p in params.items():
        for field in ("value", "min", "max"):
            if field == "value" and p.expr is not None:
                continue  # a tied value is evaluated from the others on access
            vals = [getattr(q[name], field) for q in parts]
            if not any(isinstance(v, np.ndarray) for v in vals) and len({repr(v) for v in vals}) == 1:
                continue  # the same scalar in every block
            setattr(p, field, np.concatenate([np.broadcast_to(np.asarray(v, dtype=float), (k,))
                                              for v, k in zip(vals, lens)]))
    return params


def starting_params(model, inp: Inputs, shared, param_specs, no_guess):
    """Parameters: the guess (per dataset; the group median for shared
    ones) or the model's defaults, then the ``--param`` fields."""
    d = inp.data
    lead = d.shape[:-1]  # (N,), (K,) or (G, K)
    names = model._all_names()
    for name, _ in param_specs:
        if name not in names:
            raise CLIError(f"--param {name}: model {model_label(model)} has no parameter {name!r}; "
                           f"it has {', '.join(names)}")
    if no_guess:
        params = model.make_params()
    else:
        m = d.shape[-1]
        n = int(np.prod(lead))
        x = np.asarray(inp.x, dtype=float)
        x2 = x if x.ndim == 1 else np.broadcast_to(x, d.shape).reshape(n, m)
        params = _guess_in_blocks(model, d.reshape(n, m), x2)
        if params is None:
            params = _robust_guess(model, d.reshape(n, m).astype(float, copy=False), x2)
        for p in params.values():
            new = {}
            for field in ("value", "min", "max")[p.expr is not None:]:  # a tie's value follows it
                v = getattr(p, field)
                if isinstance(v, np.ndarray) and v.size == n:
                    v = v.reshape(lead)
                    if p.name in (shared or ()):
                        v = {"value": np.nanmedian, "min": np.min, "max": np.max}[field](v, axis=-1)
                    new[field] = v
            p.set(**new)  # bounds together: never a transient min > max
    user = {}
    for name, fields in param_specs:
        user.setdefault(name, {}).update(fields)
    for name, fields in user.items():
        p = params[name]
        if p.expr is not None and "expr" not in fields and set(fields) & {"value", "min", "max", "vary"}:
            raise CLIError(f"--param {name}: {name} is tied (expr {p.expr!r}); set its expr or the "
                           "parameters it depends on")
        try:
            if "expr" in fields:
                p.expr = fields["expr"] or None
            p.set(min=fields.get("min"), max=fields.get("max"), vary=fields.get("vary"))
            if "value" in fields:
                v = np.asarray(fields["value"], dtype=float)
                if np.any((v < p.min) | (v > p.max)):  # a value set is clipped: say so instead
                    raise ValueError(f"parameter {name!r}: start value {fields['value']} is outside "
                                     f"its bounds [{p.min}, {p.max}]")
                p.value = fields["value"]
        except Exception as err:  # ExprError, ValueError
            raise CLIError(f"--param {name}: {err}") from None
    if shared is not None:
        # derived parameters of the built-in models (fwhm, height: ties to
        # per-dataset or shared ones) are left out of group fits unless named
        # with --param: GroupFitResult reports the model's own parameters
        from ..params import Parameters

        params = Parameters({n: p for n, p in params.items()
                             if n in model.param_names or n in user})
    for name, p in params.items():
        if p.expr is not None or p.value is None:
            if p.value is None and p.expr is None:
                raise CLIError(f"parameter {name!r} has no starting value; give one with --param {name}=VALUE")
            continue
        if "value" in user.get(name, {}):
            continue  # the user's start is checked by the fit
        v = np.asarray(p.value, dtype=float)
        if not np.all(np.isfinite(v)):
            fill = np.nanmedian(v) if np.isfinite(v).any() else 1.0
            v = np.where(np.isfinite(v), v, fill)
        lo, hi = np.asarray(p.min, dtype=float), np.asarray(p.max, dtype=float)
        if np.all(lo < hi):
            v = np.clip(v, lo, hi)
        p.value = v
    return params
