"""A Parameter works as its value: lmfit's operator overloads.

Every operator acts on ``self.value`` (a tie evaluated on access); for a
batch (an array value) they act elementwise as numpy does, and ``float``,
``int`` and ``bool`` of a batch raise a ``TypeError`` naming the parameter.
"""

from __future__ import annotations

import operator

import numpy as np


def _binary(op):
    def method(self, other):
        return op(self._number(), other)

    return method


def _reflected(op):
    def method(self, other):
        return op(other, self._number())

    return method


class NumberLike:
    """Mixin: arithmetic, comparisons and conversions through ``self.value``."""

    __slots__ = ()

    def _number(self):
        v = self.value
        if v is None:
            raise TypeError(f"parameter {self.name!r} has no value")
        return v

    def _scalar(self, what):
        v = self._number()
        if np.ndim(v):
            raise TypeError(f"{what}() of parameter {self.name!r}: its value is an array of shape "
                            f"{np.shape(v)} (a batch); use np.asarray(param) or param.value")
        return v

    def __array__(self, dtype=None, copy=None):
        return np.array(self._number(), dtype=dtype if dtype is not None else float)

    def __float__(self):
        return float(self._scalar("float"))

    def __int__(self):
        return int(self._scalar("int"))

    def __trunc__(self):
        return int(self._scalar("trunc"))

    def __bool__(self):
        return bool(self._scalar("bool") != 0)

    def __round__(self, ndigits=None):
        return round(float(self._scalar("round")), ndigits)

    def __abs__(self):
        return abs(self._number())

    def __neg__(self):
        return -self._number()

    def __pos__(self):
        return +self._number()

    def __eq__(self, other):
        return self.value == other

    def __ne__(self, other):
        return self.value != other

    __hash__ = None  # as lmfit's: == compares values

    __gt__ = _binary(lambda a, b: a > b)
    __ge__ = _binary(lambda a, b: a >= b)
    __lt__ = _binary(lambda a, b: a < b)
    __le__ = _binary(lambda a, b: a <= b)


# the arithmetic operators and their reflected forms (p + 1, 1 + p, ...)
for _name, _op in {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
                   "floordiv": operator.floordiv, "mod": operator.mod, "divmod": divmod,
                   "pow": operator.pow}.items():
    setattr(NumberLike, f"__{_name}__", _binary(_op))
    setattr(NumberLike, f"__r{_name}__", _reflected(_op))
del _name, _op
