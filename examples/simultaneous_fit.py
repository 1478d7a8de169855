"""MISSION use case 1: two datasets sharing cen, sigma, amp, written as an
lmfit user would (``np`` replaced by ``jnp`` inside the model), with a plot of
both datasets, their models, and the residuals in a panel below.

Run: python examples/simultaneous_fit.py [output.png]
"""

import sys

import jax.numpy as jnp
import numpy as np

import batchfit as bf
from batchfit.data import two_gaussian_datasets


def gauss(x, amp, cen, sigma):
    return amp * jnp.exp(-((x - cen) ** 2) / (2 * sigma**2))


def gauss_dataset(params, i, x):
    amp = params[f"amp_{i + 1}"]
    cen = params[f"cen_{i + 1}"]
    sig = params[f"sigma_{i + 1}"]
    const = params[f"const_{i + 1}"]
    return gauss(x, amp, cen, sig) + const


def objective(params, x, data):
    ndata, _ = data.shape
    resid = [data[i] - gauss_dataset(params, i, x) for i in range(ndata)]
    return jnp.concatenate(resid)


def main(out="simultaneous_fit.png"):
    x, data = two_gaussian_datasets(seed=0)
    fit_params = bf.Parameters()
    for iy, _ in enumerate(data):
        fit_params.add(f"cen_{iy + 1}", value=0.5, min=0.0, max=2.0)
        fit_params.add(f"sigma_{iy + 1}", value=1.0, min=0.0, max=10.0)
        fit_params.add(f"amp_{iy + 1}", value=1.0, min=0.0, max=100.0)
        fit_params.add(f"const_{iy + 1}", value=0.0, min=0.0, max=100.0)
    for iy in (2,):
        fit_params[f"cen_{iy}"].expr = "cen_1"
        fit_params[f"sigma_{iy}"].expr = "sigma_1"
        fit_params[f"amp_{iy}"].expr = "amp_1"

    out_res = bf.minimize(objective, fit_params, args=(x, data), method="leastsq")
    print(bf.fit_report(out_res))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, axr) = plt.subplots(2, 1, sharex=True, figsize=(7, 6),
                                  gridspec_kw={"height_ratios": [3, 1]})
    best = out_res.params.valuesdict()
    for i in range(data.shape[0]):
        model = np.asarray(gauss_dataset(best, i, x))
        (line,) = ax.plot(x, data[i], "o", ms=3, label=f"dataset {i + 1}")
        ax.plot(x, model, "-", color=line.get_color(), label=f"model {i + 1}")
        axr.plot(x, data[i] - model, "o", ms=3, color=line.get_color())
    axr.axhline(0, color="k", lw=0.8)
    ax.set_ylabel("y")
    ax.legend()
    axr.set_xlabel("x")
    axr.set_ylabel("data - model")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    print(f"plot written to {out}")
    return out_res


if __name__ == "__main__":
    main(*sys.argv[1:])
