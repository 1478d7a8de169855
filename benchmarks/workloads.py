"""Workloads of the benchmark suite: seeded data and models.

W1, W2, W3 are those of PERFORMANCE.md (shared project notes); W5 is one
dataset of 10^6-10^7 points. Every generator returns a :class:`Workload`
whose data has the run's dtype: float64, or for a float32 run the same
numbers rounded to float32 (what a float32 user holds; every system, peers
included, then fits the same data, and no float64 copy stays beside it).
The independent variables stay float64; the runner casts them.
Parameter order is ``names``.

Adding a workload is a generator ``make_wX(size, seed, dtype) -> Workload`` and one
:func:`register` call (see the end of this file)::

    register("W4", make_w4, sizes=(100,), seed=4, doc="global fit, shared parameters")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import jax.numpy as jnp
import numpy as np

SEEDS: dict = {}  # workload -> default seed (filled by register)


@dataclass
class Workload:
    name: str
    names: list  # parameter names, in the order of the columns of truth/start
    truth: np.ndarray  # (N, p)
    start: np.ndarray  # (N, p)
    data: np.ndarray  # (N, m) float64, or float32 for a float32 run
    indep: dict  # name -> (m,) float64, shared by every fit
    jax_func: Callable  # func(**indep, **params) traceable by JAX
    np_func: Callable  # same, numpy (for the looping peers)
    key: str  # headline parameter for the accuracy column
    abs_params: tuple = ()  # parameters defined up to sign (sigma^2, w^2)
    description: str = ""
    extra: dict = field(default_factory=dict)
    single: bool = False  # one dataset (N=1): batchfit is called with data of shape (m,)
    groups: dict | None = None  # shared-parameter groups: batchfit fits with Model.fit(shared=...)

    @property
    def n(self):
        return self.data.shape[0]

    def subset(self, k: int) -> "Workload":
        return Workload(self.name, self.names, self.truth[:k], self.start[:k], self.data[:k],
                        self.indep, self.jax_func, self.np_func, self.key, self.abs_params,
                        self.description, self.extra, self.single, self.groups)

    @property
    def m(self):
        return self.data.shape[1]

    def chi2(self, values: np.ndarray) -> np.ndarray:
        """Sum of squared residuals of each fit at ``values`` (k, p), for the
        first k fits (NaN where the values are not finite)."""
        k = len(values)
        out = np.empty(k)
        step = max(1, int(2e7 // max(self.m, 1)))  # bounded temporary memory
        with np.errstate(all="ignore"):
            for i in range(0, k, step):
                v = values[i:i + step]
                model = self.np_func(**self.indep, **{n: v[:, [j]] for j, n in enumerate(self.names)})
                out[i:i + len(v)] = np.sum((model - self.data[i:i + len(v)]) ** 2, axis=1)
        out[~np.isfinite(values).all(axis=1)] = np.nan
        return out

    def canonical(self, values: np.ndarray) -> np.ndarray:
        """Values (N, p) with sign-ambiguous parameters made positive."""
        v = np.array(values, dtype=float, copy=True)
        for n in self.abs_params:
            j = self.names.index(n)
            v[:, j] = np.abs(v[:, j])
        return v

    def accuracy(self, values: np.ndarray, success: np.ndarray) -> dict:
        """Accuracy against the truth (all fits, failed ones included)."""
        v = self.canonical(values)
        err = np.abs(v - self.truth)
        jk = self.names.index(self.key)
        with np.errstate(all="ignore"):
            rel = err[:, jk] / np.abs(self.truth[:, jk])
        out = {
            "frac_success": float(np.mean(success)),
            "n_nonfinite": int(np.sum(~np.isfinite(v).all(axis=1))),
            "median_abs_err": {n: float(np.nanmedian(err[:, j])) if np.isfinite(err[:, j]).any() else None
                               for j, n in enumerate(self.names)},
            "key": self.key,
            # relative error of the headline parameter (the centre) vs its generating value;
            # a fit with non-finite values counts as an infinite error in the max
            "key_rel_err_median": float(np.median(np.where(np.isfinite(rel), rel, np.inf))),
            "key_rel_err_max": float(np.max(np.where(np.isfinite(rel), rel, np.inf))),
        }
        out["median_abs_err_key"] = out["median_abs_err"][self.key]
        # A fit that ends with a larger sum of squares than the true parameters give has
        # certainly missed the global minimum (a local minimum, a stall or a divergence).
        chi_fit, chi_true = self.chi2(values), self.chi2(self.truth)
        worse = ~(chi_fit <= chi_true * (1 + 1e-9))
        out["n_worse_than_truth"] = int(worse.sum())
        out["n_worse_than_truth_reported_success"] = int((worse & success).sum())
        if self.name == "W2":  # PERFORMANCE.md: centre within 0.1 px and width within 10 %
            ix, iy, iw = (self.names.index(n) for n in ("x0", "y0", "w"))
            good = (err[:, ix] < 0.1) & (err[:, iy] < 0.1) & (err[:, iw] < 0.1 * self.truth[:, iw])
            out["frac_accurate"] = float(np.mean(good & np.isfinite(v).all(axis=1)))
        return out


# ---- W1: 1-D gaussian + constant ----------------------------------------------------------

def gauss_jax(x, amp, cen, sigma, c):
    return amp * jnp.exp(-(x - cen) ** 2 / (2 * sigma**2)) + c


def gauss_np(x, amp, cen, sigma, c):
    return amp * np.exp(-(x - cen) ** 2 / (2 * sigma**2)) + c


def _blockwise(np_func, x, truth, rng, noise, rows=1 << 14, dtype=np.float64):
    """``np_func(x, *truth.T) + rng.normal(0, noise)`` (N, m), made ``rows``
    datasets at a time: the same numbers as in one piece (the generator's
    normals are drawn in the same order), without (N, m) temporaries, so
    the benchmark's peak memory is the data's and batchfit's, not the
    generator's. Each block is computed in float64 and stored as ``dtype``."""
    out = np.empty((truth.shape[0], x.shape[0]), dtype)
    for i in range(0, truth.shape[0], rows):
        t = truth[i:i + rows]
        out[i:i + rows] = (np_func(x[None, :], *(t[:, [j]] for j in range(t.shape[1])))
                           + rng.normal(0.0, noise, (t.shape[0], x.shape[0])))
    return out


