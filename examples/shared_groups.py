# %% [markdown]
# # Use case 1 with `shared=[...]`: the same fit, said once
#
# `examples/simultaneous_fit.py` fits MISSION use case 1 the lmfit way: two
# datasets, eight parameters, and three expressions (`cen_2 = cen_1`, ...)
# that tie the source parameters of the second dataset to the first. Here the
# same fit is written with `Model.fit(..., shared=["cen", "sigma", "amp"])`:
# one model of one dataset, a (K, m) data array, and the list of what the
# datasets share. Both reports are printed and the numbers compared.
#
# Run: `python examples/shared_groups.py`. The figure goes next to this file,
# or into the folder named by `BATCHFIT_FIGURE_DIR`.

# %%
import os

import jax.numpy as jnp
import numpy as np

import batchfit as bf
from batchfit.demo import use_case_1_params
from batchfit.data import two_gaussian_datasets

FIGURE_DIR = os.environ.get("BATCHFIT_FIGURE_DIR") or os.path.dirname(os.path.abspath(__file__))

# %% [markdown]
# ## The data: x (150,) and two spectra, data (2, 150)
#
# d_k(x) = G(x; cen=1, sigma=0.5, amp=10) + C_k + noise(0.5), C = (5, 2.5).

# %%
x, data = two_gaussian_datasets(seed=0)
print("data:", data.shape)

# %% [markdown]
# ## The group fit: one dataset's model, and which parameters are shared
#
# `const` is not listed, so it is per dataset: its start and bounds apply to
# each dataset, and its fitted value is an array of shape (K,) = (2,).

# %%
def peak(x, cen, sigma, amp, const):
    return amp * jnp.exp(-((x - cen) ** 2) / (2 * sigma**2)) + const


model = bf.Model(peak)
params = model.make_params(cen=dict(value=0.5, min=0, max=2), sigma=dict(value=1, min=0, max=10),
                           amp=dict(value=1, min=0, max=100), const=dict(value=0, min=0, max=100))
group = model.fit(data, params, x=x, shared=["cen", "sigma", "amp"])
print(bf.fit_report(group))

# %% [markdown]
# ## The same fit with expressions (lmfit's way, as in `simultaneous_fit.py`)

# %%
def objective(p, x, data):
    return jnp.concatenate([data[k] - peak(x, p[f"cen_{k + 1}"], p[f"sigma_{k + 1}"], p[f"amp_{k + 1}"],
                                           p[f"const_{k + 1}"]) for k in range(data.shape[0])])


# cen_k, sigma_k, amp_k, const_k with use case 1's starts and bounds, and
# cen_2 = cen_1, sigma_2 = sigma_1, amp_2 = amp_1 (the same helper feeds the demo)
tied = use_case_1_params(bf.Parameters())
flat = bf.minimize(objective, tied, args=(x, data))
print(bf.fit_report(flat))

# %% [markdown]
# ## The numbers agree
#
# Shared parameters against `<name>_1` of the tied fit, per-dataset `const`
# against `const_1`, `const_2`, and the fit statistics.

# %%
rows = []
for name in ("cen", "sigma", "amp"):
    p, q = group.params[name], flat.params[f"{name}_1"]
    rows.append((name, float(p.value), float(q.value), float(p.stderr), float(q.stderr)))
for k in range(2):
    p, q = group.params["const"], flat.params[f"const_{k + 1}"]
    rows.append((f"const[{k}]", float(p.value[k]), float(q.value), float(p.stderr[k]), float(q.stderr)))
for stat in ("chisqr", "redchi", "aic", "bic"):
    rows.append((stat, float(getattr(group, stat)), float(getattr(flat, stat)), np.nan, np.nan))

print(f"{'':10s} {'shared=':>14s} {'expressions':>14s} {'stderr':>11s} {'stderr':>11s}")
for name, a, b, ea, eb in rows:
    print(f"{name:10s} {a:14.8g} {b:14.8g} {ea:11.5g} {eb:11.5g}")
value_diff = max(abs(a - b) / abs(b) for _, a, b, _, _ in rows)
stderr_diff = max(abs(ea - eb) / eb for _, _, _, ea, eb in rows if np.isfinite(eb))
print(f"largest relative difference: values {value_diff:.1e}, standard errors {stderr_diff:.1e}")
print(f"variables: {group.nvarys} and {flat.nvarys}; data points: {group.ndata} and {flat.ndata}")

# %% [markdown]
# ## Both datasets with their fits, residuals below

# %%
import matplotlib  # noqa: E402

matplotlib.use("Agg")
fig = group.plot()
figure = os.path.join(FIGURE_DIR, "shared_groups.png")
fig.savefig(figure, dpi=100)
print(f"plot written to {figure}")
