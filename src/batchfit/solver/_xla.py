"""How the library's programs are compiled: ``jit``, ``jax.jit`` with batchfit's XLA options.

On a CPU, XLA's element-wise ("legacy") emitters replace its newer fusion
emitters for batchfit's own programs (``xla_cpu_use_fusion_emitters=False``).
Measured on the 2-core development VM with jax 0.10.2 (one core): compiling
takes 40-50% less time (W1 N=10^4 float32: 7.5 s -> 4.3 s; use case 1's single
fit: 3.5 s -> 1.9 s, its cold process 5.6 s -> 3.8 s), compiled programs hold
less memory (W1 N=10^4 peak RSS 0.70 -> 0.49 GB), and the warm fits run as
fast, within the machine's 10-15% run-to-run noise (W1, W2, W5).

A small program (one fit or a few: at most :data:`SMALL_ELEMENTS` numbers
in its array arguments) also compiles without LLVM optimisation
(:data:`SMALL_OPTIONS`): use case 1's programs compile in 1.2 s instead of
1.9 s, its cold process takes 3.1 s (1.9x lmfit) instead of 3.8 s, and its
fit runs in milliseconds either way. The IEEE arithmetic is the same (no
fast math at any level): the fits of a small program equal the same fits in
a large one.

The options are decided once, at the first call of any such program (so
importing batchfit initialises no backend): only on a CPU default backend,
only where this jax's ``jax.jit`` takes ``compiler_options``, and never for
an option the user set in ``XLA_FLAGS`` (``--xla_cpu_use_fusion_emitters=true
--xla_backend_optimization_level=3 --xla_llvm_disable_expensive_passes=false``
there gives XLA's defaults back). An XLA that does not know the option
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
#: and of its small programs (:data:`SMALL_ELEMENTS`): no LLVM optimisation, which
#: halves their compile again; their run time is a few milliseconds at most
SMALL_OPTIONS = {"xla_backend_optimization_level": 0, "xla_llvm_disable_expensive_passes": True}
#: a call whose array arguments hold at most this many numbers in all is a small
#: program (one fit, a few fits: use case 1 holds about 300; W5's one dataset of
#: 10^5 points is not)
SMALL_ELEMENTS = 1 << 15

_REFUSED = []  # holds True once XLA refused the options


@functools.lru_cache(maxsize=None)
def _decided(small: bool) -> tuple:
    if "compiler_options" not in inspect.signature(jax.jit).parameters:
        return ()
    try:
        if jax.default_backend() != "cpu":
            return ()
    except RuntimeError:
        return ()
    flags = os.environ.get("XLA_FLAGS", "")
    opts = {**CPU_OPTIONS, **(SMALL_OPTIONS if small else {})}
    return tuple((k, v) for k, v in opts.items() if k not in flags)


def compiler_options(small: bool = False) -> tuple:
    """The options in force for a program (a small one: ``small``), as
    ``((name, value), ...)``; empty where none apply."""
    return () if _REFUSED else _decided(bool(small))


def _refused(err: Exception) -> bool:
    return any(name in str(err) for name in {**CPU_OPTIONS, **SMALL_OPTIONS})


def _is_small(args, kwargs) -> bool:
    n = 0
    for leaf in jax.tree_util.tree_leaves((args, kwargs)):
        n += getattr(leaf, "size", 0) if getattr(leaf, "ndim", 0) else 0
        if n > SMALL_ELEMENTS:
            return False
    return True


class _Jit:
    """``jax.jit(fun, **kw)`` with :func:`compiler_options`, built at its first
    use; a small call (:data:`SMALL_ELEMENTS`) runs its own variant."""

    def __init__(self, fun, kw):
        self._fun, self._kw, self._jitted = fun, kw, {}
        functools.update_wrapper(self, fun)

    def _get(self, small=False):
        opts = compiler_options(small)
        fn = self._jitted.get(opts)
        if fn is None:
            kw = dict(self._kw, compiler_options=dict(opts)) if opts else self._kw
            fn = self._jitted[opts] = jax.jit(self._fun, **kw)
        return fn, opts

    def __call__(self, *args, **kwargs):
        fn, opts = self._get(_is_small(args, kwargs))
        try:
            return fn(*args, **kwargs)
        except Exception as err:
            if not (opts and _refused(err)):
                raise
        _REFUSED.append(True)  # this XLA does not know an option: none from now on
        return self._get()[0](*args, **kwargs)

    def __getattr__(self, name):  # lower, trace, eval_shape, clear_cache, ...
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._get()[0], name)


def jit(fun=None, **kw):
    """``jax.jit`` for the library's programs (same arguments); usable as
    ``@jit``, ``@partial(jit, static_argnums=...)`` or ``jit(f, ...)``."""
    if fun is None:
        return functools.partial(jit, **kw)
    return _Jit(fun, kw)