def make_w1(n: int, seed: int | None = None, dtype=np.float64) -> Workload:
    rng = np.random.default_rng(SEEDS["W1"] if seed is None else seed)
    x = np.linspace(0.0, 2.0, 100)
    amp = rng.uniform(5, 15, n)
    cen = rng.uniform(0.7, 1.3, n)
    sigma = rng.uniform(0.1, 0.4, n)
    c = rng.uniform(0, 5, n)
    truth = np.stack([amp, cen, sigma, c], axis=1)
    data = _blockwise(gauss_np, x, truth, rng, 0.5, dtype=dtype)
    start = truth * rng.uniform(0.8, 1.2, truth.shape)
    return Workload("W1", ["amp", "cen", "sigma", "c"], truth, start, data, {"x": x},
                    gauss_jax, gauss_np, key="cen", abs_params=("sigma",),
                    description="1-D gaussian + constant, 4 params, 100 points, noise sd 0.5")


# ---- W2: 2-D gaussian spot on 15 x 15 pixels, Poisson noise -------------------------------
# Independent variables x (column index) and y (row index), as PERFORMANCE.md names them.

def spot_jax(x, y, amp, x0, y0, w, bg):
    return amp * jnp.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * w**2)) + bg


def spot_np(x, y, amp, x0, y0, w, bg):
    return amp * np.exp(-((x - x0) ** 2 + (y - y0) ** 2) / (2 * w**2)) + bg


def make_w2(n: int, seed: int | None = None, dtype=np.float64) -> Workload:
    rng = np.random.default_rng(SEEDS["W2"] if seed is None else seed)
    row, col = np.mgrid[0:15, 0:15]
    x, y = col.ravel().astype(float), row.ravel().astype(float)  # x = column, y = row index
    amp = rng.uniform(500, 2000, n)
    x0 = rng.uniform(6, 8, n)
    y0 = rng.uniform(6, 8, n)
    w = rng.uniform(1.5, 2.5, n)
    bg = rng.uniform(5, 20, n)
    truth = np.stack([amp, x0, y0, w, bg], axis=1)
    lam = spot_np(x[None], y[None], *(t[:, None] for t in truth.T))
    data = rng.poisson(lam).astype(dtype)  # counts: exact in float32 too
    start = truth * rng.uniform(0.9, 1.1, truth.shape)
    return Workload("W2", ["amp", "x0", "y0", "w", "bg"], truth, start, data, {"x": x, "y": y},
                    spot_jax, spot_np, key="x0", abs_params=("w",),
                    description="2-D gaussian spot, 5 params, 15x15 pixels, Poisson noise, least squares")


# ---- W3: groups of K=4 datasets sharing amp, cen, sigma; one constant each ---------------
# PERFORMANCE.md fixes only the structure (G groups, K=4, 150 points, 7 params); the
# ranges, x grid, noise and start factors below are W1's.

K3, M3 = 4, 150


def group_jax(x, k, amp, cen, sigma, c0, c1, c2, c3):
    c = jnp.where(k == 0, c0, jnp.where(k == 1, c1, jnp.where(k == 2, c2, c3)))
    return amp * jnp.exp(-(x - cen) ** 2 / (2 * sigma**2)) + c


