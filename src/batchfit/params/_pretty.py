"""lmfit's ``Parameters.pretty_print`` table."""

from __future__ import annotations

import numpy as np

COLUMNS = ("value", "min", "max", "stderr", "vary", "expr", "brute_step")


def _summary(v):
    a = np.asarray(v)
    return f"array{a.shape}" if a.ndim else str(v)


def pretty_lines(params, colwidth=8, precision=4, fmt="g", columns=COLUMNS) -> list[str]:
    """The lines lmfit prints, one per parameter sorted by name; an array
    value (a batch) shows as ``array(N,)``."""
    columns = list(columns)
    name_len = max((len(s) for s in params), default=4)
    allcols = ["name"] + columns
    title = "{:{name_len}} " + len(columns) * " {:>{n}}"
    lines = [title.format(*allcols, name_len=name_len, n=colwidth).title()]
    numstyle = "{%s:>{n}.{p}{f}}"
    strstyle = "{%s!s:>{n}}"
    for name, par in sorted(params.items(), key=lambda kv: kv[0]):
        vals = {k: getattr(par, k, None) for k in columns}
        parts = [f"{name:<{name_len}} "]
        for k in columns:
            v = vals[k]
            numeric = v is not None and np.ndim(v) == 0 and (
                k in ("value", "min", "max", "stderr")
                or (k == "brute_step" and vals.get("stderr") is None))  # lmfit's elif
            if numeric:
                parts.append((numstyle % "v").format(v=float(v), n=colwidth, p=precision, f=fmt))
            else:
                parts.append((strstyle % "v").format(v=_summary(v) if v is not None else None, n=colwidth))
        lines.append(" ".join(parts))
    return lines
