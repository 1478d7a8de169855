"""Text report of confidence intervals, in lmfit's ``ci_report`` layout."""

from __future__ import annotations

import numpy as np


def ci_report(ci, with_offset=True, ndigits=5, index=None) -> str:
    """lmfit's table of :func:`conf_interval`'s output: one row per
    parameter, a column per level (``_BEST_`` in the middle), ends as offsets
    from the best value unless ``with_offset=False``. For a batch give
    ``index`` (the fit to report)."""
    if not ci:
        raise ValueError("ci_report: no intervals given")
    rows = {}
    for name, row in ci.items():
        vals = [v for _, v in row]
        if any(np.ndim(v) for v in vals):
            if index is None:
                raise ValueError("ci_report: these are a batch's intervals; pass index= for one fit")
            vals = [np.asarray(v)[index] for v in vals]
        rows[name] = [(p, float(v)) for (p, _), v in zip(row, vals)]
    maxlen = max(len(n) for n in rows)
    fmt_best = fmt_diff = f"{{0:.{int(ndigits)}f}}"
    if with_offset:
        fmt_diff = f"{{0:+.{int(ndigits)}f}}"

    def head(p):
        return "_BEST_" if abs(p) < 1e-2 else f"{p * 100:.2f}%"

    first = next(iter(rows.values()))
    buff = ["".join([" " * (maxlen + 1)] + [head(p).rjust(ndigits + 5) for p, _ in first])]
    for name, row in rows.items():
        offset = next((v for p, v in row if abs(p) < 1e-2), 0.0) if with_offset else 0.0
        cells = [(fmt_best.format(v) if p < 1e-2 else fmt_diff.format(v - offset)).rjust(ndigits + 5)
                 for p, v in row]
        buff.append("".join([f" {name.ljust(maxlen)}:"] + cells))
    return "\n".join(buff)
