# %% [markdown]
# # Use case 4: a global fit, D decays sharing two lifetimes
#
# D decay curves (pixels, detectors, samples) y_d(t) = a_d exp(-t/tau1) +
# b_d exp(-t/tau2) + c_d: the two lifetimes tau1, tau2 are the same for all,
# the amplitudes and the offset are each curve's own. That is one fit with
# 2 + 3 D parameters. Its Jacobian is block-arrow shaped (every residual
# depends on the two shared parameters and on its own curve's three), and
# `group_solver="schur"` exploits it: each step eliminates the per-curve
# blocks (Schur complement), so time and memory grow linearly with D, where
# a dense solve would grow as D^3.
#
# Run: `python examples/global_fit.py`. `BATCHFIT_D` sets D (default 2,000;
# 100,000 works too). The figure goes next to this file, or into the folder
# named by `BATCHFIT_FIGURE_DIR`.

# %%
import os
import time

import numpy as np

import batchfit as bf
from batchfit.models import ConstantModel, DoubleExponentialModel

D = int(os.environ.get("BATCHFIT_D", "2000"))
FIGURE_DIR = os.environ.get("BATCHFIT_FIGURE_DIR") or os.path.dirname(os.path.abspath(__file__))
TAU1, TAU2 = 0.5, 3.0  # the truth

# %% [markdown]
# ## Seeded data: (D, m)

# %%
rng = np.random.default_rng(0)
m = 64
t = np.linspace(0.0, 10.0, m)
truth = {"amplitude1": rng.uniform(1.0, 3.0, D), "amplitude2": rng.uniform(0.5, 2.0, D),
         "c": rng.uniform(-0.5, 0.5, D)}
y = (truth["amplitude1"][:, None] * np.exp(-t / TAU1) + truth["amplitude2"][:, None] * np.exp(-t / TAU2)
     + truth["c"][:, None] + rng.normal(0.0, 0.05, (D, m)))

# %% [markdown]
# ## The model and its starts
#
# The built-in `DoubleExponentialModel` (amplitude1, decay1, amplitude2,
# decay2) plus a `ConstantModel` (c). Starts: the offset from each curve's
# tail, the double-exponential guess on what is left (one per curve), and
# for the shared lifetimes the median over the curves.

# %%
decays, offset = DoubleExponentialModel(), ConstantModel()
model = decays + offset
c0 = y[:, -8:].mean(axis=1)
params = decays.guess(y - c0[:, None], x=t) | offset.make_params(c=c0)
for name in ("decay1", "decay2"):
    params[name].value = float(np.median(params[name].value))
    params[name].min = 0.0
print(f"starts: decay1 = {params['decay1'].value:.3f}, decay2 = {params['decay2'].value:.3f}")

# %% [markdown]
# ## One global fit

# %%
t0 = time.perf_counter()
res = model.fit(y, params, x=t, shared=["decay1", "decay2"], group_solver="schur")
elapsed = time.perf_counter() - t0
print(bf.fit_report(res))
print(f"\n{D} curves, {res.nvarys} free parameters, {res.ndata} points: {elapsed:.2f} s "
      "(compilation included)")

# %% [markdown]
# ## Shared lifetimes against the truth

# %%
shared = {}
for name, true in (("decay1", TAU1), ("decay2", TAU2)):
    p = res.params[name]
    shared[name] = (float(p.value), float(p.stderr), true)
    print(f"{name}: {p.value:.5f} +/- {p.stderr:.5f}   (true {true}, "
          f"off by {(p.value - true) / p.stderr:+.2f} stderr)")
for name in ("amplitude1", "amplitude2", "c"):
    p = res.params[name]
    pull = (p.value - truth[name]) / p.stderr
    print(f"{name:10s} per curve: median |fitted - true| = {np.median(np.abs(p.value - truth[name])):.2e}, "
          f"|pull| < 2 for {np.mean(np.abs(pull) < 2):.1%}")

# %% [markdown]
# ## A few curves with the global fit, residuals below

# %%
import matplotlib  # noqa: E402

matplotlib.use("Agg")
fig = res.plot(max_datasets=4)
figure = os.path.join(FIGURE_DIR, "global_fit.png")
fig.savefig(figure, dpi=90)
print(f"plot written to {figure}")
