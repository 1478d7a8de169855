"""How the library's programs are compiled: ``jit``, ``jax.jit`` with batchfit's XLA options.

On a CPU, XLA's element-wise ("legacy") emitters replace its newer fusion
emitters for batchfit's own programs (``xla_cpu_use_fusion_emitters=False``).
Measured on the 2-core development VM with jax 0.10.2 (one core): compiling
takes 40-50% less time (W1 N=10^4 float32: 7.5 s -> 4.3 s; use case 1's single
fit: 3.5 s -> 1.9 s, its cold process 5.6 s -> 3.8 s), compiled programs hold
less memory (W1 N=10^4 peak RSS 0.70 -> 0.49 GB), and the warm fits run as
fast, within the machine's 10-15% run-to-run noise (W1, W2, W5).

The options are decided once, at the first call of any such program (so
importing batchfit initialises no backend): only on a CPU default backend,
only where this jax's ``jax.jit`` takes ``compiler_options``, and never for
an option the user set in ``XLA_FLAGS`` (``--xla_cpu_use_fusion_emitters=true``
there gives XLA's default back). An XLA that does not know the option
refuses the first program that carries it: that program is compiled again
without, and so is every later one. Programs the user compiles are not
touched.
"""

from __future__ import annotations

import functools
import inspect
import os

import jax

#: XLA options of batchfit's programs on a CPU (module docstring)
CPU_OPTIONS = {"xla_cpu_use_fusion_emitters": False}


_REFUSED = []  # holds True once XLA refused the options


@functools.lru_cache(maxsize=None)
def _decided() -> tuple:
    if "compiler_options" not in inspect.signature(jax.jit).parameters:
        return ()
    try:
        if jax.default_backend() != "cpu":
            return ()
    except RuntimeError:
        return ()
    flags = os.environ.get("XLA_FLAGS", "")
    opts = {k: v for k, v in CPU_OPTIONS.items() if k not in flags}
    return tuple(opts.items())


def compiler_options() -> tuple:
    """The options in force, as ``((name, value), ...)``; empty where none apply."""
    return () if _REFUSED else _decided()


def _refused(err: Exception) -> bool:
    return any(name in str(err) for name in CPU_OPTIONS)


class _Jit:
    """``jax.jit(fun, **kw)`` with :func:`compiler_options`, built at its first use."""

    def __init__(self, fun, kw):
        self._fun, self._kw, self._jitted, self._opts = fun, kw, None, ()
        functools.update_wrapper(self, fun)

    def _get(self):
        if self._jitted is None or (self._opts and _REFUSED):
            self._opts = compiler_options()
            kw = dict(self._kw, compiler_options=dict(self._opts)) if self._opts else self._kw
            self._jitted = jax.jit(self._fun, **kw)
        return self._jitted

    def __call__(self, *args, **kwargs):
        fn = self._get()
        try:
            return fn(*args, **kwargs)
        except Exception as err:
            if not (self._opts and _refused(err)):
                raise
        _REFUSED.append(True)  # this XLA does not know the option: none from now on
        return self._get()(*args, **kwargs)

    def __getattr__(self, name):  # lower, trace, eval_shape, clear_cache, ...
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._get(), name)


def jit(fun=None, **kw):
    """``jax.jit`` for the library's programs (same arguments); usable as
    ``@jit``, ``@partial(jit, static_argnums=...)`` or ``jit(f, ...)``."""
    if fun is None:
        return functools.partial(jit, **kw)
    return _Jit(fun, kw)
