"""Persistent compilation cache policy, applied once when batchfit is imported.

A fresh Python process otherwise recompiles every XLA program batchfit uses
(seconds for one small fit). With JAX's persistent compilation cache on, a
second process loads them from disk instead.

- ``BATCHFIT_CACHE_DIR=off`` (or ``0``, ``false``, ``no``, ``none``, empty):
  no cache.
- ``BATCHFIT_CACHE_DIR=/some/dir``: cache there.
- unset: the user's cache folder (``$XDG_CACHE_HOME`` or ``~/.cache`` on
  Linux, ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows), under
  ``batchfit/jax-<jax version>-batchfit-<batchfit version>``.

A cache the user configured for JAX (``jax_compilation_cache_dir`` already
set, or ``JAX_COMPILATION_CACHE_DIR`` in the environment) is left alone. A
folder that cannot be created or written silently means no cache.
"""

from __future__ import annotations

import os
import sys
import tempfile

import jax

from ._version import __version__

ENV = "BATCHFIT_CACHE_DIR"
OFF = {"", "0", "off", "false", "no", "none"}

#: what the policy did at import: "off", "user" (left the user's cache alone),
#: "unwritable" or the folder now in use
STATE: str = "off"


def default_dir() -> str:
    """The default cache folder for this platform, jax and batchfit version."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(os.path.expanduser("~"), "AppData",
                                                             "Local")
    elif sys.platform == "darwin":
        base = os.path.join(os.path.expanduser("~"), "Library", "Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "batchfit", f"jax-{jax.__version__}-batchfit-{__version__}")


def _writable(path: str) -> bool:
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError:
        return False
    return True


def _set(name: str, value) -> None:
    try:
        jax.config.update(name, value)
    except (AttributeError, KeyError, ValueError, TypeError):  # option absent in this jax
        pass


def configure() -> str:
    """Apply the policy (idempotent); returns what it did (see ``STATE``)."""
    global STATE
    user_dir = getattr(jax.config, "jax_compilation_cache_dir", None)
    if (user_dir and user_dir != STATE) or os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        STATE = "user"
        return STATE
    choice = os.environ.get(ENV)
    if choice is not None and choice.strip().lower() in OFF:
        STATE = "off"
        return STATE
    path = os.path.abspath(os.path.expanduser(choice.strip())) if choice else default_dir()
    if not _writable(path):
        STATE = "unwritable"
        return STATE
    _set("jax_compilation_cache_dir", path)
    _set("jax_persistent_cache_min_compile_time_secs", 0.0)  # small programs too
    _set("jax_persistent_cache_min_entry_size_bytes", -1)  # no size floor
    STATE = path
    return STATE


configure()
