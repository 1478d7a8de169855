"""Peak models: Gaussian, Lorentzian, Voigt, pseudo-Voigt and 2-D Gaussians."""

from __future__ import annotations

import math

from ..fitting._model import Model
from . import _estimate, lineshapes
from ._guess import finish, prepare
from .lineshapes import TINY

FWHM_GAUSS = 2 * math.sqrt(2 * math.log(2))


def _hint_width(model, width="sigma", fwhm="fwhm"):
    model.set_param_hint(width, min=0)
    model.set_param_hint(fwhm, expr=f"{FWHM_GAUSS:.7f}*{model.prefix}{width}")


class _Peak(Model):
    """A 1-D peak with lmfit's hints and ``guess_from_peak`` starts."""

    _func = None
    _fwhm_factor = 1.0
    _height_factor = 1.0
    _ampscale, _sigscale = 1.0, 1.0

    def __init__(self, independent_vars=("x",), prefix="", nan_policy="raise", **kwargs):
        super().__init__(type(self)._func, list(independent_vars), prefix=prefix,
                         nan_policy=nan_policy, **kwargs)
        self._set_hints()

    def _set_hints(self):
        p = self.prefix
        self.set_param_hint("sigma", min=0)
        self.set_param_hint("fwhm", expr=f"{self._fwhm_factor:.7f}*{p}sigma")
        self.set_param_hint("height", expr=f"{self._height_factor:.7f}*{p}amplitude/maximum({TINY}, {p}sigma)")

    def guess(self, data, x=None, negative=False, **kwargs):
        """Starting values from data of shape (m,) or (N, m) (then (N,) arrays).

        lmfit's estimate, per dataset: centre and width from the points
        beyond half maximum (below it with ``negative=True``). Keywords
        (unprefixed names) override estimates.
        """
        g = prepare(self, data, min_points=3, x=x)
        est = _estimate.peak(g, negative, self._ampscale, self._sigscale)
        return finish(self, est, g, kwargs)


class GaussianModel(_Peak):
    """``amplitude / (sigma sqrt(2 pi)) exp(-(x - center)**2 / (2 sigma**2))`` (lmfit's).

    Parameters ``amplitude`` (the area), ``center``, ``sigma`` (min 0), and
    the derived ``fwhm`` and ``height``.

    Example:
      >>> import numpy as np
      >>> from batchfit.models import GaussianModel
      >>> x = np.linspace(-5, 5, 101)
      >>> rng = np.random.default_rng(0)
      >>> model = GaussianModel()
      >>> data = model.eval(x=x, amplitude=3.0, center=0.5, sigma=0.8) + rng.normal(0, 0.01, (4, 101))
      >>> params = model.guess(data, x=x)            # one start per dataset
      >>> params["center"].value.shape
      (4,)
      >>> res = model.fit(data, params, x=x)
      >>> np.round(res.params["center"].value, 2).tolist()
      [0.5, 0.5, 0.5, 0.5]
    """

    _func = staticmethod(lineshapes.gaussian)
    _fwhm_factor = FWHM_GAUSS
    _height_factor = 1 / math.sqrt(2 * math.pi)


class LorentzianModel(_Peak):
    """``amplitude / (pi sigma (1 + ((x - center)/sigma)**2))`` (lmfit's).

    Parameters ``amplitude`` (the area), ``center``, ``sigma`` (half width,
    min 0), derived ``fwhm = 2 sigma`` and ``height``.

    Example:
      >>> from batchfit.models import LorentzianModel
      >>> LorentzianModel(prefix="l_").param_names
      ['l_amplitude', 'l_center', 'l_sigma']
    """

    _func = staticmethod(lineshapes.lorentzian)
    _fwhm_factor = 2.0
    _height_factor = 1 / math.pi
    _ampscale = 1.25


class VoigtModel(_Peak):
    """Voigt profile ``amplitude Re[w(z)] / (sigma sqrt(2 pi))``,
    ``z = (x - center + i gamma) / (sigma sqrt 2)`` (lmfit's).

    ``w`` is the Faddeeva function, computed in ``jnp``
    (:func:`batchfit.models.lineshapes.wofz`). As in lmfit, ``gamma`` is
    tied to ``sigma`` by default; free it with
    ``params["gamma"].set(expr="", vary=True)``. ``fwhm`` is derived
    (Olivero's approximation, as lmfit) and so is ``height`` (lmfit's
    ``real(wofz(1j*y))`` written as ``erfcx(y)``, the same function).

    Example:
      >>> from batchfit.models import VoigtModel
      >>> params = VoigtModel().make_params(amplitude=1, center=0, sigma=0.5)
      >>> params["gamma"].expr, round(params.valuesdict()["fwhm"], 4)
      ('sigma', 1.8006)
    """

    _func = staticmethod(lineshapes.voigt)
    _ampscale, _sigscale = 1.5, 0.65

    def _set_hints(self):
        p = self.prefix
        self.set_param_hint("sigma", min=0)
        self.set_param_hint("gamma", expr=f"{p}sigma")
        self.set_param_hint("fwhm", expr=f"1.0692*{p}gamma+sqrt(0.8664*{p}gamma**2+5.545083*{p}sigma**2)")
        # lmfit's real(wofz(1j*y)): w(iy) = erfcx(y) for real y
        self.set_param_hint("height", expr=(f"({p}amplitude/(maximum({TINY}, {p}sigma*sqrt(2*pi))))*"
                                            f"erfcx({p}gamma/(maximum({TINY}, {p}sigma*sqrt(2))))"))


