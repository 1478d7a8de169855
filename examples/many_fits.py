# %% [markdown]
# # Use case 3: many Gaussian fits at once
#
# N spectra, each a Gaussian peak on a flat background, each with its own
# peak, its own length (ragged: the detector stopped early on some) and a
# few dropped points; a handful are dead (three points left), which the fit
# must report, not hide. One call fits them all with the built-in
# `GaussianModel() + ConstantModel()`, starting from the models' vectorised
# guesses. Then: the status counts, accuracy against the truth, the results
# as a DataFrame, and a plot of the batch.
#
# Run: `python examples/many_fits.py`. `BATCHFIT_N` sets the number of fits
# (default 2,000; the use case is `BATCHFIT_N=100000`: about 30 s on a
# 2-core CPU, 2 GB of memory). The figure goes next to this file, or into the folder named by
# `BATCHFIT_FIGURE_DIR`.

# %%
import os
import time

import numpy as np

import batchfit as bf
from batchfit.models import ConstantModel, GaussianModel

N = int(os.environ.get("BATCHFIT_N", "2000"))
FIGURE_DIR = os.environ.get("BATCHFIT_FIGURE_DIR") or os.path.dirname(os.path.abspath(__file__))

# %% [markdown]
# ## Seeded data: (N, m) with NaN for missing points
#
# Datasets of unequal length are padded with NaN; `nan_policy="omit"` masks
# them (lists of 1-D arrays of unequal length work too and are padded the
# same way).

# %%
rng = np.random.default_rng(0)
m = 128
x = np.linspace(0.0, 10.0, m)
truth = {
    "amplitude": rng.uniform(2.0, 6.0, N),  # the peak's area
    "center": rng.uniform(3.0, 6.0, N),
    "sigma": rng.uniform(0.3, 0.9, N),
    "c": rng.uniform(0.0, 1.0, N),
}
noise = 0.05
clean = (truth["amplitude"][:, None] / (truth["sigma"][:, None] * np.sqrt(2 * np.pi))
         * np.exp(-((x - truth["center"][:, None]) ** 2) / (2 * truth["sigma"][:, None] ** 2))
         + truth["c"][:, None])
y = clean + rng.normal(0.0, noise, (N, m))

length = rng.integers(96, m + 1, N)  # ragged: dataset i has its first length[i] points
y[np.arange(m)[None, :] >= length[:, None]] = np.nan
dead = np.zeros(N, bool)  # dead channels (1 in 200): three points left, fewer than four parameters
dead[rng.choice(N, max(1, N // 200), replace=False)] = True
dropped = rng.random((N, m)) < 0.02  # dropped points (not on the dead channels' last three)
dropped[dead] = False
y[dropped] = np.nan
y[dead, 3:] = np.nan
print(f"{N} datasets, {int(np.isfinite(y).sum())} valid points, {int(dead.sum())} dead")

# %% [markdown]
# ## Starting values from the built-in guesses (one per dataset), then one fit

# %%
peak, background = GaussianModel(), ConstantModel()
model = peak + background
t0 = time.perf_counter()
params = peak.guess(y, x=x) | background.guess(y)
params["c"].value = np.nanmin(y, axis=1)  # a better background start than the mean: the floor
print(f"guesses: {time.perf_counter() - t0:.2f} s; center starts: {params['center'].value[:3]}")

t0 = time.perf_counter()
res = model.fit(y, params, x=x, nan_policy="omit")
elapsed = time.perf_counter() - t0
print(f"{N} fits in {elapsed:.2f} s (compilation included)")
print(bf.fit_report(res))

# %% [markdown]
# ## Status counts
#
# The dead channels end with TOO_FEW_POINTS (3 points, 4 parameters); their
# neighbours are unaffected.

# %%
counts = res.summary_counts()
print("status counts:", counts)
ok = res.success
print(f"succeeded: {int(ok.sum())} of {N}; dead channels flagged: "
      f"{int(np.sum(res.status[dead] == bf.RESULTS.TOO_FEW_POINTS))} of {int(dead.sum())}")

# %% [markdown]
# ## Accuracy: fitted minus true, in units of the reported standard error
#
# For honest standard errors about 95% of these pulls lie within +/- 2.

# %%
pulls = {}
for name in ("amplitude", "center", "sigma", "c"):
    p = res.params[name]
    pulls[name] = ((p.value - truth[name]) / p.stderr)[ok]
    print(f"{name:10s} median |fitted - true| = {np.median(np.abs(p.value - truth[name])[ok]):.2e}, "
          f"|pull| < 2 for {np.mean(np.abs(pulls[name]) < 2):.1%}")

# %% [markdown]
# ## Export: one row per fit (values, stderr, statistics, status)

# %%
df = res.to_dataframe()
print(df[["amplitude", "amplitude_stderr", "center", "center_stderr", "redchi", "status"]].head())
print(df.groupby("status").size())

# %% [markdown]
# ## The batch at a glance: parameter histograms and the worst fits

# %%
import matplotlib  # noqa: E402

matplotlib.use("Agg")
fig = res.plot_batch()
figure = os.path.join(FIGURE_DIR, "many_fits.png")
fig.savefig(figure, dpi=90)
print(f"plot written to {figure}")
