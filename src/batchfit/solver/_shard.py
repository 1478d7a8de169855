"""The batch axis of a solve sharded across this process's devices.

With more than one local device (several GPUs, or CPU devices forced with
``XLA_FLAGS=--xla_force_host_platform_device_count=4``), :func:`solve` lays
every per-fit array out over a one-dimensional :class:`jax.sharding.Mesh`
whose only axis is ``"batch"``: ``PartitionSpec("batch")`` on the leading
axis of per-fit arrays, arrays common to every fit replicated. The same
jitted init and round functions as on one device then run partitioned by
XLA (each device advances its own lanes; the "is any fit still running"
test of a round is the only cross-device reduction per iteration).
Compaction gathers the unfinished fits of all devices into a smaller
batch that is again spread evenly over the devices.

The batch is padded to a multiple of the device count (on top of the
bucket size), and so are the compaction sizes. Each fit's arithmetic is
the same as on one device, so results agree with a one-device solve (to
rounding at worst: XLA may vectorise a smaller shard differently).

Which devices: ``LMConfig(devices=...)``; ``None`` (the default) means
every local device of the default backend, unless a default device was
chosen with ``jax.default_device``; an int ``k`` means the first ``k``
local devices (``devices=1`` turns sharding off); a sequence of
:class:`jax.Device` means those. With one device none of this module
runs beyond :func:`wanted`.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from . import _batch
from ._xla import jit as xla_jit

AXIS = "batch"


def _default_device():
    try:
        dev = jax.config.jax_default_device
    except AttributeError:  # pragma: no cover - very old or very new jax
        return None
    if dev is None or isinstance(dev, jax.Device):
        return dev
    return jax.local_devices(backend=str(dev))[0]  # a platform name, e.g. "cpu"


def resolve_devices(devices=None) -> tuple:
    """The devices a solve with ``LMConfig(devices=devices)`` runs on.

    Example:
      >>> from batchfit.solver._shard import resolve_devices
      >>> import jax
      >>> resolve_devices(1) == (jax.local_devices()[0],)
      True
    """
    if devices is None:
        dev = _default_device()
        return (dev,) if dev is not None else tuple(jax.local_devices())
    if isinstance(devices, (int, np.integer)) and not isinstance(devices, bool):
        local = jax.local_devices()
        if not 1 <= int(devices) <= len(local):
            raise ValueError(f"devices={devices}: this process has {len(local)} local device(s)")
        return tuple(local[: int(devices)])
    devs = tuple(devices)
    if not devs or not all(isinstance(d, jax.Device) for d in devs):
        raise ValueError(f"devices must be None, an int or a sequence of jax devices, got {devices!r}")
    if len(set(devs)) != len(devs):
        raise ValueError(f"devices lists a device twice: {devices!r}")
    return devs


def wanted(devices) -> bool:
    """Whether a solve with this ``devices`` setting leaves the one-device
    path: more than one device, or one chosen explicitly."""
    if devices is not None:
        return True
    return _default_device() is None and jax.local_device_count() > 1


def _round_up(n: int, k: int) -> int:
    return -(-n // k) * k


@functools.lru_cache(maxsize=16)
def _layout(devices: tuple):
    """Mesh, per-fit sharding, replicated sharding and the sharded take/put."""
    mesh = Mesh(np.asarray(devices, dtype=object), (AXIS,))
    batch = NamedSharding(mesh, PartitionSpec(AXIS))
    repl = NamedSharding(mesh, PartitionSpec())

    def take(tree, idx):
        return jax.tree_util.tree_map(lambda a: jnp.take(a, idx, axis=0), tree)

    def put(full, idx, part):
        # Duplicated (padding) lanes hold identical values, so write order is moot.
        return jax.tree_util.tree_map(lambda f, w: f.at[idx].set(w), full, part)

    return (mesh, batch, repl, xla_jit(take, out_shardings=batch),
            xla_jit(put, out_shardings=batch))


def solve(resid_fn, theta0, args, shared, cfg, progress=None):
    """:func:`batchfit.solver.solve` with the batch axis sharded over
    ``cfg.devices`` (see the module docstring); same arguments and output."""
    devices = resolve_devices(cfg.devices)
    cfg = dataclasses.replace(cfg, devices=None)  # one compile cache whatever the setting
    if len(devices) == 1:
        theta0, args, shared = jax.device_put((theta0, args, shared), devices[0])
        return _batch.solve_local(resid_fn, theta0, args, shared, cfg, progress)

    ndev = len(devices)
    _, batch, repl, take, put = _layout(devices)

    def index(idx):  # host indices, replicated on the mesh
        return jax.device_put(np.asarray(idx, dtype=np.int32), repl)

    B = theta0.shape[0]
    size = _round_up(_batch.bucket_size(B), ndev)
    if size != B:
        theta0, args = _batch._take((theta0, args), jnp.asarray(_batch._pad_index(np.arange(B), size)))
    theta0, args = jax.device_put((theta0, args), batch)
    shared = jax.device_put(shared, repl)

    full = _batch._init(resid_fn, cfg, theta0, args, shared)
    work_idx = np.arange(size)  # lanes of `full` that the working set covers
    work_state, work_args = full, args
    while True:
        status = np.asarray(work_state.status)
        running = np.nonzero(status == _batch.RESULTS.RUNNING)[0]
        if running.size == 0:
            break
        nb = _round_up(_batch.compact_size(running.size), ndev)
        if nb * 2 <= work_idx.size:
            if work_idx.size != size:
                full = put(full, index(work_idx), work_state)
            else:
                full = work_state
            local = _batch._pad_index(running, nb)
            work_idx = work_idx[local]
            work_state, work_args = take((work_state, work_args), index(local))
        work_state = _batch._round(resid_fn, cfg, work_state, work_args, shared)
        if progress is not None:
            progress(int(np.sum(np.asarray(work_state.status) != _batch.RESULTS.RUNNING)))
    if work_idx.size != size:
        full = put(full, index(work_idx), work_state)
    else:
        full = work_state
    out = jax.tree_util.tree_map(lambda a: np.asarray(a)[:B], full)
    return _batch.SolveOutput(out.theta, out.chi2, out.nfev, out.status)
