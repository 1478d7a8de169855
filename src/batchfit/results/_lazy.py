"""Per-fit arrays computed when they are first read.

A large batch's residual and best fit are (N, m) each, as large as its
data; most users read neither. The engine stores them as :class:`LazyRows`
(a function of a row range) in a :class:`LazyDict`, which computes a value
in full, and keeps it, the first time it is read by key, ``get``,
``items``, ``values`` or a copy. ``result[i]`` takes the rows it needs
without computing the others (:func:`take`).
"""

from __future__ import annotations

import numpy as np


class LazyRows:
    """Rows ``[start, stop)`` of a ``(B,) + tail`` array, computed on demand
    by ``fn(start, stop)`` (rows of the whole batch)."""

    def __init__(self, fn, start: int, stop: int, tail: tuple, dtype):
        self.fn, self.start, self.stop = fn, int(start), int(stop)
        self.tail, self.dtype = tuple(tail), np.dtype(dtype)

    @property
    def shape(self) -> tuple:
        return (self.stop - self.start,) + self.tail

    def __len__(self):
        return self.stop - self.start

    def rows(self, a: int, b: int) -> np.ndarray:
        """Rows ``[a, b)`` of this array, computed now."""
        return self.fn(self.start + a, self.start + min(b, len(self)))

    def take(self, a: int, b: int) -> LazyRows:
        """Rows ``[a, b)``, still lazy."""
        return LazyRows(self.fn, self.start + a, self.start + min(b, len(self)), self.tail, self.dtype)

    def full(self) -> np.ndarray:
        return self.rows(0, len(self))

    def __array__(self, dtype=None, copy=None):
        out = self.full()
        return out if dtype is None else out.astype(dtype)


class LazyDict(dict):
    """A dict whose :class:`LazyRows` values are computed (once, then kept)
    when read; ``raw``, ``raw_items`` and ``rows`` read without computing."""

    def __getitem__(self, key):
        v = dict.__getitem__(self, key)
        if isinstance(v, LazyRows):
            v = v.full()
            dict.__setitem__(self, key, v)
        return v

    def get(self, key, default=None):
        return self[key] if key in self else default

    def __iter__(self):  # overridden so that dict(d), {**d}, update(d) read through __getitem__
        return dict.__iter__(self)

    def items(self):
        return [(k, self[k]) for k in list(dict.keys(self))]

    def values(self):
        return [self[k] for k in list(dict.keys(self))]

    def pop(self, key, *default):
        if key in self:
            v = self[key]
            dict.__delitem__(self, key)
            return v
        return dict.pop(self, key, *default)

    def copy(self):
        return LazyDict.of(self)

    def __or__(self, other):
        return dict(self.items()) | dict(other)

    def __reduce__(self):  # pickles and deep copies hold plain arrays
        return (dict, (dict(self.items()),))

    def raw(self, key):
        return dict.__getitem__(self, key)

    def raw_items(self):
        return list(dict.items(self))

    def pending(self, key) -> bool:
        """Is ``key`` not computed yet?"""
        return key in self and isinstance(dict.__getitem__(self, key), LazyRows)

    def rows(self, key, a: int, b: int) -> np.ndarray:
        """Rows ``[a, b)`` of ``self[key]``, computing only those when pending."""
        v = dict.__getitem__(self, key)
        return v.rows(a, b) if isinstance(v, LazyRows) else np.asarray(v)[a:b]

    @classmethod
    def of(cls, d) -> LazyDict:
        """A LazyDict of ``d``'s entries, pending ones left pending."""
        out = cls()
        for k, v in (d.raw_items() if isinstance(d, LazyDict) else dict.items(d or {})):
            dict.__setitem__(out, k, v)
        return out


def take(v, a: int, b: int):
    """Rows ``[a, b)`` of an array or of a :class:`LazyRows` (kept lazy)."""
    return v.take(a, b) if isinstance(v, LazyRows) else v[a:b]
