"""MISSION use case 1 as a user's script (examples/simultaneous_fit.py without the plot):
two Gaussians sharing cen, sigma, amp through expressions, ``minimize(objective, params)``.

    python benchmarks/cold_script.py batchfit|lmfit DATA.npz

Run in a fresh process by ``benchmarks/cold.py``; imports only what that library's user
imports (numpy and lmfit, or jax.numpy and batchfit). Prints one JSON line.
"""

import json
import sys
import time

T0 = time.perf_counter()
WHICH, PATH = sys.argv[1], sys.argv[2]
import numpy as np

if WHICH == "lmfit":
    import lmfit as lib

    xp = np
else:
    import jax.numpy as xp

    import batchfit as lib


def gauss_dataset(params, i, x):
    amp, cen, sig = (params[f"{n}_{i + 1}"] for n in ("amp", "cen", "sigma"))
    return amp * xp.exp(-((x - cen) ** 2) / (2 * sig**2)) + params[f"const_{i + 1}"]


def objective(params, x, data):
    return xp.concatenate([data[i] - gauss_dataset(params, i, x) for i in range(data.shape[0])])


def main():
    with np.load(PATH) as f:
        x, data = f["x"], f["data"]
    params = lib.Parameters()
    for iy in range(data.shape[0]):
        params.add(f"cen_{iy + 1}", value=0.5, min=0.0, max=2.0)
        params.add(f"sigma_{iy + 1}", value=1.0, min=0.0, max=10.0)
        params.add(f"amp_{iy + 1}", value=1.0, min=0.0, max=100.0)
        params.add(f"const_{iy + 1}", value=0.0, min=0.0, max=100.0)
    for name in ("cen", "sigma", "amp"):
        params[f"{name}_2"].expr = f"{name}_1"
    out = lib.minimize(objective, params, args=(x, data), method="leastsq")
    lib.fit_report(out)
    print(json.dumps({"system": WHICH, "chisqr": float(out.chisqr),
                      "values": {k: float(p.value) for k, p in out.params.items()},
                      "in_script_s": time.perf_counter() - T0}))


main()
