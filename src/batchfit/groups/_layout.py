"""Host-side layout of shared-parameter groups: data, variables, parameters.

A group is K datasets fitted together; some parameters are *shared* by the
group (one value per group), the others are *per dataset* (K values per
group). G independent groups are fitted at once. This module validates the
user's inputs and maps them to flat, per-dataset arrays of shape (G*K, m)
(so the usual data preparation applies) and to per-group parameter tables.
"""

from __future__ import annotations

import ast
from typing import NamedTuple

import numpy as np

from ..params import Parameters
from ..params._expr import parse


class GroupLayout(NamedTuple):
    G: int
    K: int
    grouped: bool  # data had a leading group axis (G, K, m)
    shared: tuple[str, ...]  # parameter names shared inside a group (model order)
    local: tuple[str, ...]  # per-dataset parameter names (model order)


def _ndim(v):
    try:
        return np.ndim(v)
    except ValueError:  # a ragged nested list
        return -1


def _is_vector(v):
    return _ndim(v) == 1


def _is_group_list(a):
    """A list of groups, each a sequence of 1-D datasets."""
    return isinstance(a, (list, tuple)) and len(a) > 0 and all(
        isinstance(g, (list, tuple, np.ndarray)) and len(g) > 0 and not _is_vector(g)
        and all(_is_vector(d) for d in g) for g in a)


def parse_data(data):
    """Flatten group data to (G*K, m) or a ragged list of G*K 1-D arrays.

    Returns ``(flat, G, K, grouped)``.
    """
    if isinstance(data, (list, tuple)) and len(data) and all(_is_vector(d) for d in data):
        lengths = {len(d) for d in data}
        flat = list(data) if len(lengths) > 1 else np.asarray(data)
        return flat, 1, len(data), False
    if _is_group_list(data):
        Ks = {len(g) for g in data}
        if len(Ks) != 1:
            raise ValueError(f"data: every group must hold the same number of datasets, got {sorted(Ks)}")
        rows = [d for g in data for d in g]
        lengths = {len(d) for d in rows}
        flat = rows if len(lengths) > 1 else np.asarray(rows)
        return flat, len(data), Ks.pop(), True
    arr = np.asarray(data)
    if arr.ndim == 2:
        return arr, 1, arr.shape[0], False
    if arr.ndim == 3:
        G, K, m = arr.shape
        return arr.reshape(G * K, m), G, K, True
    raise ValueError(
        f"with shared=..., data must have shape (K, m) for one group of K datasets or "
        f"(G, K, m) for G groups, got {arr.shape}"
    )


def flatten_array(name, a, G, K, grouped, ragged):
    """Map an independent variable or weights to what per-dataset
    preparation accepts: (m,), (G*K, ...) or a ragged list of G*K arrays.

    The leading axes of an array follow the data's layout, (K, ...) (the
    same for every group) or (G, K, ...); the trailing axes are the
    model's (m points, or e.g. a response matrix (nchan, nE) per dataset).
    An independent variable of another shape is shared by every dataset
    and passed to the model whole (e.g. an energy grid (nE,))."""
    if a is None:
        return None
    if ragged and isinstance(a, (list, tuple)) and _ndim(a) != 1:
        if _is_group_list(a):
            a = [d for g in a for d in g]
        elif G > 1 and len(a) == K:  # the same K arrays for every group
            a = [d for _ in range(G) for d in a]
        return list(a)
    arr = np.asarray(a)
    if arr.ndim <= 1:
        return arr
    if grouped and arr.ndim >= 3 and arr.shape[:2] == (G, K):
        return arr.reshape((G * K,) + arr.shape[2:])
    if arr.shape[0] == K:
        return arr if G == 1 else np.tile(arr, (G,) + (1,) * (arr.ndim - 1))
    if arr.shape[0] == G * K:
        return arr
    if name != "weights":
        return arr  # shared: passed to the model whole
    want = "(m,), (K, m)" + (", (G, K, m)" if grouped else "")
    raise ValueError(f"{name} has shape {arr.shape}; with {G} group(s) of {K} datasets it must be {want}")


def make_layout(param_names, shared, G, K, grouped, params=None) -> GroupLayout:
    """Split the parameters into shared and per-dataset ones.

    ``params`` may hold more than the model's parameters (e.g. derived ones
    such as ``fwhm``, tied by ``expr``): those not named in ``shared`` are
    shared when their expression uses shared parameters only.
    """
    if isinstance(shared, str):
        shared = [shared]
    shared = list(shared)
    names = list(params) if params is not None else list(param_names)
    names += [n for n in param_names if n not in names]
    unknown = [s for s in shared if s not in names]
    if unknown:
        raise ValueError(f"shared names unknown parameter(s) {unknown}; the model has {list(param_names)}")
    dup = sorted({s for s in shared if shared.count(s) > 1})
    if dup:
        raise ValueError(f"shared lists {dup} more than once")
    is_shared = {n: n in shared for n in names}
    if params is not None:  # derived parameters follow what they are tied to
        for n in names:
            ex = params[n].expr if n in params else None
            if n not in param_names and n not in shared and ex is not None:
                _, used = parse(ex, f"parameter {n!r}")
                is_shared[n] = bool(used) and all(is_shared.get(u, False) for u in used)
    return GroupLayout(G, K, grouped, tuple(n for n in names if is_shared[n]),
                       tuple(n for n in names if not is_shared[n]))


def split_groups(a, G, K):
    """A per-dataset array (G*K, ...) as (G, K, ...)."""
    return a.reshape((G, K) + a.shape[1:])


