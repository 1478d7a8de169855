"""``python -m benchmarks --roofline``: bytes and flops of one LM step per fit, from XLA.

For each workload (W1, W2) and dtype, the batched step (``solver.lm_steps``:
one residual+Jacobian evaluation, the damped and Gauss-Newton solves, the
convergence tests) is compiled for a bucket of ``B`` fits and XLA's cost
analysis of that program gives the bytes it accesses and the flops it
does; both are divided by ``B``. The floor is what one step of one fit
must move at least: its data read once (``m`` values) and its solver state
read and written once. ``ratio = bytes / floor``; on a GPU the bytes decide
the time (an H200 moves about 4.8 TB/s), on a CPU the flops and the loop
overheads. No timing: the figures are properties of the compiled program.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from . import workloads

ROOFLINE_WORKLOADS = ("W1", "W2")


def _problem(wl, dtype, B):
    """The solver's inputs for the first ``B`` fits of ``wl`` (as Model.fit builds them)."""
    import batchfit as bf
    from batchfit.problem._compat import x64_context
    from batchfit.problem._data import prepare
    from batchfit.problem._pack import device_args, make_spec, pack
    from batchfit.problem._residual import model_residual

    model = bf.Model(wl.jax_func, independent_vars=list(wl.indep))
    params = model.make_params(**{n: wl.start[:B, j].astype(dtype) for j, n in enumerate(wl.names)})
    spec = make_spec(params)
    md = prepare(wl.data[:B].astype(dtype), {k: v.astype(dtype) for k, v in wl.indep.items()}, None,
                 "raise", np.dtype(dtype))
    packed = pack(params, spec, md.B)
    resid = model_residual(model.eval_fn, spec, tuple(model.param_names), tuple(model.independent_vars))
    ctx = x64_context(np.dtype(dtype))
    with ctx:
        per_fit, shared = device_args(packed, md, np.dtype(dtype))
    return resid, spec, packed, per_fit, shared, md, ctx


def measure(name: str, dtype: str = "float32", B: int = 4096) -> dict:
    """Cost analysis of the compiled batched step for ``B`` fits of workload ``name``."""
    import jax

    import batchfit as bf
    from batchfit.solver._lm import lm_init, lm_steps

    wl = workloads.make(name, B)
    resid, spec, packed, per_fit, shared, md, ctx = _problem(wl, dtype, B)
    with ctx:
        cfg = bf.LMConfig(small_programs=False).resolved(np.dtype(dtype), spec.nfree)
        theta0 = jax.device_put(np.asarray(packed.theta0, dtype=dtype))
        state = jax.jit(jax.vmap(partial(lm_init, resid, cfg), in_axes=(0, 0, None)))(theta0, per_fit, shared)
        step = jax.jit(partial(lm_steps, resid, cfg)).lower(state, per_fit, shared).compile()
        cost = step.cost_analysis()
        cost = cost[0] if isinstance(cost, (list, tuple)) else cost
        state_bytes = sum(np.asarray(a).nbytes for a in jax.tree_util.tree_leaves(state)) / B
    item = np.dtype(dtype).itemsize
    bytes_fit = float(cost.get("bytes accessed", np.nan)) / B
    floor = md.m * item + 2 * state_bytes
    return {"workload": name, "dtype": dtype, "B": B, "m": md.m, "nfree": spec.nfree,
            "bytes_per_fit_eval": bytes_fit, "floor_bytes": floor, "ratio": bytes_fit / floor,
            "flops_per_fit_eval": float(cost.get("flops", np.nan)) / B,
            "transcendentals_per_fit_eval": float(cost.get("transcendentals", np.nan)) / B,
            "state_bytes_per_fit": state_bytes}


def line(r: dict) -> str:
    return (f"roofline {r['workload']} {r['dtype']}: bytes/fit-eval={r['bytes_per_fit_eval']:,.0f}, "
            f"floor={r['floor_bytes']:,.0f}, ratio={r['ratio']:.2f}, "
            f"flops/fit-eval={r['flops_per_fit_eval']:,.0f}, "
            f"transcendentals/fit-eval={r['transcendentals_per_fit_eval']:,.0f} "
            f"(B={r['B']}, m={r['m']}, n={r['nfree']}, state {r['state_bytes_per_fit']:,.0f} bytes/fit)")


def run(dtypes=("float32", "float64"), B: int = 4096, names=ROOFLINE_WORKLOADS, log=print) -> list:
    out = []
    for name in names:
        for dt in dtypes:
            r = measure(name, dt, B)
            log(line(r))
            out.append(r)
    return out
