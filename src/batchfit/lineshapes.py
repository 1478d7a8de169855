"""lmfit's ``lineshapes`` module path (``from lmfit.lineshapes import gaussian``):
the line shapes of :mod:`batchfit.models.lineshapes`."""

from .models.lineshapes import *  # noqa: F401,F403
from .models.lineshapes import __all__  # noqa: F401