def group_np(x, k, amp, cen, sigma, c0, c1, c2, c3):
    c = np.choose(k.astype(int), [c0, c1, c2, c3])
    return amp * np.exp(-(x - cen) ** 2 / (2 * sigma**2)) + c


def member_jax(x, amp, cen, sigma, c):
    return amp * jnp.exp(-(x - cen) ** 2 / (2 * sigma**2)) + c


def make_w3(n: int, seed: int | None = None, dtype=np.float64) -> Workload:
    rng = np.random.default_rng(SEEDS["W3"] if seed is None else seed)
    x1 = np.linspace(0.0, 2.0, M3)
    x = np.tile(x1, K3)
    k = np.repeat(np.arange(K3), M3).astype(float)
    amp = rng.uniform(5, 15, n)
    cen = rng.uniform(0.7, 1.3, n)
    sigma = rng.uniform(0.1, 0.4, n)
    cs = rng.uniform(0, 5, (n, K3))
    truth = np.column_stack([amp, cen, sigma, cs])
    clean = group_np(x[None], k[None], *(t[:, None] for t in truth.T))
    data = (clean + rng.normal(0.0, 0.5, clean.shape)).astype(dtype, copy=False)
    start = truth * rng.uniform(0.8, 1.2, truth.shape)
    return Workload("W3", ["amp", "cen", "sigma", "c0", "c1", "c2", "c3"], truth, start, data,
                    {"x": x, "k": k}, group_jax, group_np, key="cen", abs_params=("sigma",),
                    description="groups of 4 datasets x 150 points, amp/cen/sigma shared, "
                                "one constant per dataset (7 params, 600 residuals); one 'fit' = one group",
                    groups={"K": K3, "x": x1, "func": member_jax, "shared": ["amp", "cen", "sigma"],
                            "local": "c"})


# ---- W5: one dataset of 10^6 - 10^7 points, gaussian + constant --------------------------

def make_w5(m: int, seed: int | None = None, dtype=np.float64) -> Workload:
    """One dataset of ``m`` points (the size of W5 is its number of points): W1's model,
    x on [0, 2], parameters drawn once from W1's ranges, noise sd 0.5, start = truth *
    U[0.8, 1.2]."""
    rng = np.random.default_rng(SEEDS["W5"] if seed is None else seed)
    m = int(m)
    x = np.linspace(0.0, 2.0, m)
    truth = np.array([[rng.uniform(5, 15), rng.uniform(0.7, 1.3), rng.uniform(0.1, 0.4),
                       rng.uniform(0, 5)]])
    data = (gauss_np(x, *truth[0]) + rng.normal(0.0, 0.5, m)).astype(dtype, copy=False)
    start = truth * rng.uniform(0.8, 1.2, truth.shape)
    return Workload("W5", ["amp", "cen", "sigma", "c"], truth, start, data[None, :], {"x": x},
                    gauss_jax, gauss_np, key="cen", abs_params=("sigma",), single=True,
                    description=f"one dataset of {m:,} points, 1-D gaussian + constant, 4 params")


# ---- registry -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Spec:
    """How the runner drives a workload."""

    make: Callable  # make(size, seed, dtype) -> Workload
    sizes: tuple  # default sizes
    size_name: str = "N"  # "N" (number of fits) or "m" (points of the one dataset)
    peers: tuple = ("scipy", "lmfit")  # default peers
    doc: str = ""


REGISTRY: dict = {}


def register(name: str, make: Callable, *, sizes, seed: int, size_name: str = "N",
             peers=("scipy", "lmfit"), doc: str = ""):
    """Make workload ``name`` known to the runner (``--workload name``)."""
    REGISTRY[name] = Spec(make, tuple(sizes), size_name, tuple(peers), doc)
    SEEDS[name] = seed


register("W1", make_w1, sizes=(10_000,), seed=1, doc="N fits of a 1-D gaussian + constant")
register("W2", make_w2, sizes=(10_000,), seed=2, doc="N 2-D gaussian spots, 15x15 pixels")
register("W3", make_w3, sizes=(10_000,), seed=3, doc="N groups of 4 datasets sharing 3 of 7 params")
register("W5", make_w5, sizes=(1_000_000,), seed=5, size_name="m", peers=("curve_fit", "nlsq"),
         doc="one dataset of m points vs scipy.optimize.curve_fit")


def make(name: str, size: int, seed: int | None = None, dtype="float64") -> Workload:
    """Workload ``name`` of the given size (N fits, or m points for W5), its
    data in ``dtype`` (float32: the float64 numbers rounded)."""
    return REGISTRY[name].make(int(size), seed, np.dtype(dtype))