class PseudoVoigtModel(_Peak):
    """``(1 - fraction) G(sigma / sqrt(2 ln 2)) + fraction L(sigma)``, both of
    area ``amplitude`` and FWHM ``2 sigma`` (lmfit's).

    Parameters ``amplitude``, ``center``, ``sigma`` (min 0), ``fraction``
    (in [0, 1], starting at 0.5), derived ``fwhm`` and ``height``.

    Example:
      >>> from batchfit.models import PseudoVoigtModel
      >>> p = PseudoVoigtModel().make_params()
      >>> p["fraction"].value, p["fraction"].min, p["fraction"].max
      (0.5, 0.0, 1.0)
    """

    _func = staticmethod(lineshapes.pvoigt)
    _fwhm_factor = 2.0
    _ampscale = 1.25

    def _set_hints(self):
        p = self.prefix
        self.set_param_hint("sigma", min=0)
        self.set_param_hint("fraction", value=0.5, min=0.0, max=1.0)
        self.set_param_hint("fwhm", expr=f"2.0000000*{p}sigma")
        self.set_param_hint("height", expr=(
            f"(((1-{p}fraction)*{p}amplitude)/maximum({TINY}, ({p}sigma*sqrt(pi/log(2))))"
            f"+({p}fraction*{p}amplitude)/maximum({TINY}, (pi*{p}sigma)))"))

    def guess(self, data, x=None, negative=False, **kwargs):
        kwargs.setdefault("fraction", 0.5)
        return super().guess(data, x=x, negative=negative, **kwargs)

    guess.__doc__ = _Peak.guess.__doc__


class Gaussian2dModel(Model):
    """2-D Gaussian of volume ``amplitude`` on independent variables x and y.

    ``form="elliptic"`` (default, lmfit's ``Gaussian2dModel``): parameters
    ``amplitude``, ``centerx``, ``centery``, ``sigmax``, ``sigmay``;
    ``"circular"``: one ``sigma``; ``"rotated"``: ``sigmax``, ``sigmay`` and
    ``rotation`` (radians, the angle of the ``sigmax`` axis). Derived:
    ``fwhmx``/``fwhmy`` (``fwhm`` when circular) and ``height``. Add a
    :class:`ConstantModel` for a background. Data and x, y are flattened
    images: shape (m,) or (N, m).

    Example:
      >>> import numpy as np
      >>> from batchfit.models import Gaussian2dModel
      >>> yy, xx = np.mgrid[0:15, 0:15].reshape(2, -1).astype(float)
      >>> model = Gaussian2dModel(form="circular")
      >>> z = model.eval(x=xx, y=yy, amplitude=50.0, centerx=7.2, centery=6.5, sigma=1.5)
      >>> p = model.guess(z, x=xx, y=yy)
      >>> round(p["centerx"].value, 1), round(p["centery"].value, 1)
      (7.2, 6.5)
    """

    FORMS = {"elliptic": lineshapes.gaussian2d, "circular": lineshapes.gaussian2d_circular,
             "rotated": lineshapes.gaussian2d_rotated}

    def __init__(self, independent_vars=("x", "y"), prefix="", nan_policy="raise", form="elliptic",
                 **kwargs):
        if form not in self.FORMS:
            raise ValueError(f"Gaussian2dModel: form must be one of {sorted(self.FORMS)}, got {form!r}")
        self.form = form
        super().__init__(self.FORMS[form], list(independent_vars), prefix=prefix,
                         nan_policy=nan_policy, **kwargs)
        p = self.prefix
        if form == "circular":
            _hint_width(self)
            height = f"0.1591549*{p}amplitude/maximum({TINY}, {p}sigma)**2"
        else:
            _hint_width(self, "sigmax", "fwhmx")
            _hint_width(self, "sigmay", "fwhmy")
            height = f"0.1591549*{p}amplitude/(maximum({TINY}, {p}sigmax)*maximum({TINY}, {p}sigmay))"
        self.set_param_hint("height", expr=height)

    def guess(self, data, x=None, y=None, negative=False, **kwargs):
        """Starting values from images flattened to (m,) or (N, m) (then (N,) arrays).

        Centre and widths from the mean and covariance of the points beyond
        half maximum (below it with ``negative=True``), the orientation too
        when rotated; the volume from the height and the widths.
        """
        g = prepare(self, data, min_points=3, x=x, y=y)
        return finish(self, _estimate.peak2d(g, self.form, negative), g, kwargs)
