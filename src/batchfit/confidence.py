"""lmfit's ``confidence`` module names (``lmfit.confidence.f_compare``, ...)."""

from .inference import (MinimizerException, conf_interval, conf_interval2d, copy_vals, f_compare,
                        restore_vals)

__all__ = ["MinimizerException", "conf_interval", "conf_interval2d", "copy_vals", "f_compare",
           "restore_vals"]
