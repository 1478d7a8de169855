"""lmfit's ``MinimizerException`` (a ``ValueError`` too, as batchfit's own
checks of these conditions were)."""

from __future__ import annotations

CONF_ERR_GEN = "Cannot determine Confidence Intervals"
CONF_ERR_STDERR = f"{CONF_ERR_GEN} without sensible uncertainty estimates"
CONF_ERR_NVARS = (f"{CONF_ERR_GEN} with < 2 variables: conf_interval needs at least 2 free "
                  "parameters (with one, the profile is the chi-square itself)")


class MinimizerException(ValueError):
    """lmfit's exception for a fit that cannot give what was asked of it."""
