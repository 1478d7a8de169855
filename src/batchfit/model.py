"""lmfit's ``model`` module path (``from lmfit.model import Model``)."""

from .fitting import CompositeModel, Model

__all__ = ["CompositeModel", "Model"]
