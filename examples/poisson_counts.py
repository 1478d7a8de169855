# %% [markdown]
# # Poisson counts and outliers: `statistic="cstat"` and robust losses
#
# Least squares weighs every point alike. Two kinds of data need something
# else:
#
# - **Counts** (photons, decays, events) with few per bin: their variance is
#   the model itself, and many bins hold 0. `statistic="cstat"` maximises
#   the Poisson likelihood, minimising Cash's C-statistic
#   `C = 2 sum(m - d + d ln(d/m))`; the covariance is the inverse Fisher
#   information.
# - **Outliers**: `loss="soft_l1" | "huber" | "cauchy" | "arctan"` with
#   `f_scale`, exactly as `scipy.optimize.least_squares` defines them.
#
# Both work for one fit, a batch and shared-parameter groups in one call.
# Run: `python examples/poisson_counts.py` (`BATCHFIT_N` sets the batch size).

# %%
import os

import jax.numpy as jnp
import numpy as np

import batchfit as bf

N = int(os.environ.get("BATCHFIT_N", "1000"))
rng = np.random.default_rng(0)

# %% [markdown]
# ## N decay curves of low counts (means from 6 down to 0.2 per bin)

# %%
t = np.linspace(0.0, 10.0, 50)


def decay(t, amp, tau, bg):
    return amp * jnp.exp(-t / tau) + bg


truth = np.stack([rng.uniform(4, 8, N), rng.uniform(2, 4, N), rng.uniform(0.1, 0.3, N)], axis=1)
mean = truth[:, :1] * np.exp(-t / truth[:, 1:2]) + truth[:, 2:]
counts = rng.poisson(mean).astype(float)
print(f"{N} curves of {t.size} bins; {np.mean(counts == 0):.0%} of the bins hold 0 counts")

# %% [markdown]
# ## Maximum likelihood against least squares
#
# Least squares with the usual error bars of counts, `sigma = sqrt(d)`
# (Neyman's chi-square, `weights = 1/sqrt(max(d, 1))`), is biased where
# counts are few: a bin that fluctuated low gets a small sigma and pulls
# the model down. The Poisson fit is not. The pulls
# `(value - truth) / stderr` tell whether its error bars are honest: about
# 95 % should lie within 2.

# %%
model = bf.Model(decay)
params = model.make_params(amp=5.0, tau=3.0, bg={"value": 0.5, "min": 0.0})
mle = model.fit(counts, params, t=t, statistic="cstat")
lsq = model.fit(counts, params, t=t, weights=1.0 / np.sqrt(np.maximum(counts, 1.0)))
print(bf.fit_report(mle))
print(bf.fit_report(mle[0]))

pulls = {}
for j, name in enumerate(("amp", "tau", "bg")):
    v, se = mle.params[name].value, mle.params[name].stderr
    pulls[name] = (v - truth[:, j]) / se
    bias_mle = np.median(v - truth[:, j])
    bias_lsq = np.median(lsq.params[name].value - truth[:, j])
    print(f"{name:4s} median bias: cstat {bias_mle:+.4f}, Neyman least squares {bias_lsq:+.4f}; "
          f"cstat pulls within 2: {np.mean(np.abs(pulls[name]) < 2):.1%}")

# %% [markdown]
# ## Outliers: the same curves as Gaussian data with a few wild points

# %%
y = mean + rng.normal(0.0, 0.1, mean.shape)
bad = rng.random(mean.shape) < 0.05
y[bad] += rng.choice([-1.0, 1.0], bad.sum()) * rng.uniform(1, 3, bad.sum())
plain = model.fit(y, params, t=t)
robust = model.fit(y, params, t=t, loss="soft_l1", f_scale=0.2)
err_plain = np.median(np.abs(plain.params["tau"].value - truth[:, 1]))
err_robust = np.median(np.abs(robust.params["tau"].value - truth[:, 1]))
print(f"tau, median |error| with 5% outliers: least squares {err_plain:.4f}, soft_l1 {err_robust:.4f}")
print(bf.fit_report(robust[0]))

# %% [markdown]
# ## A group: the datasets share tau, each has its own amp and bg

# %%
K = 4
group = model.fit(counts[:K], params, t=t, statistic="cstat", shared=["tau"], group_solver="dense")
print(bf.fit_report(group))
