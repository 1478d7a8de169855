"""CompositeModel: two models combined by an operator (lmfit's ``m1 + m2``)."""

from __future__ import annotations

import copy

from ..problem._modelfn import OP_SYMBOLS, CompositeFunction
from ._model import Model


class CompositeModel(Model):
    """``op(left(x), right(x))``, built by ``left + right`` (or ``-``, ``*``, ``/``).

    Parameters are the union of both sides' (prefixed) parameters, derived
    parameters (hints) included; a name on both sides is a ``NameError``,
    as in lmfit: give the components distinct prefixes. Independent
    variables are the union of both sides'. ``op`` may be any function of
    two arrays (e.g. a convolution written with ``jnp``).

    Example:
      >>> import numpy as np
      >>> from batchfit.models import ConstantModel, GaussianModel
      >>> model = GaussianModel(prefix="g1_") + ConstantModel()
      >>> model.param_names
      ['g1_amplitude', 'g1_center', 'g1_sigma', 'c']
      >>> x = np.linspace(-3, 3, 61)
      >>> y = model.eval(x=x, g1_amplitude=2.0, g1_center=0.0, g1_sigma=0.5, c=1.0)
      >>> res = model.fit(y, model.make_params(g1_amplitude=1, g1_center=0.2, g1_sigma=1, c=0), x=x)
      >>> round(float(res.params["g1_sigma"].value), 6), sorted(model.eval_components(res.params, x=x))
      (0.5, ['constant', 'g1_'])
    """

    def __init__(self, left, right, op, *, name=None, nan_policy=None):
        for side, m in (("left", left), ("right", right)):
            if not isinstance(m, Model):
                raise TypeError(f"CompositeModel: {side} must be a Model, got {type(m).__name__}")
        if not callable(op):
            raise TypeError("CompositeModel: op must be callable, e.g. operator.add")
        clash = [n for n in left._all_names() if n in right._all_names()]
        if clash:
            raise NameError("; ".join(f"two models have parameters named {n!r}" for n in clash)
                            + ": give the models distinct prefixes, e.g. GaussianModel(prefix='g1_')")
        self.left, self.right, self.op = left, right, op
        self._custom_name = name
        self.nan_policy = nan_policy or left.nan_policy
        self.independent_vars = left.independent_vars + [
            v for v in right.independent_vars if v not in left.independent_vars]
        self._indep_defaults = {**right._indep_defaults, **left._indep_defaults}
        self.independent_vars_defvals = {**right.independent_vars_defvals, **left.independent_vars_defvals}
        self.param_names = left.param_names + right.param_names
        self._defaults = {**left._defaults, **right._defaults}
        self.def_vals = {**right.def_vals, **left.def_vals}
        self._optional = left._optional | right._optional
        self.opts = {}
        self.param_hints = {}
        for m in (left, right):
            for base, hint in m.param_hints.items():
                self.param_hints[m.prefix + base] = dict(hint)
        self.eval_fn = CompositeFunction(op, left.eval_fn, right.eval_fn)
        self.func = self.eval_fn

    @property
    def prefix(self):
        return ""

    @prefix.setter
    def prefix(self, value):
        raise ValueError("a CompositeModel has no prefix: set its components' prefixes before combining them")

    @property
    def name(self):
        """lmfit's name: ``(Model(gaussian, prefix='g1_') + Model(constant))``."""
        if self._custom_name:
            return self._custom_name
        sym = OP_SYMBOLS.get(self.op, getattr(self.op, "__name__", repr(self.op)))
        return f"({self.left.name} {sym} {self.right.name})"

    @name.setter
    def name(self, value):
        self._custom_name = value

    @property
    def _name(self):
        return self.name

    def __repr__(self):
        return f"<batchfit.CompositeModel: {self.name}>"

    def _with_options(self, static: dict):
        if not any(v in static for v in self.independent_vars) and not self._indep_defaults:
            return self
        m = copy.copy(self)
        m.left, m.right = self.left._with_options(static), self.right._with_options(static)
        m.independent_vars = m.left.independent_vars + [
            v for v in m.right.independent_vars if v not in m.left.independent_vars]
        m._indep_defaults = {}
        m.eval_fn = CompositeFunction(self.op, m.left.eval_fn, m.right.eval_fn)
        m.func = m.eval_fn
        return m

    @property
    def components(self) -> list:
        """The leaf models, left to right."""
        out = []
        for m in (self.left, self.right):
            out.extend(m.components if isinstance(m, CompositeModel) else [m])
        return out

    def eval_components(self, params=None, **kwargs) -> dict:
        """Each leaf model's curve, keyed by its prefix (or name if none)."""
        out = dict(self.left.eval_components(params, **kwargs))
        out.update(self.right.eval_components(params, **kwargs))
        return out


Model._composite = CompositeModel