def check_ties(params, lay: GroupLayout):
    """A shared parameter may only be tied to shared ones."""
    for n in lay.shared:
        if params[n].expr is not None:
            _, used = parse(params[n].expr, f"parameter {n!r}")
            bad = sorted(u for u in used if u in lay.local)
            if bad:
                raise ValueError(f"shared parameter {n!r} is tied to per-dataset parameter(s) {bad}")


def vary_table(params, lay: GroupLayout) -> dict:
    """Each parameter's ``vary``: a bool for the whole group, or for a
    per-dataset parameter frozen in some datasets a (G, K) boolean array
    (True where the dataset's copy varies). A (K,) array holds for every
    group; an array all True (or all False) is that bool."""
    out = {}
    G, K = lay.G, lay.K
    for n in lay.shared + lay.local:
        v = params[n].vary
        if not isinstance(v, np.ndarray):
            out[n] = v
            continue
        if n in lay.shared:
            raise TypeError(f"shared parameter {n!r}: vary must be True or False, got an array of shape "
                            f"{v.shape}; a vary per dataset is only for per-dataset parameters")
        if not (v.shape == (K,) or (lay.grouped and v.shape == (G, K))):
            want = f"({K},)" + (f" or ({G}, {K})" if lay.grouped else "")
            raise ValueError(f"per-dataset parameter {n!r}: vary has shape {v.shape}, expected True, "
                             f"False or a boolean array of shape {want}")
        t = np.broadcast_to(v, (G, K))
        out[n] = bool(t.flat[0]) if (t.all() or not t.any()) else t.copy()
    return out


def frozen_per_dataset(vary: dict) -> bool:
    """Whether some per-dataset parameter is frozen in some datasets only."""
    return any(isinstance(v, np.ndarray) for v in vary.values())


def uniform_over_groups(vary: dict) -> bool:
    """Whether every group freezes the same datasets (one flat structure)."""
    return all(not isinstance(v, np.ndarray) or bool(np.all(v == v[:1])) for v in vary.values())


def local_name(name, k):
    return f"{name}_{k}"


class _Rename(ast.NodeTransformer):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        if node.id in self.mapping:
            return ast.copy_location(ast.Name(id=self.mapping[node.id], ctx=node.ctx), node)
        return node


def _per_group(value, name, attr, lay: GroupLayout, local: bool):
    """A parameter attribute as an array of shape (G, K) (local) or (G,)."""
    a = np.asarray(value, dtype=float)
    G, K = lay.G, lay.K
    if local:
        if a.ndim == 0 or a.shape == (K,) or a.shape == (G, K):
            return np.broadcast_to(a, (G, K))
        want = f"a scalar, ({K},)" + (f" or ({G}, {K})" if lay.grouped else "")
    else:
        if a.ndim == 0 or (lay.grouped and a.shape == (G,)):
            return np.broadcast_to(a, (G,))
        want = "a scalar" + (f" or ({G},)" if lay.grouped else "")
    kind = "per-dataset" if local else "shared"
    raise ValueError(f"{kind} parameter {name!r}: {attr} has shape {a.shape}, expected {want}")


def flat_params(params: Parameters, lay: GroupLayout) -> Parameters:
    """One flat parameter set per group: shared names as they are, then each
    per-dataset parameter ``p`` as ``p_0 ... p_{K-1}``. Values are (G,)
    arrays for grouped data, scalars for one group. Ties are rewritten per
    dataset; a shared parameter may only be tied to shared ones."""
    taken = set(params)
    for n in lay.local:
        for k in range(lay.K):
            if local_name(n, k) in taken:
                raise ValueError(
                    f"parameter name {local_name(n, k)!r} clashes with the per-dataset copies of "
                    f"{n!r}; rename it"
                )
    out = Parameters()
    vary = vary_table(params, lay)
    if not uniform_over_groups(vary):
        raise ValueError("the groups freeze different datasets (vary of shape (G, K) with rows that "
                         "differ): the dense group solver needs one pattern; use group_solver='schur'")

    def cell(a, idx):
        v = a[idx]
        return v.copy() if lay.grouped else float(v[0])

    for n in lay.shared:
        p = params[n]
        expr = p.expr
        cols = {a: _per_group(getattr(p, a), n, a, lay, False) for a in ("min", "max")}
        val = None if p.value is None else _per_group(p.value, n, "value", lay, False)
        out.add(n, value=None if val is None else cell(val, slice(None)), vary=vary[n],
                min=cell(cols["min"], slice(None)), max=cell(cols["max"], slice(None)), expr=expr)
    for n in lay.local:
        p = params[n]
        cols = {a: _per_group(getattr(p, a), n, a, lay, True) for a in ("min", "max")}
        val = None if p.value is None else _per_group(p.value, n, "value", lay, True)
        tree = None
        if p.expr is not None:
            tree, _ = parse(p.expr, f"parameter {n!r}")
        for k in range(lay.K):
            expr = None
            if tree is not None:
                mapping = {m: local_name(m, k) for m in lay.local}
                expr = ast.unparse(_Rename(mapping).visit(ast.parse(p.expr.strip(), mode="eval")))
            idx = (slice(None), k)
            vk = bool(vary[n][0, k]) if isinstance(vary[n], np.ndarray) else vary[n]
            out.add(local_name(n, k), value=None if val is None else cell(val, idx), vary=vk,
                    min=cell(cols["min"], idx), max=cell(cols["max"], idx), expr=expr)
    return out
